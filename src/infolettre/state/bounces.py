"""Bounce records and suspended addresses, in the state database (tables ``rebonds`` and
``suppressions``, component ``rebonds``).

A bounce record is one recipient a bounce (or the ledger's own 5xx answer) named for one
issue: its kind (``definitif``, ``temporaire``, ``a-verifier``), the server's words cut to
500 characters, when it came and which message said it (``cle``: a bounce's Message-ID,
or the ledger row's key), so a bounce read twice (a run interrupted before the message was
filed) is recorded once. A suspension is the decision those records led to: the address is
not mailed again until a person reactivates it. It is kept apart from unsubscribes: an
unsubscribe is a person's decision, a suspension a mail server's, and a person may lift it.

Reactivating an address marks its records ``annule``: they no longer count, so the count
starts again from the next issue. Records are deleted after ``[rebonds]
conservation_jours`` (Law 25, ``purge``); suspensions stay (they are what stops the mail).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from .database import migrate

COMPONENT = "rebonds"
KINDS = ("definitif", "temporaire", "a-verifier")
REASONS = ("definitif", "temporaires", "manuel")
ACTIVE, CANCELLED = "actif", "annule"          # a record
SUSPENDED, REACTIVATED = "suspendue", "reactivee"  # a suspension
DIAGNOSTIC_CHARS = 500
MIGRATIONS = ["""
CREATE TABLE rebonds (
    courriel TEXT NOT NULL,          -- lowercased
    mois TEXT NOT NULL,              -- the issue, AAAA-MM
    genre TEXT NOT NULL CHECK (genre IN ('definitif', 'temporaire', 'a-verifier')),
    statut TEXT NOT NULL DEFAULT 'actif' CHECK (statut IN ('actif', 'annule')),
    code TEXT,                       -- enhanced status code, 5.1.1
    diagnostic TEXT NOT NULL DEFAULT '',
    recu TEXT NOT NULL,              -- ISO time it was read (UTC)
    cle TEXT NOT NULL,               -- Message-ID of the bounce, or registre:<mois>:<edition>
    source TEXT NOT NULL CHECK (source IN ('courriel', 'registre')),
    PRIMARY KEY (cle, courriel)
);
CREATE INDEX rebonds_courriel ON rebonds (courriel, mois);
CREATE INDEX rebonds_mois ON rebonds (mois);
CREATE TABLE suppressions (
    courriel TEXT PRIMARY KEY,
    raison TEXT NOT NULL CHECK (raison IN ('definitif', 'temporaires', 'manuel')),
    depuis TEXT NOT NULL,            -- ISO time (UTC)
    mois TEXT,                       -- the issue whose bounce decided it
    statut TEXT NOT NULL CHECK (statut IN ('suspendue', 'reactivee')),
    diagnostic TEXT NOT NULL DEFAULT '',
    reactivee_par TEXT, reactivee_le TEXT
) WITHOUT ROWID
"""]


@dataclass(frozen=True)
class BounceRecord:
    """One recipient named by one bounce (or a 5xx of the ledger) for one issue."""

    email: str
    month: str
    kind: str                  # definitif | temporaire | a-verifier
    key: str                   # Message-ID of the bounce, or registre:<mois>:<edition>
    received: datetime
    code: str | None = None
    diagnostic: str = ""
    source: str = "courriel"   # courriel | registre
    status: str = ACTIVE


@dataclass(frozen=True)
class Suppression:
    """A suspended (or reactivated) address, with why, since when, and the server's words."""

    email: str
    reason: str                # definitif | temporaires | manuel
    since: datetime
    month: str | None
    status: str                # suspendue | reactivee
    diagnostic: str = ""
    reactivated_by: str | None = None
    reactivated_at: datetime | None = None

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _iso(moment: datetime) -> str:
    """The stored form of a moment: ISO 8601 in UTC, to the second (like the ledger's)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class BounceStore:
    """The bounce records and suspensions of the state database (module docstring)."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        self.conn, self.clock = conn, clock
        migrate(conn, COMPONENT, MIGRATIONS)

    # -- records ------------------------------------------------------------------------

    def record(self, record: BounceRecord) -> bool:
        """Keep one bounce record; False when that bounce already named that address."""
        if record.kind not in KINDS:
            raise ValueError(f"genre de rebond inconnu : {record.kind!r}")
        cursor = self.conn.execute(
            "INSERT INTO rebonds (courriel, mois, genre, statut, code, diagnostic, recu, cle, "
            "source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cle, courriel) DO NOTHING",
            (record.email.lower(), record.month, record.kind, record.status, record.code,
             record.diagnostic[:DIAGNOSTIC_CHARS], _iso(record.received), record.key,
             record.source))
        return cursor.rowcount == 1

    def records(self, *, email: str | None = None, month: str | None = None,
                active: bool = False) -> list[BounceRecord]:
        """Return the records of an address and/or an issue, oldest issue first."""
        where, args = [], []
        if email is not None:
            where.append("courriel = ?")
            args.append(email.lower())
        if month is not None:
            where.append("mois = ?")
            args.append(month)
        if active:
            where.append("statut = 'actif'")
        sql = "SELECT * FROM rebonds" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.conn.execute(sql + " ORDER BY mois, recu, courriel", args).fetchall()
        return [BounceRecord(r["courriel"], r["mois"], r["genre"], r["cle"],
                             datetime.fromisoformat(r["recu"]), r["code"], r["diagnostic"],
                             r["source"], r["statut"]) for r in rows]

    def known(self, key: str) -> bool:
        """Tell whether a bounce with this key was recorded already (for any address)."""
        return self.conn.execute("SELECT 1 FROM rebonds WHERE cle = ? LIMIT 1",
                                 (key,)).fetchone() is not None

    def purge(self, before: datetime) -> int:
        """Delete the records read before ``before`` (retention); return how many."""
        return self.conn.execute("DELETE FROM rebonds WHERE recu < ?",
                                 (_iso(before),)).rowcount

    # -- suspensions ----------------------------------------------------------------------

    def suspend(self, email: str, reason: str, month: str | None, diagnostic: str = "",
                when: datetime | None = None) -> bool:
        """Suspend ``email``; False when it already is (its first reason is kept)."""
        if reason not in REASONS:
            raise ValueError(f"raison de suspension inconnue : {reason!r}")
        email, when = email.lower(), when or self.clock.now()
        cursor = self.conn.execute(
            "INSERT INTO suppressions (courriel, raison, depuis, mois, statut, diagnostic) "
            "VALUES (?, ?, ?, ?, 'suspendue', ?) ON CONFLICT (courriel) DO UPDATE SET "
            "raison = excluded.raison, depuis = excluded.depuis, mois = excluded.mois, "
            "statut = 'suspendue', diagnostic = excluded.diagnostic, reactivee_par = NULL, "
            "reactivee_le = NULL WHERE suppressions.statut != 'suspendue'",
            (email, reason, _iso(when), month, diagnostic[:DIAGNOSTIC_CHARS]))
        return cursor.rowcount == 1

    def reactivate(self, email: str, by: str, when: datetime | None = None) -> bool:
        """Lift a suspension and cancel the address's records; False if not suspended."""
        email, when = email.lower(), when or self.clock.now()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            changed = self.conn.execute(
                "UPDATE suppressions SET statut = 'reactivee', reactivee_par = ?, "
                "reactivee_le = ? WHERE courriel = ? AND statut = 'suspendue'",
                (by, _iso(when), email)).rowcount
            if changed:
                self.conn.execute("UPDATE rebonds SET statut = 'annule' WHERE courriel = ?",
                                  (email,))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return bool(changed)

    def suspension(self, email: str) -> Suppression | None:
        row = self.conn.execute("SELECT * FROM suppressions WHERE courriel = ?",
                                (email.lower(),)).fetchone()
        return _suppression(row) if row else None

    def is_suspended(self, email: str) -> bool:
        return self.conn.execute(
            "SELECT 1 FROM suppressions WHERE courriel = ? AND statut = 'suspendue'",
            (email.strip().lower(),)).fetchone() is not None

    def suppressions(self, *, all_: bool = False) -> list[Suppression]:
        """Return the suspended addresses (``all_``: the reactivated ones too), newest first."""
        sql = "SELECT * FROM suppressions" + ("" if all_ else " WHERE statut = 'suspendue'")
        return [_suppression(r) for r in self.conn.execute(sql + " ORDER BY depuis DESC, "
                                                                 "courriel")]

    def filter(self, recipients: Iterable[Any],
               on_skip: Callable[[Any], None] | None = None) -> Iterator[Any]:
        """Yield the recipients (anything with ``.email``) whose address is not suspended.

        Looked up one at a time, like ``UnsubscribeStore.filter``: the list is never loaded.
        """
        for recipient in recipients:
            if self.is_suspended(recipient.email):
                if on_skip:
                    on_skip(recipient)
            else:
                yield recipient


def _suppression(row: sqlite3.Row) -> Suppression:
    return Suppression(row["courriel"], row["raison"], datetime.fromisoformat(row["depuis"]),
                       row["mois"], row["statut"], row["diagnostic"], row["reactivee_par"],
                       _time(row["reactivee_le"]))

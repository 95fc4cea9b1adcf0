"""The record of who unsubscribed: a journal beside the state database, indexed in it.

The journal (``<donnees>/desabonnements.jsonl``, ``state.journal``) is the record and always
wins: every address in it is unsubscribed. The table ``desabonnements`` of the state
database is its index, for fast lookups during a send. An unsubscribe is appended to the
journal (fsync) first, then to the table; opening the store completes the table from the
journal (a database deleted, restored from an older copy, or a crash between the two
writes) and the journal from the table (addresses recorded before the journal existed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..i18n import _
from ..state.journal import Journal
from ..models import Recipient
from ..state import migrate
from .tokens import normalize_email, verify_token


SOURCES = ("lien", "courriel", "pivot")
JOURNAL_FILE = "desabonnements.jsonl"
GENRE = "desabonnement"
MIGRATIONS = [
    ("CREATE TABLE desabonnements ("
     " courriel TEXT PRIMARY KEY,"
     " quand TEXT NOT NULL,"
     " source TEXT NOT NULL CHECK (source IN ('lien', 'courriel', 'pivot'))"
     ") WITHOUT ROWID"),
]


class UnsubscribeStore:
    """Unsubscribed addresses (lowercased), with when and how they left.

    Open it on the state database (``state.connect(state.state_file(donnees))``); its
    journal is ``desabonnements.jsonl`` beside the database file, unless ``journal`` names
    another. The first unsubscribe of an address is kept; later ones change nothing.
    """

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK,
                 journal: Path | None = None):
        self.conn = conn
        self.clock = clock
        migrate(conn, "desabonnements", MIGRATIONS)
        path = journal or _beside_database(conn)
        self.journal = Journal(path) if path else None
        self.restored = self._reconcile()

    def add(self, email: str, source: str, when: datetime | None = None) -> bool:
        """Record that ``email`` unsubscribed (journal first, then table); False if it had."""
        if source not in SOURCES:
            raise ValueError(_("source de désabonnement inconnue : {source!r} (attendu : "
                               "{choices}).").format(source=source, choices=", ".join(SOURCES)))
        email = normalize_email(email)
        if self.contains(email):
            return False
        when = (when or self.clock.now()).isoformat(timespec="seconds")
        if self.journal is not None:
            self.journal.append(GENRE, courriel=email, quand=when, source=source)
        cursor = self.conn.execute(
            "INSERT INTO desabonnements (courriel, quand, source) VALUES (?, ?, ?) "
            "ON CONFLICT (courriel) DO NOTHING", (email, when, source))
        return cursor.rowcount == 1

    def _reconcile(self) -> int:
        """Make table and journal hold the same addresses; return how many the table lacked.

        The journal wins: an address in it is added to the table (the database was lost,
        restored from an older copy, or a run stopped between the two writes). An address
        only in the table (recorded before the journal existed) is added to the journal.
        """
        if self.journal is None:
            return 0
        journaled: dict[str, tuple[str, str]] = {}
        for entry in self.journal.entries(GENRE):
            email = normalize_email(str(entry.get("courriel", "")))
            if email and email not in journaled:
                source = entry.get("source") if entry.get("source") in SOURCES else "pivot"
                journaled[email] = (str(entry.get("quand") or ""), source)
        rows = self.conn.execute("SELECT courriel, quand, source FROM desabonnements "
                                 "ORDER BY quand, courriel").fetchall()
        for email, when, source in rows:
            if email not in journaled:
                self.journal.append(GENRE, courriel=email, quand=when, source=source)
        indexed = {row[0] for row in rows}
        now = self.clock.now().isoformat(timespec="seconds")
        missing = [(email, when or now, source)
                   for email, (when, source) in journaled.items() if email not in indexed]
        if missing:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany(
                    "INSERT INTO desabonnements (courriel, quand, source) VALUES (?, ?, ?) "
                    "ON CONFLICT (courriel) DO NOTHING", missing)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        return len(missing)

    def contains(self, email: str) -> bool:
        """Tell whether ``email`` unsubscribed (case-insensitive)."""
        return self.conn.execute("SELECT 1 FROM desabonnements WHERE courriel = ?",
                                 (normalize_email(email),)).fetchone() is not None

    def filter(self, recipients: Iterable[Recipient],
               on_skip: Callable[[Recipient], None] | None = None) -> Iterator[Recipient]:
        """Yield the recipients still subscribed, one at a time (the list is never loaded).

        Each address is looked up as it passes, so an unsubscribe recorded during a long
        send is honoured for the recipients not reached yet. ``on_skip`` sees the others.
        """
        for recipient in recipients:
            if self.contains(recipient.email):
                if on_skip:
                    on_skip(recipient)
            else:
                yield recipient

    def count(self) -> int:
        """Return the number of unsubscribed addresses."""
        return self.conn.execute("SELECT count(*) FROM desabonnements").fetchone()[0]


def _beside_database(conn: sqlite3.Connection) -> Path | None:
    """Return the journal's path beside the database file (None for a database in memory)."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2]).parent / JOURNAL_FILE
    return None


def process_unsubscribe_token(store: UnsubscribeStore, secret: bytes, token: str,
                              source: str = "lien") -> str | None:
    """Unsubscribe the address a genuine token names; return it, or None if forged.

    The one function the web endpoint calls (its POST). Using a token twice is harmless.
    """
    email = verify_token(secret, token)
    if email is not None:
        store.add(email, source)
    return email



"""What the scheduler did: one row per (step, issue), and each notice sent, in the state.

A step of an issue (the call for news of January 2027, its send) has the issue's month as
key; a recurring step (mail reading, backup) has one row for the whole series. Each row
keeps the scheduled time of the last occurrence run (``prevu``), its status and message,
and the failures in a row (a reading that fails every 15 minutes tells the pivot once,
not 96 times a day). ``tried`` is the rule « never twice »: an occurrence is done when
its issue's step is « fait », or when an occurrence at that time or later was run.

A row « en cours » seen by the scheduler, which holds its own lock, was left by a
scheduler that died in the middle: the step runs again (each step is idempotent: the
send resumes from its ledger, and a notice records each address it reached in
``etapes_avis``, so only the one in flight at the crash could be sent twice).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from ..clock import SYSTEM_CLOCK, Clock
from .database import migrate

DONE, WAITING, FAILED, OK, RUNNING, BUSY = "fait", "attente", "echec", "ok", "en_cours", "occupe"
SCHEMA = ["""
CREATE TABLE etapes (
    etape TEXT NOT NULL,        -- courriel, flux, appel, rappel, tombee, envoi, reprise…
    occurrence TEXT NOT NULL,   -- the issue's month, or « continu » for a recurring step
    prevu TEXT,                 -- UTC time of the last occurrence run
    statut TEXT NOT NULL,       -- fait | ok | attente | echec | en_cours | occupe
    debut TEXT, fin TEXT,       -- UTC, when the last run started and ended
    message TEXT,               -- what it did or why it failed, in French
    echecs INTEGER NOT NULL DEFAULT 0,  -- failures in a row
    PRIMARY KEY (etape, occurrence)
);
CREATE TABLE etapes_avis (
    etape TEXT NOT NULL, occurrence TEXT NOT NULL,
    adresse TEXT NOT NULL,      -- lowercased
    envoye_le TEXT NOT NULL,
    PRIMARY KEY (etape, occurrence, adresse)
)
"""]


@dataclass(frozen=True)
class StepRecord:
    """The last run of a step for one issue (or for its series)."""

    step: str
    key: str
    planned: datetime | None
    status: str
    started: datetime | None
    ended: datetime | None
    message: str
    failures: int


class StepStore:
    """The ``etapes`` tables of the state database."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        migrate(conn, "etapes", SCHEMA)
        self.conn = conn
        self.clock = clock

    def get(self, step: str, key: str) -> StepRecord | None:
        row = self.conn.execute("SELECT * FROM etapes WHERE etape = ? AND occurrence = ?",
                                (step, key)).fetchone()
        return _record(row) if row else None

    def all(self) -> list[StepRecord]:
        """Return every record, the latest run first."""
        return [_record(r) for r in self.conn.execute(
            "SELECT * FROM etapes ORDER BY COALESCE(debut, '') DESC, etape")]

    def tried(self, step: str, key: str, planned: datetime) -> bool:
        """Tell whether the occurrence planned at ``planned`` already ran (never twice)."""
        record = self.get(step, key)
        if record is None or record.status in (RUNNING, BUSY):
            return False
        return record.status == DONE or (record.planned is not None
                                         and record.planned >= planned)

    def begin(self, step: str, key: str, planned: datetime) -> StepRecord | None:
        """Record that the occurrence starts; return the record it replaces."""
        before = self.get(step, key)
        now = _iso(self.clock.now())
        with self.conn:
            self.conn.execute(
                "INSERT INTO etapes (etape, occurrence, prevu, statut, debut, fin, message) "
                "VALUES (?, ?, ?, ?, ?, NULL, '') ON CONFLICT (etape, occurrence) DO UPDATE "
                "SET statut = excluded.statut, debut = excluded.debut, fin = NULL",
                (step, key, _iso(planned), RUNNING, now))
        return before

    def finish(self, step: str, key: str, planned: datetime | None, status: str,
               message: str) -> int:
        """Record how the occurrence ended; return the failures in a row, this one included.

        « occupe » (another run held the data folder) keeps the previous ``prevu``: the
        occurrence is not counted as run and is tried again at the next sweep.
        """
        with self.conn:
            row = self.conn.execute("SELECT echecs FROM etapes WHERE etape = ? AND "
                                    "occurrence = ?", (step, key)).fetchone()
            failures = (row[0] if row else 0) + 1 if status == FAILED else 0
            if status == BUSY:
                failures = row[0] if row else 0
            self.conn.execute(
                "UPDATE etapes SET statut = ?, fin = ?, message = ?, echecs = ?"
                + ("" if status == BUSY else ", prevu = ?")
                + " WHERE etape = ? AND occurrence = ?",
                (status, _iso(self.clock.now()), message, failures,
                 *(() if status == BUSY else (_iso(planned),)), step, key))
        return failures

    def notified(self, step: str, key: str) -> set[str]:
        """Return the addresses that already got this occurrence's notice."""
        return {r[0] for r in self.conn.execute(
            "SELECT adresse FROM etapes_avis WHERE etape = ? AND occurrence = ?", (step, key))}

    def mark_notified(self, step: str, key: str, address: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO etapes_avis VALUES (?, ?, ?, ?)",
                              (step, key, address.lower(), _iso(self.clock.now())))


def _record(row: sqlite3.Row) -> StepRecord:
    return StepRecord(row["etape"], row["occurrence"], _parse(row["prevu"]), row["statut"],
                      _parse(row["debut"]), _parse(row["fin"]), row["message"] or "",
                      row["echecs"])


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None

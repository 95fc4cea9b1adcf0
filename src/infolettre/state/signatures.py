"""The sign-offs of issues: one row per approval, kept (table ``signatures``).

The review stage decides what an approval covers (``review.signoff``: the fingerprint of
what readers will see, and the refusal of a changed issue); this module only keeps the
rows, so that the foundation (which issue is still open for new items, ``issues``) can read
them without reaching into a stage.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from ..clock import SYSTEM_CLOCK, Clock
from .database import migrate

MIGRATIONS = [
    """
    CREATE TABLE signatures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        month TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        settings_fingerprint TEXT NOT NULL,
        item_fingerprints TEXT NOT NULL,
        items_count INTEGER NOT NULL,
        signed_at TEXT NOT NULL,
        signed_by TEXT NOT NULL
    );
    CREATE INDEX signatures_by_month ON signatures (month, id)
    """,
]


@dataclass(frozen=True)
class ItemPrint:
    """The fingerprint of one item, with its title to name it in a refusal."""

    slug: str
    titre: str
    digest: str


@dataclass(frozen=True)
class Fingerprint:
    """An issue's fingerprint, and the parts a refusal compares to say what changed."""

    month: str
    digest: str
    settings_digest: str  # month, parution and the settings readers see
    items: tuple[ItemPrint, ...]


@dataclass(frozen=True)
class Signoff:
    """One approval, as recorded."""

    month: str
    fingerprint: str
    settings_fingerprint: str
    items: tuple[ItemPrint, ...]
    items_count: int
    signed_at: datetime
    signed_by: str


class SignoffStore:
    """The ``signatures`` table of the state database: one row per approval, kept."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        self.conn = conn
        self.clock = clock
        migrate(conn, "signatures", MIGRATIONS)

    def approve(self, month: str, fingerprint: Fingerprint, by: str,
                when: datetime | None = None) -> Signoff:
        """Record that ``by`` approved the issue as fingerprinted; it replaces earlier ones."""
        if fingerprint.month != month:
            raise ValueError(f"fingerprint of {fingerprint.month} given for {month}")
        when = (when or self.clock.now()).astimezone(UTC)
        prints = json.dumps([asdict(p) for p in fingerprint.items], ensure_ascii=False)
        self.conn.execute(
            "INSERT INTO signatures (month, fingerprint, settings_fingerprint, "
            "item_fingerprints, items_count, signed_at, signed_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (month, fingerprint.digest, fingerprint.settings_digest, prints,
             len(fingerprint.items), when.isoformat(), by.strip()))
        return self.current(month)

    def current(self, month: str) -> Signoff | None:
        """Return the approval in force for ``month`` (the latest), or None."""
        row = self.conn.execute("SELECT * FROM signatures WHERE month = ? ORDER BY id DESC "
                                "LIMIT 1", (month,)).fetchone()
        return _signoff(row) if row else None

    def signed_months(self, since: str = "") -> set[str]:
        """Return the months (from ``since`` on) that have been signed off at least once."""
        rows = self.conn.execute("SELECT DISTINCT month FROM signatures WHERE month >= ?",
                                 (since,)).fetchall()
        return {row[0] for row in rows}

    def history(self, month: str) -> list[Signoff]:
        """Return every approval of ``month``, oldest first."""
        rows = self.conn.execute("SELECT * FROM signatures WHERE month = ? ORDER BY id",
                                 (month,)).fetchall()
        return [_signoff(r) for r in rows]


def _signoff(row: sqlite3.Row) -> Signoff:
    items = tuple(ItemPrint(**p) for p in json.loads(row["item_fingerprints"]))
    return Signoff(row["month"], row["fingerprint"], row["settings_fingerprint"], items,
                   row["items_count"], datetime.fromisoformat(row["signed_at"]),
                   row["signed_by"])

"""The review journal: who did what to which item, and when (append-only).

Every action of the review app on an item (approve, refuse with its reason, edit with the
fields changed, move to another month) adds one row; the item's page shows them, newest
first. Rows are never updated nor deleted: the table is a journal, not a status.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from .database import migrate

COMPONENT = "revision"
SCHEMA = ["""
CREATE TABLE journal_revision (
    quand TEXT NOT NULL,      -- UTC, ISO 8601
    qui TEXT NOT NULL,        -- the account's address
    mois TEXT NOT NULL,       -- AAAA-MM of the item when the action was done
    nouvelle TEXT NOT NULL,   -- the item's slug
    action TEXT NOT NULL,     -- approuve | refuse | modifie | deplace
    detail TEXT NOT NULL      -- JSON: the reason, the fields changed, the new month…
);
CREATE INDEX journal_revision_nouvelle ON journal_revision (nouvelle, mois)
"""]


@dataclass(frozen=True)
class AuditRow:
    """One recorded action on one item."""

    when: datetime
    who: str
    month: str
    slug: str
    action: str
    detail: dict[str, Any]


class AuditLog:
    """The append-only journal of review actions, in the state database."""

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        migrate(conn, COMPONENT, SCHEMA)
        self.conn, self.clock = conn, clock

    def record(self, who: str, month: str, slug: str, action: str,
               detail: dict[str, Any] | None = None) -> None:
        """Append one row (committed at once: a journal entry is never left pending)."""
        when = self.clock.now().astimezone(UTC).isoformat(timespec="seconds")
        with self.conn:
            self.conn.execute(
                "INSERT INTO journal_revision (quand, qui, mois, nouvelle, action, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (when, who, month, slug, action, json.dumps(detail or {}, ensure_ascii=False)))

    def history(self, slug: str, months: tuple[str, ...] = ()) -> list[AuditRow]:
        """Return the rows of one item (in any of ``months``, or all), newest first."""
        query = "SELECT quand, qui, mois, nouvelle, action, detail FROM journal_revision " \
                "WHERE nouvelle = ?"
        args: list[Any] = [slug]
        if months:
            query += f" AND mois IN ({', '.join('?' * len(months))})"
            args.extend(months)
        rows = self.conn.execute(query + " ORDER BY quand DESC, rowid DESC", args).fetchall()
        return [AuditRow(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5]))
                for r in rows]

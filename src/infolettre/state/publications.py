"""What was published on the web archive: each issue, and each item as it was (a snapshot).

The site is regenerated whole from these rows, never from ``content/``: a file edited
after its issue was published, and not approved and published again, changes nothing
online. Each item keeps the day it was first published (its permalink's date, which never
changes), the day of its last correction, and the day it was withdrawn, if a republished
issue no longer carries it (its page then says so, without the text).

The snapshot is the ``Item``'s public fields as JSON (never its path on this machine);
its digest tells a correction from a republication of the same text. Times are UTC ISO.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..models import Event, Item, Source, Status
from .database import migrate

SCHEMA = ["""
CREATE TABLE publications (
    month TEXT PRIMARY KEY,
    parution TEXT NOT NULL,            -- the issue's date (ISO), as published
    first_published_at TEXT NOT NULL,  -- UTC
    last_published_at TEXT NOT NULL    -- UTC
);
CREATE TABLE publication_items (
    month TEXT NOT NULL,
    slug TEXT NOT NULL,
    snapshot TEXT NOT NULL,            -- JSON of the item's public fields
    digest TEXT NOT NULL,              -- SHA-256 of the snapshot
    published_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    PRIMARY KEY (month, slug)
)
"""]


@dataclass(frozen=True)
class Counts:
    """What one publication changed: items new, corrected, withdrawn, and the same."""

    new: int = 0
    corrected: int = 0
    withdrawn: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class StoredItem:
    """One item as published, with its dates (aware, UTC)."""

    item: Item
    published_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class StoredIssue:
    """One published issue and every item it ever carried (withdrawn ones too)."""

    month: str
    parution: date
    first_published_at: datetime
    last_published_at: datetime
    items: tuple[StoredItem, ...]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def snapshot(item: Item) -> dict[str, Any]:
    """Return the item's public fields as plain values (no path: it is not public)."""
    event = item.evenement
    return {
        "slug": item.slug, "month": item.month, "titre": item.titre,
        "organisme": item.organisme, "territoire": item.territoire, "rubrique": item.rubrique,
        "date": _iso(item.date), "corps": item.corps, "statut": item.statut.value,
        "source": item.source.value,
        "evenement": None if event is None else {
            "debut": _iso(event.debut), "fin": _iso(event.fin), "lieu": event.lieu},
        "echeance": _iso(item.echeance), "lien": item.lien, "image": item.image,
        "image_alt": item.image_alt,
    }


def from_snapshot(data: dict[str, Any]) -> Item:
    """Rebuild the ``Item`` of a snapshot (without a path)."""
    event = data.get("evenement")
    return Item(
        slug=data["slug"], month=data["month"], titre=data["titre"],
        organisme=data["organisme"], territoire=data["territoire"], rubrique=data["rubrique"],
        date=date.fromisoformat(data["date"]), corps=data.get("corps", ""),
        statut=Status(data.get("statut", Status.APPROVED.value)),
        source=Source(data.get("source", Source.FILE.value)),
        evenement=None if event is None else Event(
            debut=datetime.fromisoformat(event["debut"]),
            fin=datetime.fromisoformat(event["fin"]) if event.get("fin") else None,
            lieu=event.get("lieu")),
        echeance=date.fromisoformat(data["echeance"]) if data.get("echeance") else None,
        lien=data.get("lien"), image=data.get("image"), image_alt=data.get("image_alt"))


def _encode(item: Item) -> tuple[str, str]:
    text = json.dumps(snapshot(item), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


class PublicationStore:
    """The ``publications`` tables of the state database."""

    def __init__(self, conn: sqlite3.Connection):
        migrate(conn, "publications", SCHEMA)
        self.conn = conn

    def record(self, month: str, parution: date, items: list[Item], now: datetime) -> Counts:
        """Record the publication of ``month`` carrying ``items``, in one transaction.

        A new slug is published now; a changed one is corrected now; a slug carried before
        and missing now is withdrawn now (its row stays: the permalink keeps its page); a
        withdrawn slug that comes back is published again, as a correction.
        """
        stamp = _utc(now)
        counts = {"new": 0, "corrected": 0, "withdrawn": 0, "unchanged": 0}
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.execute(
                "INSERT INTO publications (month, parution, first_published_at, "
                "last_published_at) VALUES (?, ?, ?, ?) ON CONFLICT (month) DO UPDATE SET "
                "parution = excluded.parution, last_published_at = excluded.last_published_at",
                (month, parution.isoformat(), stamp, stamp))
            known = {row["slug"]: row for row in self.conn.execute(
                "SELECT slug, digest, withdrawn_at FROM publication_items WHERE month = ?",
                (month,))}
            for item in items:
                counts[self._record_item(month, item, known.pop(item.slug, None), stamp)] += 1
            for slug, row in known.items():
                if row["withdrawn_at"] is None:
                    self.conn.execute("UPDATE publication_items SET withdrawn_at = ? "
                                      "WHERE month = ? AND slug = ?", (stamp, month, slug))
                    counts["withdrawn"] += 1
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return Counts(**counts)

    def _record_item(self, month: str, item: Item, row: sqlite3.Row | None,
                     stamp: str) -> str:
        """Write one item's row; return which count it adds to."""
        text, digest = _encode(item)
        if row is None:
            self.conn.execute(
                "INSERT INTO publication_items (month, slug, snapshot, digest, published_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (month, item.slug, text, digest, stamp, stamp))
            return "new"
        if row["digest"] == digest and row["withdrawn_at"] is None:
            return "unchanged"
        self.conn.execute(
            "UPDATE publication_items SET snapshot = ?, digest = ?, updated_at = ?, "
            "withdrawn_at = NULL WHERE month = ? AND slug = ?",
            (text, digest, stamp, month, item.slug))
        return "corrected"

    def months(self) -> list[str]:
        """Return the published months, newest first."""
        return [r[0] for r in self.conn.execute(
            "SELECT month FROM publications ORDER BY month DESC")]

    def load(self) -> list[StoredIssue]:
        """Return every published issue, newest first, each item rebuilt from its snapshot
        (in the order they were first published, then by slug)."""
        issues = []
        for row in self.conn.execute("SELECT * FROM publications ORDER BY month DESC").fetchall():
            items = tuple(
                StoredItem(from_snapshot(json.loads(r["snapshot"])),
                           _time(r["published_at"]), _time(r["updated_at"]),
                           _time(r["withdrawn_at"]))
                for r in self.conn.execute(
                    "SELECT * FROM publication_items WHERE month = ? "
                    "ORDER BY published_at, slug", (row["month"],)))
            issues.append(StoredIssue(row["month"], date.fromisoformat(row["parution"]),
                                      _time(row["first_published_at"]),
                                      _time(row["last_published_at"]), items))
        return issues

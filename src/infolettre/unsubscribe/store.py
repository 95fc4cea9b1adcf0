"""The record of who unsubscribed (table ``desabonnements`` of the state database)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from ..clock import SYSTEM_CLOCK, Clock
from ..i18n import _
from ..models import Recipient
from ..state import migrate
from .tokens import normalize_email, verify_token


SOURCES = ("lien", "courriel", "pivot")
MIGRATIONS = [
    ("CREATE TABLE desabonnements ("
     " courriel TEXT PRIMARY KEY,"
     " quand TEXT NOT NULL,"
     " source TEXT NOT NULL CHECK (source IN ('lien', 'courriel', 'pivot'))"
     ") WITHOUT ROWID"),
]


class UnsubscribeStore:
    """Unsubscribed addresses (lowercased), with when and how they left.

    Lives in the state database: open it with ``state.connect(state.state_file(donnees))``.
    The first unsubscribe of an address is kept; later ones change nothing.
    """

    def __init__(self, conn: sqlite3.Connection, *, clock: Clock = SYSTEM_CLOCK):
        self.conn = conn
        self.clock = clock
        migrate(conn, "desabonnements", MIGRATIONS)

    def add(self, email: str, source: str, when: datetime | None = None) -> bool:
        """Record that ``email`` unsubscribed; return False if it already had."""
        if source not in SOURCES:
            raise ValueError(_("source de désabonnement inconnue : {source!r} (attendu : "
                               "{choices}).").format(source=source, choices=", ".join(SOURCES)))
        when = when or self.clock.now()
        cursor = self.conn.execute(
            "INSERT INTO desabonnements (courriel, quand, source) VALUES (?, ?, ?) "
            "ON CONFLICT (courriel) DO NOTHING",
            (normalize_email(email), when.isoformat(timespec="seconds"), source))
        return cursor.rowcount == 1

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


def process_unsubscribe_token(store: UnsubscribeStore, secret: bytes, token: str,
                              source: str = "lien") -> str | None:
    """Unsubscribe the address a genuine token names; return it, or None if forged.

    The one function the web endpoint calls (its POST). Using a token twice is harmless.
    """
    email = verify_token(secret, token)
    if email is not None:
        store.add(email, source)
    return email



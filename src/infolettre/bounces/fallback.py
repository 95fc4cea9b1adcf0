"""Non-standard bounces (no delivery-status part: qmail, old Exim, some webmails), found by
flufl.bounce's detectors; it gives addresses only (temporary or permanent), so the status
is looked for in the text next to each address."""

from __future__ import annotations

from email.message import Message

from .model import Failure


def read_plain_bounce(message: Message, notes: list[str]) -> list[Failure]:
    """The failures a non-standard bounce reports (none yet: DSN path only)."""
    return []

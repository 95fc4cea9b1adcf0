"""Moved to ``infolettre.mailbox`` (maildir, screen); kept until callers are updated."""

from .mailbox.maildir import folder, move  # noqa: F401
from .mailbox.screening import REASON_HEADER, with_reason  # noqa: F401

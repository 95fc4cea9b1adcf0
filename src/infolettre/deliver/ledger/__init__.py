"""Delivery ledger: one row per issue × recipient × edition, so a send never repeats nor skips.

A row is ``pending`` (``en-attente``) until the sender reports it; it becomes ``sent`` only
once the server accepted the message (``Outcome.SENT``; the outbox's « already there »
counts too). Temporary failures wait with exponential backoff, within a bounded number of
attempts and a bounded total time; permanent ones are final and keep their reason for a
person to read.

A row is ``transmis`` (« incertain » for people) while its content is on its way to the
server: the SMTP sender commits it after the server's 354, just before writing the message
(``LedgerSender`` and ``SmtpSender``'s ``before_content`` hook). A run killed then leaves the
row ``transmis``; the next run does **not** resend it (the server has most likely delivered
it) but counts it as « incertain » with a reason, in ``counts``, ``summary`` and the status;
``Ledger.release_uncertain`` puts such rows back in the queue once a person has checked.

The verdict on a ``transmis`` row waits in memory for the next commit (normally the next
message's 354), so a message costs one read and one commit. **A kill can therefore never
cause a duplicate**: a row whose verdict was not committed yet is still ``transmis``, never
resent; and a kill leaves at most one such row per connection. A power cut, unlike a kill,
can lose the last second of bookkeeping (``synchronous=NORMAL``): at most that second's
messages may go twice.

The modules, one concern each:

- ``rules``: the state machine, pure — states, retry policy, the decision to send, each
  transition (start, transmit, settle, release) as a function from row to row;
- ``table``: the SQLite table — migrations, ``LedgerRow``, reads, the one guarded write,
  grouped commits and the durability trade-off (power cuts, in detail);
- ``book``: ``Ledger``, the table moved only through the rules;
- ``sender``: ``LedgerSender``, pipelined or lock-step, and the crash-safety argument;
- ``report``: the French summary and the CSV of failures.
"""

from __future__ import annotations

from ..message import with_message_id
from .book import Ledger
from .report import summary, write_failures_csv
from .rules import Claim, RetryPolicy, State, uncertain_reason
from .sender import LedgerSender, takes_before_content
from .table import (BATCH, COMPONENT, GROUP_RECORDS, GROUP_SECONDS, MIGRATIONS, SYNC_EVERY,
                    LedgerRow)

__all__ = [
    "BATCH", "COMPONENT", "GROUP_RECORDS", "GROUP_SECONDS", "MIGRATIONS", "SYNC_EVERY",
    "Claim", "Ledger", "LedgerRow", "LedgerSender", "RetryPolicy", "State", "summary",
    "takes_before_content", "uncertain_reason", "with_message_id", "write_failures_csv",
]

"""Deliver stage: a rendered issue and its recipients → one message per recipient, sent.

``run.deliver_issue`` chooses each recipient's edition, builds the message (``message``) and
hands it to a ``Sender``. Senders are interchangeable: ``outbox.OutboxSender`` writes ``.eml``
files (the default with no SMTP server); the SMTP sender plugs in beside it by implementing
the same three coroutines. A sender returns a ``DeliveryResult`` for every message it was
given and raises only when nothing more can be sent at all (disk full, server unreachable).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from ..i18n import _


class Outcome(str, Enum):
    """What happened to one message; the ledger of later issues stores the same values."""

    SENT = "envoye"          # accepted by the server, or written to the outbox
    SKIPPED = "deja-fait"    # this recipient already has this edition: not sent again
    DEFERRED = "reporte"     # temporary failure (4xx, dropped connection): retry later
    FAILED = "echec"         # permanent failure (5xx): a person must look at it
    UNCERTAIN = "incertain"  # handed to the server by a run killed before its answer:
                             # not sent again until a person releases it (ledger)


@dataclass(frozen=True)
class Envelope:
    """One message ready to go, with what the ledger needs to record it."""

    sender: str          # envelope sender (MAIL FROM), the bare address of ``expediteur``
    recipient: str       # envelope recipient (RCPT TO)
    #: Complete RFC 5322 message, wire-ready: CRLF line ends only, and no line starting
    #: with "." (``message.encode_qp`` writes such a dot ``=2E``), so SMTP sends it without
    #: rewriting it. ``SmtpSender`` checks cheaply and fixes anything else, more slowly.
    message: bytes
    month: str           # issue, "YYYY-MM"
    edition: str         # edition slug (a territory or ``models.COMPLETE``)
    message_id: str


@dataclass(frozen=True)
class DeliveryResult:
    """The fate of one envelope, as reported by a sender."""

    envelope: Envelope
    outcome: Outcome
    detail: str = ""         # file written, server reply, reason of a failure
    code: int | None = None  # SMTP reply code, when there is one


class Sender(Protocol):
    """Anything that can take messages away: the outbox folder, an SMTP relay.

    ``concurrency`` tells ``deliver_issue`` how many ``send`` calls may be in flight at once
    (1 for files; the number of SMTP connections). ``send`` must not raise for a single bad
    message: it returns a ``DeliveryResult`` saying so.

    ``before_content`` (optional to implement, and to pass): a callable, plain or async,
    that a sender calls once per message at the last moment nothing can be delivered yet —
    for SMTP, after the server's 354 and before the first byte of the content. If it raises,
    the sender writes no content and lets the exception through. The ledger uses it to
    commit « transmis ». A sender declares that its ``send`` takes it with the attribute
    ``before_content_hook = True`` (optional: absent means False); one without it is called
    without it, and the ledger then records each attempt before the call (lock-step:
    ``ledger/sender.py``). A sender that delivers whole or not at all (the outbox) may take
    the hook and never call it.
    """

    concurrency: int

    async def open(self) -> None: ...

    async def send(self, envelope: Envelope, *,
                   before_content: Callable[[], object] | None = None) -> DeliveryResult: ...

    async def close(self) -> None: ...


@dataclass
class DeliveryReport:
    """Counts of one delivery run, and the messages a person must look at."""

    month: str
    sent: int = 0
    skipped: int = 0
    paper_only: int = 0
    deferred: int = 0
    failed: int = 0
    uncertain: int = 0
    by_edition: Counter[str] = field(default_factory=Counter)
    problems: list[DeliveryResult] = field(default_factory=list)

    def record(self, result: DeliveryResult) -> None:
        """Count one result; keep deferred and failed ones for the final report."""
        outcome = result.outcome
        if outcome is Outcome.SENT:
            self.sent += 1
            self.by_edition[result.envelope.edition] += 1
        elif outcome is Outcome.SKIPPED:
            self.skipped += 1
        else:
            self.problems.append(result)
            if outcome is Outcome.DEFERRED:
                self.deferred += 1
            elif outcome is Outcome.UNCERTAIN:
                self.uncertain += 1
            else:
                self.failed += 1

    @property
    def complete(self) -> bool:
        """Tell whether every email recipient now has the edition (nothing left to retry)."""
        return not self.problems

    def summary(self) -> str:
        """Say the counts in one French sentence, for the CLI and the logs."""
        text = _("{month} : envoyés {sent}, déjà faits {skipped}, papier seulement {paper}, "
                 "reportés {deferred}, échecs {failed}.").format(
            month=self.month, sent=self.sent, skipped=self.skipped, paper=self.paper_only,
            deferred=self.deferred, failed=self.failed)
        if self.uncertain:   # « reportés 0, échecs 0. » → « …, échecs 0, incertains 2. »
            text = text[:-1] + _(", incertains {n}.").format(n=self.uncertain)
        return text

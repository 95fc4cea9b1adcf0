"""``LedgerSender``: any ``Sender``, with the ledger asked before and told after each message.

Two ways through the same state machine (``rules.py``), chosen by what the inner sender
declares (``Sender.before_content_hook``):

- **pipelined** (a sender that takes the ``before_content`` hook: SMTP): the decision is a
  read (``Ledger.check``); the sender calls the hook after the server's 354 and before the
  first byte of the content, which commits the row ``transmis`` with the attempt
  (``Ledger.mark_transmitted``); the verdict then waits for the next commit
  (``Ledger.record_grouped``). The 354's commits of all connections in one turn of the
  event loop are one commit (``Ledger.transmit``, ``Table.commit_soon``). A message
  refused before its content, or a sender that accepts the hook but never calls it (the
  outbox), has its attempt and verdict committed at once (``Ledger.record`` with the
  claim). One read per message, and at most one commit.
- **lock-step** (any other sender): the attempt is committed first (``Ledger.claim``,
  ``pending``), then the inner sender is called, then its verdict is committed at once.

Crash safety (kill, Ctrl-C), by where the process stops:

- before ``transmis`` is committed: the server has at most received the DATA command,
  never the final dot, so it delivers nothing; the row is as it was (``pending``, or
  ``deferred`` and due) and the next run sends it (never skipped);
- after ``transmis``, before the verdict is committed (the server's answer to the final
  dot, usually a 250, is in flight): the next run does not send it again, and counts it
  « incertain » with a reason. No SMTP client can know more (the server and our database
  cannot commit together; RFC 1047): we choose « at most once, and say so » over « at least
  once ». The window holds at most one message per connection: a connection's next message
  cannot become ``transmis`` without a commit, and every commit carries all the verdicts
  waiting. ``Ledger.release_uncertain`` resends them once a person has checked;
- after the verdict is committed: nothing to redo.

A dropped connection, unlike a kill, is reported by the sender as ``DEFERRED`` and retried
(a server that breaks the session has most likely not kept the message). A sender that
does not call ``before_content`` leaves its rows ``pending`` until the verdict; the outbox
closes that window itself (the file is written once, no-clobber, and answers « already
there » on the next run). Power cuts: see ``table.py``. Two runs of the same issue at once
are not guarded against here: the caller holds a lock. Exceptions from the inner sender
propagate; the row stays as it was (``pending``, ``deferred`` or ``transmis``).
"""

from __future__ import annotations

from dataclasses import replace

from ...clock import Clock
from ...errors import DeliveryError
from ...i18n import _
from ...models import Month
from .. import DeliveryResult, Envelope, Outcome, Sender
from ..message import with_message_id
from .book import Ledger
from .rules import Claim, State
from .table import LedgerRow, key


class LedgerSender:
    """Wrap a ``Sender`` so each recipient gets each edition once: never twice, never skipped.

    For every envelope: a sent row is skipped without calling the inner sender; a row failed
    for good is skipped with its reason; a deferred row whose time has not come stays
    deferred; an « incertain » row (``transmis``) is not sent again (``Outcome.UNCERTAIN``).
    The others are sent, pipelined or lock-step (see the module docstring).
    """

    def __init__(self, inner: Sender, ledger: Ledger, month: str, *,
                 clock: Clock | None = None):
        self.inner = inner
        self.ledger = ledger
        self.month = Month(month)
        self.concurrency = inner.concurrency
        self.clock = clock or ledger.clock
        self.hooked = takes_before_content(inner)
        self._in_flight: set[tuple[str, str]] = set()

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        try:
            await self.inner.close()
        finally:
            self.ledger.flush()

    async def send(self, envelope: Envelope) -> DeliveryResult:
        """Send unless the ledger says not to; record the attempt before and the result after."""
        if envelope.month != self.month:
            raise DeliveryError(_("message du numéro {got} dans l'envoi du numéro {month}.")
                                .format(got=envelope.month, month=self.month))
        flight = (key(envelope.recipient), envelope.edition)
        if flight in self._in_flight:
            return DeliveryResult(envelope, Outcome.SKIPPED, _("envoi déjà en cours."))
        decide = self.ledger.check if self.hooked else self.ledger.claim
        claim = decide(self.month, envelope.recipient, envelope.edition,
                       message_id=envelope.message_id, now=self.clock.now())
        if not claim.go:
            return DeliveryResult(envelope, claim.outcome, claim.detail)
        envelope = with_message_id(envelope, claim.message_id)
        self._in_flight.add(flight)
        try:
            result, row = await self._send(envelope, claim)
        finally:
            self._in_flight.discard(flight)
        if row.state is State.FAILED and result.outcome is Outcome.DEFERRED:  # retries used up
            result = replace(result, outcome=Outcome.FAILED, detail=row.reason or "")
        return result

    async def _send(self, envelope: Envelope, claim: Claim) -> tuple[DeliveryResult, LedgerRow]:
        """Call the inner sender; record its verdict; return it and the row it left."""
        if not self.hooked:
            result = await self.inner.send(envelope)
            return result, self.ledger.settle(result, self.clock.now(), claim=claim)
        transmitted: LedgerRow | None = None

        async def before_content() -> None:   # awaited by the sender (``Sender``)
            nonlocal transmitted
            transmitted = await self.ledger.transmit(
                self.month, envelope.recipient, envelope.edition, now=self.clock.now(),
                claim=claim)

        result = await self.inner.send(envelope, before_content=before_content)
        if transmitted is not None:   # the row is ``transmis``: its verdict can wait a little
            return result, self.ledger.record_grouped(result, transmitted, self.clock.now())
        # refused before the content, or a sender that ignores the hook: at once
        return result, self.ledger.settle(result, self.clock.now(), claim=claim)


def takes_before_content(sender: Sender) -> bool:
    """Tell whether the sender declares that its ``send`` takes the ``before_content`` hook.

    Declared, not guessed from ``send``'s signature: a wrapper taking ``**kwargs`` may
    not pass them on, and a sender's promise to call the hook at the right moment is what
    the pipelined path's crash safety rests on (``Sender.before_content_hook``).
    """
    return getattr(sender, "before_content_hook", False) is True

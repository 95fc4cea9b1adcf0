"""``Ledger``: the table (``table.py``) moved only by the state machine (``rules.py``).

Each method reads a row, asks ``rules`` what it becomes and writes that, in one commit —
except ``record_grouped``, whose write waits for the next commit (``table.py``). The two
ways of sending use the same methods: lock-step ``claim`` then ``record``; pipelined
``check`` (a read), ``mark_transmitted`` at the 354 (the attempt and « transmis » in one
write), then ``record_grouped`` — or ``record`` when the message was refused before its
content. ``LedgerSender`` (``sender.py``) chooses between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from ...clock import SYSTEM_CLOCK, Clock
from ...errors import DeliveryError
from ...i18n import _
from .. import DeliveryResult, Outcome
from . import report, rules
from .rules import Claim, RetryPolicy, State
from .table import LedgerRow, Table, key, utc


class Ledger(Table):
    """The deliveries of every issue, in the state database (see the package docstring)."""

    def __init__(self, path: Path, policy: RetryPolicy | None = None, *,
                 clock: Clock = SYSTEM_CLOCK, readonly: bool = False):
        """Open the ledger; ``readonly`` (for ``status``) never creates nor migrates it and
        raises ``state.MissingState`` when the database or its ledger table is absent."""
        self.policy = policy or RetryPolicy()
        self.clock = clock
        super().__init__(path, readonly=readonly)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, month: str, email: str, edition: str) -> LedgerRow | None:
        """Return the row of one delivery, or None if the ledger has never heard of it."""
        self.flush()
        return self.read(month, email, edition)

    def is_done(self, month: str, email: str, edition: str) -> bool:
        """Tell whether this recipient already has this edition (the row is ``sent``)."""
        row = self.get(month, email, edition)
        return row is not None and row.state is State.SENT

    def claim(self, month: str, email: str, edition: str, *, message_id: str,
              now: datetime | None = None) -> Claim:
        """Decide whether to send now; if so, record the attempt durably before it starts.

        For a sender that cannot tell when its content leaves (lock-step): the row goes to
        ``pending`` with one more attempt, committed before the sender is called.
        """
        now = self._now(now)
        with self.transaction():
            row = self.read(month, email, edition, create=True)
            claim = rules.decide(row, message_id, now)
            if not claim.go:
                return claim
            started = rules.start(row, claim.message_id, now)
            self.write(started, was=row.state)
        return replace(claim, row=started, written=True)

    def check(self, month: str, email: str, edition: str, *, message_id: str,
              now: datetime | None = None) -> Claim:
        """Decide as ``claim`` does, writing nothing: one read.

        The attempt is then written with the row's next change, in one statement:
        ``mark_transmitted(..., claim=)`` at the server's 354, or ``record(..., claim=)``
        when the message never got that far. A row never planned is claimed instead.
        """
        now = self._now(now)
        if self.waiting(month, email, edition):
            self.flush()                        # its own verdict is still waiting
        row = self.read(month, email, edition)  # ``get`` would commit every waiting verdict
        if row is None:
            return self.claim(month, email, edition, message_id=message_id, now=now)
        return rules.decide(row, message_id, now)

    def mark_transmitted(self, month: str, email: str, edition: str, *,
                         now: datetime | None = None,
                         claim: Claim | None = None) -> LedgerRow:
        """Commit that the message's content is about to be handed to the server.

        Called by the sender between the server's 354 and the first byte of the content
        (``before_content``). Until the sender's verdict is recorded the row is
        ``transmis``: a run killed in between leaves it so, and later runs count it as
        « incertain » instead of sending it again. Only a row claimed for this attempt
        changes; raises ``DeliveryError`` otherwise, which stops the send before any
        content is written. With a ``claim`` from ``check`` (nothing written yet), the
        attempt is counted in the same write. Verdicts waiting are committed with it.
        Return the row as written, for ``record_grouped``.
        """
        now = self._now(now)
        with self.transaction():
            row, sent = self._transmission(month, email, edition, now, claim)
            written = sent is not None and self.write(sent, was=row.state)
        if not written:   # raised once the verdicts that were waiting are committed
            raise self._unexpected(email, edition)
        return sent

    async def transmit(self, month: str, email: str, edition: str, *,
                       now: datetime | None = None, claim: Claim | None = None) -> LedgerRow:
        """Do what ``mark_transmitted`` does, in a commit shared with the other connections.

        For the pipelined sender's hook (``sender.py``): it returns once the row is
        committed ``transmis`` (``Table.commit_soon``), so the content is still written only
        after; several connections at their 354 in the same turn cost one commit.
        """
        now = self._now(now)
        row, sent = self._transmission(month, email, edition, now, claim)
        if sent is None or not await self.commit_soon(sent, row.state):
            self.flush()   # raised once the verdicts that were waiting are committed
            raise self._unexpected(email, edition)
        return sent

    def _transmission(self, month: str, email: str, edition: str, now: datetime,
                      claim: Claim | None) -> tuple[LedgerRow | None, LedgerRow | None]:
        """The row to move and the row ``transmis`` it becomes (None if it cannot)."""
        counted = claim is None or claim.written      # the attempt is in the table already
        row = (claim.row if claim is not None and claim.row is not None
               else self.read(month, email, edition))
        ready = row is not None and (row.state is State.PENDING if counted
                                     else rules.can_start(row))
        sent = (rules.transmit(row if counted else rules.start(row, claim.message_id, now),
                               now) if ready else None)
        return row, sent

    def record(self, result: DeliveryResult, now: datetime | None = None, *,
               claim: Claim | None = None) -> State:
        """Commit the sender's verdict on one message now; return the row's new state.

        See ``rules.settle``. With a ``claim`` from ``check`` (the attempt not written
        yet), the attempt is counted first, in the same write.
        """
        return self.settle(result, now, claim=claim).state

    def settle(self, result: DeliveryResult, now: datetime | None = None, *,
               claim: Claim | None = None) -> LedgerRow:
        """Do what ``record`` does; return the whole row as written (its reason, say)."""
        env, now = result.envelope, self._now(now)
        with self.transaction():
            stored = row = self.read(env.month, env.recipient, env.edition, create=True)
            if claim is not None and not claim.written and rules.can_start(row):
                row = rules.start(row, claim.message_id, now)   # the attempt, same write
            settled = rules.settle(row, result, now, self.policy)
            if settled is not stored:
                self.write(settled, was=stored.state)
        return settled

    def record_grouped(self, result: DeliveryResult, transmitted: LedgerRow,
                       now: datetime | None = None) -> LedgerRow:
        """Record the verdict on a ``transmis`` row with the next commit; return the row.

        ``transmitted`` is the row ``mark_transmitted`` wrote. The verdict waits in memory
        for the next commit — the next message's 354 as a rule, at the latest before any
        read and at ``close`` (``table.py``). A run killed before that commit leaves the row
        ``transmis`` (« incertain »): never sent twice, only not known for sure. An outcome
        that is not a server's verdict (neither sent, deferred nor failed) is committed now.
        """
        if result.outcome not in (Outcome.SENT, Outcome.DEFERRED, Outcome.FAILED):
            return self.settle(result, now)
        settled = rules.settle(transmitted, result, self._now(now), self.policy)
        self.write_later(settled, was=State.TRANSMITTED)
        return settled

    def release_uncertain(self, month: str, emails: Iterable[str] | None = None) -> int:
        """Put « incertain » rows back in the queue: the next send sends them; return how many.

        For a person who has checked (with the server's logs, or the recipients) that these
        messages did not arrive; a recipient who did get one will get it a second time. With
        ``emails`` only those addresses are released, else every uncertain row of the issue.
        Attempts and the first Message-ID are kept, so a mail client can fold a duplicate.
        """
        wanted = None if emails is None else {key(e) for e in emails}
        rows = [r for r in self.uncertain(month) if wanted is None or r.email in wanted]
        with self.transaction():   # each write checks the row is still « incertain »
            return sum(self.write(rules.release(row), was=row.state) for row in rows)

    def failures(self, month: str) -> list[LedgerRow]:
        """Return the issue's failed rows, by address, for a person to look at."""
        return self.in_state(month, State.FAILED)

    def uncertain(self, month: str) -> list[LedgerRow]:
        """Return the issue's « incertain » rows (``transmis``), by address, with their reason."""
        return self.in_state(month, State.TRANSMITTED)

    def summary(self, month: str) -> str:
        """Say the counts the way the pivot reads them (``report.summary``)."""
        return report.summary(self.counts(month))

    def export_failures_csv(self, month: str, out_path: Path, *,
                            tz: tzinfo = timezone.utc) -> int:
        """Write the failures as CSV (``report.write_failures_csv``); return how many."""
        return report.write_failures_csv(self.failures(month), out_path, tz=tz)

    def _now(self, now: datetime | None) -> datetime:
        return utc(now or self.clock.now())

    def _unexpected(self, email: str, edition: str) -> DeliveryError:
        """Say that a row is not in the state a send expects (another run moved it?)."""
        return DeliveryError(
            _("le registre des envois n'attendait pas ce message ({email}, {edition}).")
            .format(email=email, edition=edition), where=str(self.path),
            fix=_("Un autre envoi du même numéro tourne peut-être en même temps : "
                  "attendez qu'il finisse, puis relancez."))

"""The ledger's state machine, pure: which state a delivery is in and what moves it.

One set of transitions serves both ways of sending (``sender.py``): the lock-step one
(``decide``, ``start`` committed, the sender called, ``settle`` committed) and the pipelined
SMTP one (``decide`` on a read, ``start`` and ``transmit`` committed together at the server's
354, ``settle`` committed with the next message's 354). Each function takes a row and returns
the row it becomes; ``table.py`` writes that row, guarded by the state it was read in. Nothing
here reads a clock or a database, so every rule can be tested with plain values.

The transitions (``decide`` only reads):

- ``start``: ``en-attente``, or ``reporte`` once due → ``en-attente``, one more attempt;
- ``transmit``: ``en-attente`` → ``transmis`` (« incertain »), the content is leaving;
- ``settle``: ``en-attente`` or ``transmis`` → ``envoye``, ``reporte`` or ``echec``;
- ``release``: ``transmis`` → ``en-attente``, once a person has checked.

``envoye`` is final; ``echec`` too, unless the sender later reports the message sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from enum import Enum
from typing import NamedTuple

from ...i18n import _
from .. import DeliveryResult, Outcome


class State(str, Enum):
    """A row's state; the values are those of ``Outcome`` where the meaning is the same."""

    PENDING = "en-attente"              # planned, or an attempt started and not yet reported
    TRANSMITTED = "transmis"            # content handed to the server, answer unknown:
                                        # « incertain », never resent without a person
    SENT = Outcome.SENT.value           # accepted by the server (or written to the outbox)
    DEFERRED = Outcome.DEFERRED.value   # temporary failure: next try at next_attempt_at
    FAILED = Outcome.FAILED.value       # permanent failure, or retries exhausted: final


class LedgerRow(NamedTuple):
    """One recipient's delivery of one edition of one issue, as the ledger knows it.

    A named tuple rather than a dataclass: the rules make two or three changed copies per
    message (``_replace``), and a dataclass's ``replace`` costs three times as much.
    """

    month: str
    email: str
    edition: str
    state: State
    attempts: int
    smtp_code: int | None
    smtp_text: str | None
    reason: str | None
    message_id: str | None
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    sent_at: datetime | None
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class RetryPolicy:
    """How long temporary failures are retried: 60 s, 120 s, … capped at 1 h; 6 tries, 24 h."""

    base: float = 60.0
    factor: float = 2.0
    cap: float = 3600.0
    max_attempts: int = 6
    max_age: timedelta = timedelta(hours=24)

    def delay(self, attempts: int) -> timedelta:
        """Return the wait after the ``attempts``-th temporary failure."""
        seconds = self.base * self.factor ** min(max(attempts - 1, 0), 64)
        return timedelta(seconds=min(seconds, self.cap))


@dataclass(frozen=True)
class Claim:
    """The ledger's answer before a send: go ahead (with the Message-ID to use), or not."""

    go: bool
    outcome: Outcome | None = None  # when not go: SKIPPED (done or given up) or DEFERRED
    detail: str = ""
    message_id: str | None = None
    attempt: int = 0
    first_attempt_at: datetime | None = None   # of the row's first attempt (None: this one)
    #: The row as decided on: as read (``Ledger.check``), or with the attempt already
    #: written (``Ledger.claim``, then ``written``), so the next transition starts from it.
    row: LedgerRow | None = None
    written: bool = False


def decide(row: LedgerRow, message_id: str, now: datetime) -> Claim:
    """Decide whether to send now: done, given up, « incertain » or not due yet say no.

    A go keeps the Message-ID of the row's first attempt (``message_id`` only if it has none),
    so a mail client can fold a message that arrives twice.
    """
    if row.state is State.SENT:
        return Claim(False, Outcome.SKIPPED, _("déjà envoyé le {when}.").format(
            when=show(row.sent_at)), row=row)
    if row.state is State.FAILED:
        return Claim(False, Outcome.SKIPPED, _("abandonné : {reason}").format(
            reason=row.reason or ""), row=row)
    if row.state is State.TRANSMITTED:   # never resent without a person's decision
        return Claim(False, Outcome.UNCERTAIN, row.reason or uncertain_reason(row.month),
                     row=row)
    if row.state is State.DEFERRED and row.next_attempt_at and row.next_attempt_at > now:
        return Claim(False, Outcome.DEFERRED, _("prochain essai après {when}.").format(
            when=show(row.next_attempt_at)), row=row)
    return Claim(True, message_id=row.message_id or message_id, attempt=row.attempts + 1,
                 first_attempt_at=row.first_attempt_at, row=row)


def can_start(row: LedgerRow) -> bool:
    """Tell whether an attempt may start from this row (waiting, or deferred: ``decide``
    has already said whether it is due)."""
    return row.state in (State.PENDING, State.DEFERRED)


def start(row: LedgerRow, message_id: str | None, now: datetime) -> LedgerRow:
    """Count one more attempt, before anything reaches the server (the row stays waiting).

    Counted when it starts, not when it is answered, so an attempt cut short (a kill, a
    lost connection) still counts towards ``RetryPolicy``'s limit; the first attempt's
    time and Message-ID are kept.
    """
    return row._replace(state=State.PENDING, attempts=row.attempts + 1,
                        last_attempt_at=now, first_attempt_at=row.first_attempt_at or now,
                        next_attempt_at=None, message_id=row.message_id or message_id)


def transmit(row: LedgerRow, now: datetime) -> LedgerRow:
    """Mark the content as handed to the server (after the 354): « incertain » until settled.

    The reason is written now, so a run killed before the verdict leaves a row that explains
    itself to the person reading ``status``.
    """
    return row._replace(state=State.TRANSMITTED, reason=uncertain_reason(row.month),
                        last_attempt_at=now)


def settle(row: LedgerRow, result: DeliveryResult, now: datetime,
           policy: RetryPolicy) -> LedgerRow:
    """Apply the sender's verdict on one message; return the very same row if it stays.

    ``SENT`` makes the row sent. ``SKIPPED`` from the sender itself means it holds proof
    the recipient already has the message (the outbox file is there, written by a run
    killed before it could record it): that acceptance is recorded, late, as sent.
    ``FAILED`` is final. ``DEFERRED`` schedules the next try with backoff, or fails the row
    once the attempts or the total time are used up. A sent row is never downgraded and a
    failed one changes only on a later ``SENT``.
    """
    env = result.envelope
    accepted = result.outcome is Outcome.SENT or (
        result.outcome is Outcome.SKIPPED and row.state is not State.FAILED)
    if accepted:
        if row.state is State.SENT:
            return row
        message_id = (env.message_id if result.outcome is Outcome.SENT
                      else row.message_id or env.message_id)
        return row._replace(state=State.SENT, sent_at=now, reason=None,
                            smtp_code=result.code, smtp_text=result.detail,
                            message_id=message_id, next_attempt_at=None,
                            attempts=max(row.attempts, 1))
    if row.state in (State.SENT, State.FAILED):
        return row
    attempts, first = max(row.attempts, 1), row.first_attempt_at or now
    state, reason = _verdict(result.outcome, attempts, now - first, _reply(result), policy)
    next_at = now + policy.delay(attempts) if state is State.DEFERRED else None
    return row._replace(state=state, reason=reason, attempts=attempts,
                        smtp_code=result.code, smtp_text=result.detail,
                        first_attempt_at=first, last_attempt_at=now,
                        message_id=row.message_id or env.message_id, next_attempt_at=next_at)


def release(row: LedgerRow) -> LedgerRow:
    """Put an « incertain » row back in the queue, attempts and first Message-ID kept."""
    return row._replace(state=State.PENDING, reason=None, next_attempt_at=None)


def _verdict(outcome: Outcome, attempts: int, age: timedelta, reply: str,
             policy: RetryPolicy) -> tuple[State, str]:
    """Turn a failure into the row's state and a reason a person can read."""
    if outcome is Outcome.FAILED:
        return State.FAILED, _("refus définitif : {reply}").format(reply=reply)
    if attempts >= policy.max_attempts:
        return State.FAILED, _("abandon après {n} tentatives ; dernière réponse : "
                               "{reply}").format(n=attempts, reply=reply)
    if age >= policy.max_age:
        hours = policy.max_age.total_seconds() / 3600
        return State.FAILED, _("abandon après {hours} h de tentatives ; dernière "
                               "réponse : {reply}").format(hours=f"{hours:g}", reply=reply)
    return State.DEFERRED, _("refus temporaire : {reply}").format(reply=reply)


def uncertain_reason(month: str) -> str:
    """Say why a ``transmis`` row is « incertain » and how to have it sent again."""
    return _("incertain : le message a été transmis au serveur mais l'envoi a été interrompu "
             "avant sa réponse ; il a très probablement été reçu, il n'est donc pas renvoyé. "
             "Si vous constatez qu'il n'est pas arrivé, lancez « infolettre send {month} "
             "--renvoyer-incertains ».").format(month=month)


def _reply(result: DeliveryResult) -> str:
    text = " ".join(f"{result.code or ''} {result.detail}".split())
    return text or _("aucune réponse du serveur")


def show(moment: datetime | None, tz: tzinfo = timezone.utc) -> str:
    """Write a moment for people (« 2026-12-03 09:00:00 +0000 »), in UTC unless told."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""

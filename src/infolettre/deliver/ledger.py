"""Delivery ledger: one row per issue × recipient × edition, so a send never repeats nor skips.

The rows live in the state database (``state.connect``: WAL, ``synchronous=FULL``), table
``livraisons``, migrated with ``state.migrate`` under the component ``ledger``. A row is
``pending`` until the sender reports it; it becomes ``sent`` only once the server accepted
the message (``Outcome.SENT``; see ``Ledger.record`` for the outbox's « already there »).
Temporary failures wait with exponential backoff, within a bounded number of attempts and a
bounded total time; permanent ones are final and keep their reason for a person to read.

``LedgerSender`` wraps any ``Sender`` with this bookkeeping; its docstring gives the
crash-safety argument.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from enum import Enum
from itertools import islice
from pathlib import Path

from babel.numbers import format_decimal

from ..errors import DeliveryError
from ..fsutil import atomic_write_bytes
from ..i18n import _, current_locale
from ..state import connect, migrate
from . import DeliveryResult, Envelope, Outcome, Sender

COMPONENT = "ledger"
BATCH = 1000  # rows per transaction when planning
MIGRATIONS = [
    """CREATE TABLE livraisons (
         month TEXT NOT NULL, email TEXT NOT NULL, edition TEXT NOT NULL,
         state TEXT NOT NULL DEFAULT 'en-attente'
               CHECK (state IN ('en-attente', 'envoye', 'reporte', 'echec')),
         attempts INTEGER NOT NULL DEFAULT 0,
         smtp_code INTEGER, smtp_text TEXT, reason TEXT, message_id TEXT,
         first_attempt_at TEXT, last_attempt_at TEXT, sent_at TEXT, next_attempt_at TEXT,
         UNIQUE (month, email, edition));
       CREATE INDEX livraisons_etat ON livraisons (month, state)""",
]


class State(str, Enum):
    """A row's state; the values are those of ``Outcome`` where the meaning is the same."""

    PENDING = "en-attente"              # planned, or an attempt started and not yet reported
    SENT = Outcome.SENT.value           # accepted by the server (or written to the outbox)
    DEFERRED = Outcome.DEFERRED.value   # temporary failure: next try at next_attempt_at
    FAILED = Outcome.FAILED.value       # permanent failure, or retries exhausted: final


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
class LedgerRow:
    """One recipient's delivery of one edition of one issue, as the ledger knows it."""

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

    @classmethod
    def from_sql(cls, row: sqlite3.Row) -> LedgerRow:
        values = dict(row)
        for name in ("first_attempt_at", "last_attempt_at", "sent_at", "next_attempt_at"):
            values[name] = _parse(values[name])
        values["state"] = State(values["state"])
        return cls(**values)


@dataclass(frozen=True)
class Claim:
    """The ledger's answer before a send: go ahead (with the Message-ID to use), or not."""

    go: bool
    outcome: Outcome | None = None  # when not go: SKIPPED (done or given up) or DEFERRED
    detail: str = ""
    message_id: str | None = None
    attempt: int = 0


class Ledger:
    """The deliveries of every issue, in the state database (see the module docstring)."""

    def __init__(self, path: Path, policy: RetryPolicy | None = None):
        self.path = Path(path)
        self.policy = policy or RetryPolicy()
        self.conn = connect(self.path)
        migrate(self.conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction, committed (fsync'd) when it ends."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def plan(self, month: str, rows: Iterable[tuple[str, str]]) -> int:
        """Add a pending row per (email, edition) not in the ledger yet; return how many.

        ``rows`` is consumed as a stream, ``BATCH`` rows per transaction; rows already there
        (whatever their state) are left alone, so planning again is harmless.
        """
        added, stream = 0, iter(rows)
        while batch := [(month, _key(e), ed) for e, ed in islice(stream, BATCH)]:
            with self._transaction() as conn:
                before = conn.total_changes
                conn.executemany("INSERT OR IGNORE INTO livraisons (month, email, edition) "
                                 "VALUES (?, ?, ?)", batch)
                added += conn.total_changes - before
        return added

    def get(self, month: str, email: str, edition: str) -> LedgerRow | None:
        """Return the row of one delivery, or None if the ledger has never heard of it."""
        row = self.conn.execute(
            "SELECT * FROM livraisons WHERE month = ? AND email = ? AND edition = ?",
            (month, _key(email), edition)).fetchone()
        return LedgerRow.from_sql(row) if row else None

    def is_done(self, month: str, email: str, edition: str) -> bool:
        """Tell whether this recipient already has this edition (the row is ``sent``)."""
        row = self.get(month, email, edition)
        return row is not None and row.state is State.SENT

    def claim(self, month: str, email: str, edition: str, *, message_id: str,
              now: datetime | None = None) -> Claim:
        """Decide whether to send now; if so, record the attempt durably before it starts.

        A sent row is skipped, a failed one too (with its reason), a deferred one waits for
        its time. Otherwise the row goes to ``pending`` with one more attempt, and keeps the
        Message-ID of its first attempt (``message_id`` is used only if it has none).
        """
        now = _utc(now)
        with self._transaction():
            row = self.get(month, email, edition)
            if row is None:
                self._insert(month, email, edition)
                row = self.get(month, email, edition)
            if row.state is State.SENT:
                return Claim(False, Outcome.SKIPPED, _("déjà envoyé le {when}.").format(
                    when=_show(row.sent_at)))
            if row.state is State.FAILED:
                return Claim(False, Outcome.SKIPPED, _("abandonné : {reason}").format(
                    reason=row.reason or ""))
            if row.state is State.DEFERRED and row.next_attempt_at and row.next_attempt_at > now:
                return Claim(False, Outcome.DEFERRED, _("prochain essai après {when}.").format(
                    when=_show(row.next_attempt_at)))
            kept = row.message_id or message_id
            self._update(month, email, edition, state=State.PENDING, attempts=row.attempts + 1,
                         last_attempt_at=_iso(now), next_attempt_at=None, message_id=kept,
                         first_attempt_at=_iso(row.first_attempt_at or now))
        return Claim(True, message_id=kept, attempt=row.attempts + 1)

    def record(self, result: DeliveryResult, now: datetime | None = None) -> State:
        """Write the sender's verdict on one message; return the row's new state.

        ``SENT`` makes the row sent. ``SKIPPED`` from the sender itself means it holds proof
        the recipient already has the message (the outbox file is there, written by a run
        killed before it could record it): that acceptance is recorded, late, as sent.
        ``FAILED`` is final. ``DEFERRED`` schedules the next try with backoff, or fails the
        row once the attempts or the total time are used up. A sent row is never downgraded
        and a failed one changes only on a later ``SENT``.
        """
        env, now = result.envelope, _utc(now)
        reply = _reply(result)
        with self._transaction():
            row = self.get(env.month, env.recipient, env.edition)
            if row is None:
                self._insert(env.month, env.recipient, env.edition)
                row = self.get(env.month, env.recipient, env.edition)
            key = (env.month, env.recipient, env.edition)
            accepted = result.outcome is Outcome.SENT or (
                result.outcome is Outcome.SKIPPED and row.state is not State.FAILED)
            if accepted:
                if row.state is not State.SENT:
                    message_id = (env.message_id if result.outcome is Outcome.SENT
                                  else row.message_id or env.message_id)
                    self._update(*key, state=State.SENT, sent_at=_iso(now), reason=None,
                                 smtp_code=result.code, smtp_text=result.detail,
                                 message_id=message_id, next_attempt_at=None,
                                 attempts=max(row.attempts, 1))
                return State.SENT
            if row.state in (State.SENT, State.FAILED):
                return row.state
            attempts = max(row.attempts, 1)
            first = row.first_attempt_at or now
            fields = dict(attempts=attempts, smtp_code=result.code, smtp_text=result.detail,
                          first_attempt_at=_iso(first), last_attempt_at=_iso(now),
                          message_id=row.message_id or env.message_id, next_attempt_at=None)
            state, reason = self._verdict(result.outcome, attempts, now - first, reply)
            if state is State.DEFERRED:
                fields["next_attempt_at"] = _iso(now + self.policy.delay(attempts))
            self._update(*key, state=state, reason=reason, **fields)
            return state

    def _verdict(self, outcome: Outcome, attempts: int, age: timedelta,
                 reply: str) -> tuple[State, str]:
        """Turn a failure into the row's state and a reason a person can read."""
        if outcome is Outcome.FAILED:
            return State.FAILED, _("refus définitif : {reply}").format(reply=reply)
        if attempts >= self.policy.max_attempts:
            return State.FAILED, _("abandon après {n} tentatives ; dernière réponse : "
                                   "{reply}").format(n=attempts, reply=reply)
        if age >= self.policy.max_age:
            hours = self.policy.max_age.total_seconds() / 3600
            return State.FAILED, _("abandon après {hours} h de tentatives ; dernière "
                                   "réponse : {reply}").format(hours=f"{hours:g}", reply=reply)
        return State.DEFERRED, _("refus temporaire : {reply}").format(reply=reply)

    def _insert(self, month: str, email: str, edition: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO livraisons (month, email, edition) "
                          "VALUES (?, ?, ?)", (month, _key(email), edition))

    def _update(self, month: str, email: str, edition: str, **fields: object) -> None:
        values = {k: (v.value if isinstance(v, State) else v) for k, v in fields.items()}
        assignments = ", ".join(f"{name} = :{name}" for name in values)  # names are ours
        self.conn.execute(f"UPDATE livraisons SET {assignments} WHERE month = :m AND "
                          "email = :e AND edition = :ed",
                          {**values, "m": month, "e": _key(email), "ed": edition})

    def counts(self, month: str) -> dict[State, int]:
        """Return how many rows of the issue are in each state (every state, zeros included)."""
        found = dict(self.conn.execute(
            "SELECT state, COUNT(*) FROM livraisons WHERE month = ? GROUP BY state", (month,)))
        return {state: found.get(state.value, 0) for state in State}

    def failures(self, month: str) -> list[LedgerRow]:
        """Return the issue's failed rows, by address, for a person to look at."""
        return [LedgerRow.from_sql(r) for r in self.conn.execute(
            "SELECT * FROM livraisons WHERE month = ? AND state = ? ORDER BY email, edition",
            (month, State.FAILED.value))]

    def next_retry(self, month: str) -> datetime | None:
        """Return when the earliest deferred message of the issue may be tried again."""
        row = self.conn.execute("SELECT MIN(next_attempt_at) FROM livraisons WHERE month = ? "
                                "AND state = ?", (month, State.DEFERRED.value)).fetchone()
        return _parse(row[0])

    def summary(self, month: str) -> str:
        """Say the counts the way the pivot reads them: « envoyés 4 812 / 5 000, … »."""
        counts = self.counts(month)
        number = lambda n: format_decimal(n, locale=current_locale())  # noqa: E731
        return _("envoyés {sent} / {total}, en attente {waiting}, échecs {failed}").format(
            sent=number(counts[State.SENT]), total=number(sum(counts.values())),
            waiting=number(counts[State.PENDING] + counts[State.DEFERRED]),
            failed=number(counts[State.FAILED]))

    def export_failures_csv(self, month: str, out_path: Path, *,
                            tz: tzinfo = timezone.utc) -> int:
        """Write the failures as CSV (French headers, UTF-8 with BOM for Excel); return count."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([_("courriel"), _("édition"), _("tentatives"), _("code SMTP"),
                         _("réponse du serveur"), _("raison"), _("première tentative"),
                         _("dernière tentative"), "Message-ID"])
        rows = self.failures(month)
        for r in rows:
            writer.writerow([r.email, r.edition, r.attempts, r.smtp_code or "",
                             r.smtp_text or "", r.reason or "", _show(r.first_attempt_at, tz),
                             _show(r.last_attempt_at, tz), r.message_id or ""])
        atomic_write_bytes(Path(out_path), buffer.getvalue().encode("utf-8-sig"))
        return len(rows)


class LedgerSender:
    """Wrap a ``Sender`` so each recipient gets each edition once: never twice, never skipped.

    For every envelope: a sent row is skipped without calling the inner sender; a row failed
    for good is skipped with its reason; a deferred row whose time has not come stays
    deferred. Otherwise the attempt is committed first (``pending``, attempts + 1, time,
    Message-ID), then the inner sender is called, then its result is committed at once.

    Crash safety (kill, power cut, Ctrl-C), by where the process stops:
    - before the attempt is committed: nothing happened; the row is retried;
    - after it, before the server accepted: the row is ``pending``, so the next run sends
      it (never skipped; a row becomes ``sent`` only from the sender's acceptance);
    - after the server's final 250 reply, before our commit: the next run sends that message
      again. No SMTP client can close this window (the server and our database cannot
      commit together; RFC 1047 describes it). It holds at most the messages in flight (one
      per connection), lasts only one SQLite commit (nothing else runs in between), and
      the resend carries the same Message-ID, which lets mail clients fold the duplicate.
      With the outbox the window is closed entirely: the file is written once
      (no-clobber), and on the next run the outbox answers « already there », recorded as
      sent.
    Two runs of the same issue at once are not guarded against here: the caller holds a
    lock. Exceptions from the inner sender propagate; the row stays pending for the next run.
    """

    def __init__(self, inner: Sender, ledger: Ledger, month: str, *,
                 clock: Callable[[], datetime] | None = None):
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            raise DeliveryError(_("mois invalide : {month!r}.").format(month=month),
                                fix=_("Donnez le mois sous la forme AAAA-MM, par exemple "
                                      "2026-12."))
        self.inner = inner
        self.ledger = ledger
        self.month = month
        self.concurrency = inner.concurrency
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._in_flight: set[tuple[str, str]] = set()

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, envelope: Envelope) -> DeliveryResult:
        """Send unless the ledger says not to; record the attempt before and the result after."""
        if envelope.month != self.month:
            raise DeliveryError(_("message du numéro {got} dans l'envoi du numéro {month}.")
                                .format(got=envelope.month, month=self.month))
        key = (_key(envelope.recipient), envelope.edition)
        if key in self._in_flight:
            return DeliveryResult(envelope, Outcome.SKIPPED, _("envoi déjà en cours."))
        claim = self.ledger.claim(self.month, envelope.recipient, envelope.edition,
                                  message_id=envelope.message_id, now=self.clock())
        if not claim.go:
            return DeliveryResult(envelope, claim.outcome, claim.detail)
        envelope = with_message_id(envelope, claim.message_id)
        self._in_flight.add(key)
        try:
            result = await self.inner.send(envelope)
            state = self.ledger.record(result, now=self.clock())  # at once: resend window
        finally:
            self._in_flight.discard(key)
        if state is State.FAILED and result.outcome is Outcome.DEFERRED:  # retries used up
            row = self.ledger.get(self.month, envelope.recipient, envelope.edition)
            result = replace(result, outcome=Outcome.FAILED, detail=row.reason or "")
        return result


def with_message_id(envelope: Envelope, message_id: str | None) -> Envelope:
    """Return the envelope carrying ``message_id`` (a retry reuses its first Message-ID).

    Only the ``Message-ID:`` header line of the prebuilt bytes is swapped; if it cannot be
    found the envelope is returned as it is, and its own Message-ID gets recorded.
    """
    if not message_id or message_id == envelope.message_id:
        return envelope
    head, sep, body = envelope.message.partition(b"\r\n\r\n")
    old = f"\r\nMessage-ID: {envelope.message_id}\r\n".encode("ascii", "replace")
    new = f"\r\nMessage-ID: {message_id}\r\n".encode("ascii", "replace")
    framed = b"\r\n" + head + b"\r\n"
    if not sep or framed.count(old) != 1:
        return envelope
    swapped = framed.replace(old, new)[2:-2]
    return replace(envelope, message=swapped + sep + body, message_id=message_id)


def _key(email: str) -> str:
    """Return the ledger's form of an address (recipients are merged case-insensitively)."""
    return email.strip().casefold()


def _reply(result: DeliveryResult) -> str:
    text = " ".join(f"{result.code or ''} {result.detail}".split())
    return text or _("aucune réponse du serveur")


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return _utc(moment).isoformat(timespec="seconds") if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _show(moment: datetime | None, tz: tzinfo = timezone.utc) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""

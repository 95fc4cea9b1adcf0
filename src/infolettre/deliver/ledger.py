"""Delivery ledger: one row per issue × recipient × edition, so a send never repeats nor skips.

The rows live in the state database (``state.connect``: WAL), table ``livraisons``, migrated
with ``state.migrate`` under the component ``ledger``. A row is ``pending`` until the sender
reports it; it becomes ``sent`` only once the server accepted the message (``Outcome.SENT``;
see ``Ledger.record`` for the outbox's « already there »). Temporary failures wait with
exponential backoff, within a bounded number of attempts and a bounded total time; permanent
ones are final and keep their reason for a person to read.

A row is ``transmis`` (« incertain » for people) while its content is on its way to the
server: the SMTP sender commits it after the server's 354, just before writing the message
(``LedgerSender`` and ``SmtpSender``'s ``before_content`` hook). A run killed then leaves the
row ``transmis``; the next run does **not** resend it (the server has most likely delivered
it) but counts it as « incertain » with a reason, in ``counts``, ``summary`` and the status;
``Ledger.release_uncertain`` puts such rows back in the queue once a person has checked.

Grouped verdicts (what makes the ledger cheap enough for a fast server): with a sender that
calls ``before_content`` (SMTP), a message costs one read (``check``) and one commit, the
354's, which also counts the attempt. The verdict on a row already ``transmis`` (``sent``,
``deferred`` or ``failed`` after the content went) is not committed on its own: it waits in
memory (``record_grouped``) and goes with the next commit, normally the next message's 354,
else after ``GROUP_SECONDS`` (50 ms) or ``GROUP_RECORDS`` (200) verdicts; every read
(``get``, ``counts``, ``summary``, ``failures``…), ``flush``, ``close`` and the
``LedgerSender``'s ``close`` commit what is waiting first. **A kill can therefore never
cause a duplicate**: a row whose verdict was not committed yet is still ``transmis``, which
is never resent; it is only left « incertain » for a person to release. And a kill still
leaves at most one such row per connection, as before: a connection's next message cannot
become ``transmis`` without a commit, and every commit carries all the verdicts waiting.
Verdicts on messages refused before their content (no ``transmis``: 4xx/5xx to MAIL or
RCPT, a connection lost before DATA) are committed at once, with the attempt; so are those
of a sender that does not call the hook (the outbox).

Durability trade-off: the ledger's connection runs with ``synchronous=NORMAL`` (WAL), not
``FULL``. A commit then reaches the operating system (it survives a kill of the process, an
exception, Ctrl-C — what the crash tests exercise) without waiting for the disk; a commit at
most every ``SYNC_EVERY`` seconds is made with ``FULL``, which flushes every earlier one. An
operating-system crash or a power cut can therefore lose the last second or so of
bookkeeping: rows go back to an earlier state (``sent`` → ``transmis``, counted uncertain;
``transmis`` or ``sent`` → ``pending``, resent), so at most that second's messages may go
twice. In exchange, a message costs one commit (see below) that does not wait for a disk flush
(several milliseconds each on an ordinary disk, serialized across all connections), which
is what lets the sender keep up with a fast server.

``LedgerSender`` wraps any ``Sender`` with this bookkeeping; its docstring gives the
crash-safety argument.
"""

from __future__ import annotations

import csv
import inspect
import io
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone, tzinfo
from enum import Enum
from itertools import islice
from pathlib import Path

from babel.numbers import format_decimal

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..fsutil import atomic_write_bytes
from ..i18n import _, current_locale
from ..models import Month
from ..state import MissingState, component_version, connect, migrate
from . import DeliveryResult, Envelope, Outcome, Sender
from .message import with_message_id

COMPONENT = "ledger"
BATCH = 1000  # rows per transaction when planning
SYNC_EVERY = 1.0  # seconds: at most this long between two commits flushed to disk (FULL)
#: Verdicts on messages already ``transmis`` wait in memory for the next commit (the next
#: message's 354, usually), never longer than this many seconds, nor more than this many.
GROUP_SECONDS = 0.05
GROUP_RECORDS = 200
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
    # 2: the state 'transmis' (content handed to the server, answer not recorded yet).
    # SQLite cannot change a CHECK constraint: the table is rebuilt, same columns, same order.
    """CREATE TABLE livraisons_v2 (
         month TEXT NOT NULL, email TEXT NOT NULL, edition TEXT NOT NULL,
         state TEXT NOT NULL DEFAULT 'en-attente'
               CHECK (state IN ('en-attente', 'transmis', 'envoye', 'reporte', 'echec')),
         attempts INTEGER NOT NULL DEFAULT 0,
         smtp_code INTEGER, smtp_text TEXT, reason TEXT, message_id TEXT,
         first_attempt_at TEXT, last_attempt_at TEXT, sent_at TEXT, next_attempt_at TEXT,
         UNIQUE (month, email, edition));
       INSERT INTO livraisons_v2 SELECT * FROM livraisons;
       DROP TABLE livraisons;
       ALTER TABLE livraisons_v2 RENAME TO livraisons;
       CREATE INDEX livraisons_etat ON livraisons (month, state)""",
]


class State(str, Enum):
    """A row's state; the values are those of ``Outcome`` where the meaning is the same."""

    PENDING = "en-attente"              # planned, or an attempt started and not yet reported
    TRANSMITTED = "transmis"            # content handed to the server, answer unknown:
                                        # « incertain », never resent without a person
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
    first_attempt_at: datetime | None = None   # of the row's first attempt (None: this one)


class Ledger:
    """The deliveries of every issue, in the state database (see the module docstring)."""

    def __init__(self, path: Path, policy: RetryPolicy | None = None, *,
                 clock: Clock = SYSTEM_CLOCK, readonly: bool = False):
        """Open the ledger; ``readonly`` (for ``status``) never creates nor migrates it and
        raises ``state.MissingState`` when the database or its ledger table is absent."""
        self.path = Path(path)
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.conn = connect(self.path, readonly=readonly)
        self._synced = time.monotonic()
        self._grouped: list[tuple[str, dict[str, object]]] = []   # (UPDATE, values) to commit
        self._grouped_keys: set[tuple[object, ...]] = set()        # their rows
        self._grouped_since = 0.0
        if readonly:
            if not component_version(self.conn, COMPONENT):
                self.conn.close()
                raise MissingState(_("la base d'état n'a pas de registre des envois."),
                                   where=str(self.path))
            return
        self.conn.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
        migrate(self.conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        """Commit the verdicts still waiting (``record_grouped``), then close the database."""
        try:
            self.flush()
        finally:
            self.conn.close()

    def flush(self) -> None:
        """Commit the verdicts waiting in memory, if any (every read does it first)."""
        if self._grouped:
            with self._transaction():
                pass

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction, committed when it ends.

        The commit reaches the operating system at once (safe from a kill of the process);
        one commit every ``SYNC_EVERY`` seconds also waits for the disk, flushing the earlier
        ones (see the module docstring).
        """
        flush = time.monotonic() - self._synced >= SYNC_EVERY
        if flush:
            self.conn.execute("PRAGMA synchronous=FULL")
        grouped, self._grouped = self._grouped, []
        grouped_keys, self._grouped_keys = self._grouped_keys, set()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, values in grouped:     # verdicts waiting: in this commit
                    self.conn.execute(sql, values)
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._grouped[:0] = grouped     # not written: still waiting
                self._grouped_keys |= grouped_keys
                raise
            self.conn.execute("COMMIT")
        finally:
            if flush:
                self.conn.execute("PRAGMA synchronous=NORMAL")
        if flush:
            self._synced = time.monotonic()

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
        self.flush()
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
        now = _utc(now or self.clock.now())
        with self._transaction():
            row = self.get(month, email, edition)
            if row is None:
                self._insert(month, email, edition)
                row = self.get(month, email, edition)
            claim = self._decide(row, month, message_id, now)
            if not claim.go:
                return claim
            self._update(month, email, edition, state=State.PENDING, attempts=claim.attempt,
                         last_attempt_at=_iso(now), next_attempt_at=None,
                         message_id=claim.message_id,
                         first_attempt_at=_iso(row.first_attempt_at or now))
        return claim

    def check(self, month: str, email: str, edition: str, *, message_id: str,
              now: datetime | None = None) -> Claim:
        """Decide as ``claim`` does, writing nothing: one read.

        The attempt is then written with the row's next change, in one statement:
        ``mark_transmitted(..., claim=)`` at the server's 354, or ``record(..., claim=)``
        when the message never got that far.
        """
        now = _utc(now or self.clock.now())
        if (month, _key(email), edition) in self._grouped_keys:
            self.flush()                        # its own verdict is still waiting
        row = self.conn.execute(              # ``get`` would commit every waiting verdict
            "SELECT * FROM livraisons WHERE month = ? AND email = ? AND edition = ?",
            (month, _key(email), edition)).fetchone()
        if row is None:
            return self.claim(month, email, edition, message_id=message_id, now=now)
        row = LedgerRow.from_sql(row)
        return self._decide(row, month, message_id, now)

    @staticmethod
    def _decide(row: LedgerRow, month: str, message_id: str, now: datetime) -> Claim:
        if row.state is State.SENT:
            return Claim(False, Outcome.SKIPPED, _("déjà envoyé le {when}.").format(
                when=_show(row.sent_at)))
        if row.state is State.FAILED:
            return Claim(False, Outcome.SKIPPED, _("abandonné : {reason}").format(
                reason=row.reason or ""))
        if row.state is State.TRANSMITTED:   # never resent without a person's decision
            return Claim(False, Outcome.UNCERTAIN, row.reason or uncertain_reason(month))
        if row.state is State.DEFERRED and row.next_attempt_at and row.next_attempt_at > now:
            return Claim(False, Outcome.DEFERRED, _("prochain essai après {when}.").format(
                when=_show(row.next_attempt_at)))
        return Claim(True, message_id=row.message_id or message_id, attempt=row.attempts + 1,
                     first_attempt_at=row.first_attempt_at)

    def mark_transmitted(self, month: str, email: str, edition: str, *,
                         now: datetime | None = None, claim: Claim | None = None) -> None:
        """Commit that the message's content is about to be handed to the server.

        Called by the sender between the server's 354 and the first byte of the content
        (``before_content``). Until the sender's verdict is recorded the row is
        ``transmis``: a run killed in between leaves it so, and later runs count it as
        « incertain » instead of sending it again. Only a row claimed for this attempt
        (``pending``) changes; raises ``DeliveryError`` otherwise, which stops the send
        before any content is written. With ``claim`` (from ``check``, nothing written
        yet), the attempt is counted in the same statement, and the row may be ``pending``
        or ``deferred``. Verdicts waiting in memory are committed with it.
        """
        now = _utc(now or self.clock.now())
        with self._transaction() as conn:
            if claim is None:
                changed = conn.execute(
                    "UPDATE livraisons SET state = ?, reason = ?, last_attempt_at = ? "
                    "WHERE month = ? AND email = ? AND edition = ? AND state = ?",
                    (State.TRANSMITTED.value, uncertain_reason(month), _iso(now), month,
                     _key(email), edition, State.PENDING.value)).rowcount
            else:
                changed = conn.execute(
                    "UPDATE livraisons SET state = :s, reason = :r, attempts = attempts + 1, "
                    "last_attempt_at = :now, first_attempt_at = COALESCE(first_attempt_at, "
                    ":now), next_attempt_at = NULL, message_id = COALESCE(message_id, :mid) "
                    "WHERE month = :m AND email = :e AND edition = :ed AND state IN (:p, :d)",
                    {"s": State.TRANSMITTED.value, "r": uncertain_reason(month),
                     "now": _iso(now), "mid": claim.message_id, "m": month, "e": _key(email),
                     "ed": edition, "p": State.PENDING.value,
                     "d": State.DEFERRED.value}).rowcount
        if changed != 1:
            raise DeliveryError(
                _("le registre des envois n'attendait pas ce message ({email}, {edition}).")
                .format(email=email, edition=edition), where=str(self.path),
                fix=_("Un autre envoi du même numéro tourne peut-être en même temps : "
                      "attendez qu'il finisse, puis relancez."))

    def release_uncertain(self, month: str, emails: Iterable[str] | None = None) -> int:
        """Put « incertain » rows back in the queue: the next send sends them; return how many.

        For a person who has checked (with the server's logs, or the recipients) that these
        messages did not arrive; a recipient who did get one will get it a second time. With
        ``emails`` only those addresses are released, else every uncertain row of the issue.
        Attempts and the first Message-ID are kept, so a mail client can fold a duplicate.
        """
        wanted = None if emails is None else sorted({_key(e) for e in emails})
        with self._transaction() as conn:
            sql = ("UPDATE livraisons SET state = ?, reason = NULL, next_attempt_at = NULL "
                   "WHERE month = ? AND state = ?")
            params: list[object] = [State.PENDING.value, month, State.TRANSMITTED.value]
            if wanted is None:
                return conn.execute(sql, params).rowcount
            released = 0
            for address in wanted:
                released += conn.execute(sql + " AND email = ?", [*params, address]).rowcount
            return released

    def record(self, result: DeliveryResult, now: datetime | None = None, *,
               claim: Claim | None = None) -> State:
        """Write the sender's verdict on one message; return the row's new state.

        ``SENT`` makes the row sent. ``SKIPPED`` from the sender itself means it holds proof
        the recipient already has the message (the outbox file is there, written by a run
        killed before it could record it): that acceptance is recorded, late, as sent.
        ``FAILED`` is final. ``DEFERRED`` schedules the next try with backoff, or fails the
        row once the attempts or the total time are used up. A sent row is never downgraded
        and a failed one changes only on a later ``SENT``. With ``claim`` (from ``check``:
        the attempt not written yet), the attempt is counted first, in the same commit.
        """
        env, now = result.envelope, _utc(now or self.clock.now())
        reply = _reply(result)
        with self._transaction():
            row = self.get(env.month, env.recipient, env.edition)
            if row is None:
                self._insert(env.month, env.recipient, env.edition)
                row = self.get(env.month, env.recipient, env.edition)
            key = (env.month, env.recipient, env.edition)
            if claim is not None and row.state in (State.PENDING, State.DEFERRED):
                self._update(*key, state=State.PENDING, attempts=row.attempts + 1,
                             last_attempt_at=_iso(now), next_attempt_at=None,
                             message_id=row.message_id or claim.message_id,
                             first_attempt_at=_iso(row.first_attempt_at or now))
                row = self.get(*key)
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

    def record_grouped(self, result: DeliveryResult, claim: Claim,
                       now: datetime | None = None) -> tuple[State, str | None]:
        """Record the verdict on a ``transmis`` row with the next commit; return state, reason.

        For a row made ``transmis`` by ``mark_transmitted(..., claim=claim)``: the verdict
        is what ``record`` would write, computed from the claim, and waits in memory for
        the next commit — the next message's 354 as a rule, else after ``GROUP_SECONDS`` or
        ``GROUP_RECORDS`` verdicts, and at the latest before any read and at ``close``. A
        run killed before that commit leaves the row ``transmis`` (« incertain »): never
        sent twice, only not known for sure (see ``LedgerSender``).
        """
        env, now = result.envelope, _utc(now or self.clock.now())
        where = {"m": env.month, "e": _key(env.recipient), "ed": env.edition,
                 "t": State.TRANSMITTED.value}
        if result.outcome is Outcome.SENT:
            state, reason = State.SENT, None
            self._group(
                "UPDATE livraisons SET state = :s, sent_at = :now, reason = NULL, "
                "smtp_code = :code, smtp_text = :text, message_id = :mid, "
                "next_attempt_at = NULL, attempts = MAX(attempts, 1) "
                "WHERE month = :m AND email = :e AND edition = :ed AND state = :t",
                {**where, "s": State.SENT.value, "now": _iso(now), "code": result.code,
                 "text": result.detail, "mid": env.message_id})
            return state, reason
        if result.outcome not in (Outcome.DEFERRED, Outcome.FAILED):
            return self.record(result, now), None       # not a sender's verdict: at once
        attempts = max(claim.attempt, 1)
        first = claim.first_attempt_at or now
        state, reason = self._verdict(result.outcome, attempts, now - first, _reply(result))
        next_at = (_iso(now + self.policy.delay(attempts)) if state is State.DEFERRED
                   else None)
        self._group(
            "UPDATE livraisons SET state = :s, reason = :reason, attempts = :attempts, "
            "smtp_code = :code, smtp_text = :text, last_attempt_at = :now, "
            "first_attempt_at = COALESCE(first_attempt_at, :first), "
            "next_attempt_at = :next, message_id = COALESCE(message_id, :mid) "
            "WHERE month = :m AND email = :e AND edition = :ed AND state = :t",
            {**where, "s": state.value, "reason": reason, "attempts": attempts,
             "code": result.code, "text": result.detail, "now": _iso(now),
             "first": _iso(first), "next": next_at, "mid": env.message_id})
        return state, reason

    def _group(self, sql: str, values: dict[str, object]) -> None:
        """Queue one verdict for the next commit; commit now if the queue is full or old."""
        if not self._grouped:
            self._grouped_since = time.monotonic()
        self._grouped.append((sql, values))
        self._grouped_keys.add((values["m"], values["e"], values["ed"]))
        if (len(self._grouped) >= GROUP_RECORDS
                or time.monotonic() - self._grouped_since >= GROUP_SECONDS):
            self.flush()

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
        self.flush()
        found = dict(self.conn.execute(
            "SELECT state, COUNT(*) FROM livraisons WHERE month = ? GROUP BY state", (month,)))
        return {state: found.get(state.value, 0) for state in State}

    def attempted(self, month: str) -> int:
        """Return how many of the issue's rows were ever attempted (a count never lowered)."""
        self.flush()
        return self.conn.execute("SELECT COUNT(*) FROM livraisons WHERE month = ? AND "
                                 "first_attempt_at IS NOT NULL", (month,)).fetchone()[0]

    def make_durable(self) -> None:
        """Flush what is waiting and force every commit so far onto the disk (checkpoint)."""
        self.flush()
        self.conn.execute("PRAGMA wal_checkpoint(FULL)").fetchall()

    def failures(self, month: str) -> list[LedgerRow]:
        """Return the issue's failed rows, by address, for a person to look at."""
        self.flush()
        return [LedgerRow.from_sql(r) for r in self.conn.execute(
            "SELECT * FROM livraisons WHERE month = ? AND state = ? ORDER BY email, edition",
            (month, State.FAILED.value))]

    def uncertain(self, month: str) -> list[LedgerRow]:
        """Return the issue's « incertain » rows (``transmis``), by address, with their reason."""
        self.flush()
        return [LedgerRow.from_sql(r) for r in self.conn.execute(
            "SELECT * FROM livraisons WHERE month = ? AND state = ? ORDER BY email, edition",
            (month, State.TRANSMITTED.value))]

    def next_retry(self, month: str) -> datetime | None:
        """Return when the earliest deferred message of the issue may be tried again."""
        self.flush()
        row = self.conn.execute("SELECT MIN(next_attempt_at) FROM livraisons WHERE month = ? "
                                "AND state = ?", (month, State.DEFERRED.value)).fetchone()
        return _parse(row[0])

    def summary(self, month: str) -> str:
        """Say the counts the way the pivot reads them: « envoyés 4 812 / 5 000, … ».

        « incertains N » is added only when some rows are (see ``uncertain``).
        """
        counts = self.counts(month)
        number = lambda n: format_decimal(n, locale=current_locale())  # noqa: E731
        text = _("envoyés {sent} / {total}, en attente {waiting}, échecs {failed}").format(
            sent=number(counts[State.SENT]), total=number(sum(counts.values())),
            waiting=number(counts[State.PENDING] + counts[State.DEFERRED]),
            failed=number(counts[State.FAILED]))
        if counts[State.TRANSMITTED]:
            text += _(", incertains {n}").format(n=number(counts[State.TRANSMITTED]))
        return text

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
    deferred; an « incertain » row (``transmis``) is not sent again (``Outcome.UNCERTAIN``).
    Otherwise, for an inner sender whose ``send`` takes ``before_content`` (the SMTP
    sender), that decision is a read (``Ledger.check``); the sender calls the hook after the
    server's 354 and before writing the content, which commits the row ``transmis`` with
    the attempt (attempts + 1, time, Message-ID) in one statement; its verdict then waits
    for the next commit (``Ledger.record_grouped``, see the module docstring). A message
    refused before its content has its attempt and verdict committed at once. For a sender
    without the hook, the attempt is committed first (``pending``), then the inner sender is
    called, then its result is committed at once.

    Crash safety (kill, Ctrl-C), by where the process stops:
    - before ``transmis`` is committed: the server has at most received the DATA command,
      never the final dot, so it delivers nothing; the row is as it was (``pending``, or
      ``deferred`` and due) and the next run sends it (never skipped);
    - after ``transmis``, before the verdict is committed (the server's answer to the final
      dot, usually a 250, is in flight): the next run does not send it again, and counts it
      « incertain » with a reason. No SMTP client can know more (the server and our
      database cannot commit together; RFC 1047): we choose « at most once, and say so »
      over « at least once ». The window holds at most one message per connection (its
      verdict waits for the next 354's commit: see the module docstring);
      ``Ledger.release_uncertain`` resends them once a person has checked;
    - after the verdict is committed: nothing to redo.
    A dropped connection, unlike a kill, is reported by the sender as ``DEFERRED`` and
    retried (a server that breaks the session has most likely not kept the message).
    A sender that does not take or does not call ``before_content`` (the outbox ignores it)
    leaves its rows ``pending`` until the verdict; the outbox closes the window itself (the
    file is written once, no-clobber, and answers « already there » on the next run).
    Power cuts: see the module docstring. Two runs of the same issue at once are not guarded
    against here: the caller holds a lock. Exceptions from the inner sender propagate; the
    row stays as it was (``pending``, ``deferred`` or ``transmis``) for the next run.
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
        key = (_key(envelope.recipient), envelope.edition)
        if key in self._in_flight:
            return DeliveryResult(envelope, Outcome.SKIPPED, _("envoi déjà en cours."))
        if self.hooked:   # a read now; the attempt is written with the 354's commit
            claim = self.ledger.check(self.month, envelope.recipient, envelope.edition,
                                      message_id=envelope.message_id, now=self.clock.now())
        else:
            claim = self.ledger.claim(self.month, envelope.recipient, envelope.edition,
                                      message_id=envelope.message_id, now=self.clock.now())
        if not claim.go:
            return DeliveryResult(envelope, claim.outcome, claim.detail)
        envelope = with_message_id(envelope, claim.message_id)
        self._in_flight.add(key)
        reason: str | None = None
        try:
            if self.hooked:
                transmitted = False

                def before_content() -> None:
                    nonlocal transmitted
                    self.ledger.mark_transmitted(self.month, envelope.recipient,
                                                 envelope.edition, now=self.clock.now(),
                                                 claim=claim)
                    transmitted = True
                result = await self.inner.send(envelope, before_content=before_content)
                if transmitted:   # the row is ``transmis``: its verdict can wait a little
                    state, reason = self.ledger.record_grouped(result, claim,
                                                               now=self.clock.now())
                else:             # refused before the content, or a sender without the hook
                    state = self.ledger.record(result, now=self.clock.now(), claim=claim)
            else:
                result = await self.inner.send(envelope)
                state = self.ledger.record(result, now=self.clock.now())  # at once: resend window
        finally:
            self._in_flight.discard(key)
        if state is State.FAILED and result.outcome is Outcome.DEFERRED:  # retries used up
            if reason is None:
                row = self.ledger.get(self.month, envelope.recipient, envelope.edition)
                reason = row.reason if row else None
            result = replace(result, outcome=Outcome.FAILED, detail=reason or "")
        return result


def takes_before_content(sender: Sender) -> bool:
    """Tell whether ``sender.send`` accepts the ``before_content`` hook (see ``Sender``)."""
    try:
        parameters = inspect.signature(sender.send).parameters
    except (TypeError, ValueError):
        return False
    return "before_content" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def uncertain_reason(month: str) -> str:
    """Say why a ``transmis`` row is « incertain » and how to have it sent again."""
    return _("incertain : le message a été transmis au serveur mais l'envoi a été interrompu "
             "avant sa réponse ; il a très probablement été reçu, il n'est donc pas renvoyé. "
             "Si vous constatez qu'il n'est pas arrivé, lancez « infolettre send {month} "
             "--renvoyer-incertains ».").format(month=month)


def _key(email: str) -> str:
    """Return the ledger's form of an address (recipients are merged case-insensitively)."""
    return email.strip().casefold()


def _reply(result: DeliveryResult) -> str:
    text = " ".join(f"{result.code or ''} {result.detail}".split())
    return text or _("aucune réponse du serveur")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime | None) -> str | None:
    return _utc(moment).isoformat(timespec="seconds") if moment else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _show(moment: datetime | None, tz: tzinfo = timezone.utc) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %z") if moment else ""

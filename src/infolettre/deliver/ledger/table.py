"""The ledger's table, ``livraisons`` in the state database: its rows, reads and writes.

The rows live in the state database (``state.connect``: WAL), migrated with
``state.migrate`` under the component ``ledger``. Every change of a row goes through one
statement, ``write``: the whole row as ``rules.py`` computed it, guarded by the state it was
read in, so the table holds no rule of its own and a row changed behind our back (another
run, a person) is never overwritten.

Grouped verdicts (what makes the ledger cheap enough for a fast server): ``write_later``
keeps a write in memory until the next commit — normally the next message's 354 — else
for at most ``GROUP_SECONDS`` (50 ms) or ``GROUP_RECORDS`` (200) writes; every read
through ``Ledger`` (``get``, ``counts``, ``failures``…), ``flush`` and ``close`` commit what
is waiting first. Only verdicts on ``transmis`` rows are kept so (``Ledger.record_grouped``):
a kill before their commit leaves the row ``transmis``, never resent.

The 354's commits of a pipelined send are grouped too (``commit_soon``): the messages of
every connection that reached their 354 in the same turn of the event loop share one
commit, made at the next turn, before any of their contents is written.

Durability trade-off: the connection runs with ``synchronous=NORMAL`` (WAL), not ``FULL``.
A commit then reaches the operating system (it survives a kill of the process, an
exception, Ctrl-C — what the crash tests exercise) without waiting for the disk; a commit at
most every ``SYNC_EVERY`` seconds is made with ``FULL``, which flushes every earlier one. An
operating-system crash or a power cut can therefore lose the last second or so of
bookkeeping: rows go back to an earlier state (``sent`` → ``transmis``, counted uncertain;
``transmis`` or ``sent`` → ``pending``, resent), so at most that second's messages may go
twice. In exchange, a message costs one commit that does not wait for a disk flush (several
milliseconds each on an ordinary disk, serialized across all connections), which is what
lets the sender keep up with a fast server.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from itertools import islice
from pathlib import Path

from ...i18n import _
from ...state import MissingState, component_version, connect, migrate
from .rules import LedgerRow, State  # noqa: F401 - LedgerRow re-exported for the package

COMPONENT = "ledger"
BATCH = 1000  # rows per transaction when planning
SYNC_EVERY = 1.0  # seconds: at most this long between two commits flushed to disk (FULL)
#: Writes of verdicts on ``transmis`` rows wait in memory for the next commit (the next
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
_ROW = "SELECT * FROM livraisons WHERE month = ? AND email = ? AND edition = ?"
_INSERT = "INSERT OR IGNORE INTO livraisons (month, email, edition) VALUES (?, ?, ?)"
#: Every change of a row: its columns in ``LedgerRow``'s order, positional (cheaper to
#: bind than names, and this runs twice per message), if it is still in the state read.
_WRITE = ("UPDATE livraisons SET state = ?, attempts = ?, smtp_code = ?, smtp_text = ?, "
          "reason = ?, message_id = ?, first_attempt_at = ?, last_attempt_at = ?, "
          "sent_at = ?, next_attempt_at = ? "
          "WHERE month = ? AND email = ? AND edition = ? AND state = ?")
_IN_STATE = ("SELECT * FROM livraisons WHERE month = ? AND state = ? "
             "ORDER BY email, edition")


def row_from_sql(row: sqlite3.Row) -> LedgerRow:
    """Build a ``LedgerRow`` from a ``livraisons`` row (times parsed, state typed)."""
    values = dict(row)
    for name in ("first_attempt_at", "last_attempt_at", "sent_at", "next_attempt_at"):
        values[name] = parse(values[name])
    values["state"] = State(values["state"])
    return LedgerRow(**values)


class Table:
    """The open ``livraisons`` table: reads, guarded writes, grouped commits (see above)."""

    def __init__(self, path: Path, *, readonly: bool = False):
        """Open the table; ``readonly`` (for ``status``) never creates nor migrates it and
        raises ``state.MissingState`` when the database or its ledger table is absent."""
        self.path = Path(path)
        self.conn = connect(self.path, readonly=readonly)
        self._synced = time.monotonic()
        self._grouped: list[tuple[object, ...]] = []          # writes to commit, in order
        self._grouped_keys: set[tuple[object, ...]] = set()  # their rows
        self._grouped_since = 0.0
        self._soon: list[tuple[tuple[object, ...], asyncio.Future]] = []   # ``commit_soon``
        if readonly:
            if not component_version(self.conn, COMPONENT):
                self.conn.close()
                raise MissingState(_("la base d'état n'a pas de registre des envois."),
                                   where=str(self.path))
            return
        self.conn.execute("PRAGMA synchronous=NORMAL")  # see the module docstring
        migrate(self.conn, COMPONENT, MIGRATIONS)

    def close(self) -> None:
        """Commit the writes still waiting (``write_later``), then close the database."""
        try:
            self.flush()
        finally:
            self.conn.close()

    def flush(self) -> None:
        """Commit the writes waiting in memory, if any (every read of ``Ledger`` does it)."""
        if self._grouped:
            with self.transaction():
                pass

    def make_durable(self) -> None:
        """Flush what is waiting and force every commit so far onto the disk (checkpoint)."""
        self.flush()
        self.conn.execute("PRAGMA wal_checkpoint(FULL)").fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one write transaction, with the writes waiting; commit at its end.

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
                for values in grouped:     # writes waiting: in this commit
                    self.conn.execute(_WRITE, values)
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
        while batch := [(month, key(e), ed) for e, ed in islice(stream, BATCH)]:
            with self.transaction() as conn:
                before = conn.total_changes
                conn.executemany(_INSERT, batch)
                added += conn.total_changes - before
        return added

    def read(self, month: str, email: str, edition: str, *,
             create: bool = False) -> LedgerRow | None:
        """Return the row as committed or being written (waiting writes are not seen).

        With ``create``, a row the ledger has never heard of is inserted, pending.
        """
        where = (month, key(email), edition)
        if create:
            self.conn.execute(_INSERT, where)
        row = self.conn.execute(_ROW, where).fetchone()
        return row_from_sql(row) if row else None

    def waiting(self, month: str, email: str, edition: str) -> bool:
        """Tell whether a write of this row waits in memory (``write_later``)."""
        return (month, key(email), edition) in self._grouped_keys

    def write(self, row: LedgerRow, was: State) -> bool:
        """Write ``row`` over the stored one if that is still ``was``; tell whether it was."""
        return self.conn.execute(_WRITE, write_values(row, was)).rowcount == 1

    def write_later(self, row: LedgerRow, was: State) -> None:
        """Write ``row`` with the next commit; commit now if the waiting ones are many or old."""
        if not self._grouped:
            self._grouped_since = time.monotonic()
        self._grouped.append(write_values(row, was))
        self._grouped_keys.add((row.month, row.email, row.edition))
        if (len(self._grouped) >= GROUP_RECORDS
                or time.monotonic() - self._grouped_since >= GROUP_SECONDS):
            self.flush()

    async def commit_soon(self, row: LedgerRow, was: State) -> bool:
        """Write ``row`` if still ``was``, in one commit with every write asked in this turn.

        Group commit: the messages of all connections that reached their 354 in the same
        turn of the event loop are committed together at its next turn, with the verdicts
        waiting; each caller resumes only once the commit is made (or raised). Return
        whether the row was still ``was``. A task cancelled while it waits (the run is
        stopping on another error) may leave its row ``transmis`` with nothing sent:
        « incertain », never sent twice.
        """
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._soon.append((write_values(row, was), done))
        if len(self._soon) == 1:
            loop.call_soon(self._commit_soon)
        return await done

    def _commit_soon(self) -> None:
        """Make the commit ``commit_soon`` promised; resolve each caller's future."""
        batch, self._soon = self._soon, []
        try:
            with self.transaction() as conn:
                written = [conn.execute(_WRITE, values).rowcount == 1 for values, _d in batch]
        except BaseException as exc:
            for _values, done in batch:
                if not done.done():
                    done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_values, done), ok in zip(batch, written):
            if not done.done():
                done.set_result(ok)

    def in_state(self, month: str, state: State) -> list[LedgerRow]:
        """Return the issue's rows in one state, by address."""
        self.flush()
        return [row_from_sql(r)
                for r in self.conn.execute(_IN_STATE, (month, state.value))]

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

    def next_retry(self, month: str) -> datetime | None:
        """Return when the earliest deferred message of the issue may be tried again."""
        self.flush()
        row = self.conn.execute("SELECT MIN(next_attempt_at) FROM livraisons WHERE month = ? "
                                "AND state = ?", (month, State.DEFERRED.value)).fetchone()
        return parse(row[0])


def write_values(row: LedgerRow, was: State) -> tuple[object, ...]:
    """Return the parameters of ``_WRITE`` for one row (times as ISO text, in UTC)."""
    return (row.state.value, row.attempts, row.smtp_code, row.smtp_text, row.reason,
            row.message_id, iso(row.first_attempt_at), iso(row.last_attempt_at),
            iso(row.sent_at), iso(row.next_attempt_at), row.month, row.email, row.edition,
            was.value)


def key(email: str) -> str:
    """Return the ledger's form of an address (recipients are merged case-insensitively)."""
    return email.strip().casefold()


def utc(moment: datetime) -> datetime:
    """Return the moment in UTC (a naive one is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@lru_cache(maxsize=64)
def iso(moment: datetime | None) -> str | None:
    """Return the stored form of a moment: ISO 8601 in UTC, to the second.

    Cached: a message's two writes carry the same few moments, eight times in all; equal
    moments (the same instant) have the same UTC text, so the cache never mixes them up.
    """
    return utc(moment).isoformat(timespec="seconds") if moment else None


def parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None

"""The one mailbox runner: every message read, handled, then filed — and never lost.

A source (``maildir.MaildirFolder``, ``imap.ImapFolder``) lists its messages, fetches each
one and files it; a handler (the mail intake, unsubscribe requests, later bounces) says
what a message means. For each message, in the source's order, ``each_message``:

1. fetches it; one that vanished meanwhile (another reader took it) is skipped;
2. a message the source could only read in part (over ``limits.MAX_MESSAGE_BYTES`` on an
   IMAP server) is not read at all: the handler's ``refuse`` gives the reason, and the
   source puts it whole in « À vérifier »;
3. drops a reason header left by an earlier run, archives the raw bytes when the handler
   has an ``archive_to`` folder, and measures them (``screen``): too big to parse safely →
   ``refuse``, with the reason;
4. else ``handler.take(message)`` does the work and returns its result;
5. files the message by that result — « Traité » (done) or « À vérifier » (``for_review``,
   with the reason in an ``X-Infolettre-Raison`` header at the top) — only once the result
   is recorded: copy first, original deleted last, so a crash leaves a message in two
   places at worst, never in none.

When the handler fails, nothing is lost either way. A failure of the surroundings (an
``InfolettreError`` — the archive could not be written —, an ``OSError``, an SQLite error:
a full disk, a locked database) leaves the message where it is, reported, to be tried again
at the next run; any other exception is a crash on this message, which goes to « À
vérifier » with the reason (``refuse``). Either way the other messages go on.

A source raises ``MessageProblem`` for a problem with one message (unreadable, not moved):
it is reported and the others go on; anything else it raises (a lost connection, a folder
that cannot be written) stops the run, after what was done so far was yielded.

Batches (``each_message(..., batch=n)``, the mail intake): steps 1–4 run for up to ``n``
messages (fewer once they hold ``BATCH_BYTES``) with their fsyncs deferred
(``fsutil.deferred_sync``: files written under temporary names); then, in this order, every
file they wrote is made durable and put in place (``Pending.sync``), the handler records
them (``handler.commit(failed)``: « seen » only once the items are on disk), and only then
are the messages filed, the source finishing its moves at once (``source.flush()``: one UID
MOVE for the batch). A crash before that leaves the originals where they were and the files
under temporary names only: the next run takes them again, as new. A step that cannot wait
(an acknowledgment going out) syncs and records earlier (``fsutil.sync_pending``). Stopped
by an exception in the middle of a batch, the runner still makes durable and records what
was done, then lets the exception go (the originals stay, found done next time). A message
whose file name another process took meanwhile (``Pending.failed``) is left, done again.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from ..errors import InfolettreError
from ..fsutil import deferred_sync
from ..i18n import _
from .limits import oversized
from .screening import screen, with_reason, without_reason


@dataclass(frozen=True)
class Message:
    """One message of a mailbox: where it is (``key``), what to call it, its bytes."""

    key: Hashable            # what the source needs to find it again: a path, a UID
    label: str               # how a report names it: the file name, « imap:<UID> »
    raw: bytes
    received: datetime | None = None  # when it arrived (file time, IMAP INTERNALDATE)
    #: Its size, set only when it is too big to be read (``raw`` is then its beginning).
    size: int | None = None

    @property
    def complete(self) -> bool:
        """Tell whether ``raw`` is the whole message (not only its first bytes)."""
        return self.size is None


class MessageProblem(Exception):
    """A source's problem with one message: it stays where it is, reported; the others go on."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


class Result(Protocol):
    """What a handler returns: whether the message goes to « À vérifier », and why."""

    @property
    def filed_for_review(self) -> bool: ...

    @property
    def reason(self) -> str: ...


R = TypeVar("R", bound=Result)


class Handler(Protocol[R]):
    """What a message means to one use of a mailbox (the intake, unsubscribe requests…)."""

    #: Where raw bytes are kept before anything can fail (None: they are not kept).
    archive_to: Path | None

    def take(self, message: Message) -> R:
        """Do the work for one message (screened: no reason header, not too big)."""

    def refuse(self, message: Message, reason: str) -> R:
        """Return the result of a message that goes to « À vérifier » unread, for ``reason``."""


class Source(Protocol):
    """A mailbox folder: its messages, each fetched, then filed."""

    def keys(self) -> list[Hashable]:
        """Return the messages to handle, in order."""

    def label(self, key: Hashable) -> str:
        """Name a message in a report before it is fetched (file name, « imap:<UID> »)."""

    def fetch(self, key: Hashable) -> Message | None:
        """Read one message; None when it is gone (taken meanwhile by another reader)."""

    def file_done(self, message: Message) -> str:
        """File a message as done; return where it went (a folder's name)."""

    def file_for_review(self, message: Message, raw: bytes | None) -> str:
        """Put ``raw`` (None: the message as it is) in « À vérifier », then drop the original."""


@dataclass(frozen=True)
class Handled(Generic[R]):
    """What became of one message: the handler's result, and where it went.

    ``result`` is None when the message was left where it was (``problem`` says why: it is
    tried again at the next run). ``folder`` is None when it was not filed: left, or a
    filing that failed (``problem`` says so; the next run finds it done and files it).
    """

    key: Hashable
    label: str
    result: R | None
    folder: str | None = None
    problem: str = ""

    @property
    def left(self) -> bool:
        """Tell whether the message was left where it was, unhandled."""
        return self.result is None


#: A batch ends early once its messages hold this many bytes (they are kept until filed).
BATCH_BYTES = 64 * 1024 * 1024

#: Failures of the surroundings, not of the message: it stays, to be tried again.
SURROUNDINGS = (InfolettreError, OSError, sqlite3.Error)


def each_message(source: Source, handler: Handler[R], *,
                 batch: int = 1) -> Iterator[Handled[R]]:
    """Handle and file every message of ``source`` (module docstring), yielding each one.

    ``batch`` > 1 handles that many messages before making them durable, recording and
    filing them together (module docstring); 1 does each message from fetch to filing.
    """
    keys = source.keys()
    if batch <= 1:
        for key in keys:
            handled = handle_one(source, handler, key)
            if handled is not None:
                yield handled
        return
    position = 0
    while position < len(keys):
        handled, position = _each_batch(source, handler, keys, position, batch)
        yield from handled


def handle_one(source: Source, handler: Handler[R], key: Hashable) -> Handled[R] | None:
    """Fetch, screen, handle and file one message; None when it vanished meanwhile."""
    taken = _take(source, handler, key)
    if taken is None or isinstance(taken, Handled):
        return taken
    return _file(source, *taken)


def _each_batch(source: Source, handler: Handler[R], keys: Sequence[Hashable], position: int,
                batch: int) -> tuple[list[Handled[R]], int]:
    """Handle up to ``batch`` messages from ``keys[position]`` (fewer once they hold
    ``BATCH_BYTES``) with deferred fsyncs; then sync, record (``commit``), file, flush.
    Returns what became of them and the position of the next batch."""
    done: list[Handled[R] | tuple[Message, R, bool]] = []
    held = 0  # bytes of the messages kept for filing
    with deferred_sync() as pending:
        # each sync (here, or earlier for a step that cannot wait) records what it made durable
        pending.then = getattr(handler, "commit", None)
        try:
            end = min(len(keys), position + batch)
            while position < end and held < BATCH_BYTES:
                key = keys[position]
                position += 1
                pending.begin(key)
                taken = _take(source, handler, key)
                if isinstance(taken, Handled):  # left in the inbox: what it wrote is dropped
                    pending.failed.add(key)
                if taken is not None:
                    done.append(taken)
                    held += 0 if isinstance(taken, Handled) else len(taken[0].raw)
        finally:  # interrupted too: what was done is made durable and recorded, not filed
            pending.sync()
    filed = [_unplaced(t) if not isinstance(t, Handled) and t[0].key in pending.failed
             else t if isinstance(t, Handled) else _file(source, *t) for t in done]
    flush = getattr(source, "flush", None)
    problems = flush() if flush is not None else {}
    return [dataclasses.replace(h, folder=None, problem=problems[h.key])
            if h.key in problems and h.folder is not None else h for h in filed], position


def _unplaced(taken: tuple[Message, R, bool]) -> Handled[R]:
    """A message whose file's name was taken meanwhile (another process): left, done again."""
    message = taken[0]
    return Handled(message.key, message.label, None, problem=_(
        "un nom de fichier a été pris entre-temps par un autre programme ; le message reste "
        "dans la boîte et sera repris au prochain relevé."))


def _take(source: Source, handler: Handler[R],
          key: Hashable) -> Handled[R] | tuple[Message, R, bool] | None:
    """Fetch, screen and handle one message: (message, result, whole) to file, a
    ``Handled`` left where it is, or None when it vanished meanwhile."""
    try:
        message = source.fetch(key)
    except MessageProblem as exc:
        return Handled(key, source.label(key), None, problem=exc.problem)
    if message is None:
        return None
    if message.size is not None:  # too big: only its beginning was read; set aside whole
        return message, handler.refuse(message, oversized(message.size)), True
    message = dataclasses.replace(message, raw=without_reason(message.raw))
    try:
        refused = screen(message.raw, handler.archive_to)
        result = handler.refuse(message, refused) if refused else handler.take(message)
    except SURROUNDINGS as exc:
        return Handled(key, message.label, None, problem=_(
            "traitement interrompu ({detail}) ; le message reste dans la boîte et sera repris "
            "au prochain relevé.").format(detail=_detail(exc)))
    except Exception as exc:  # noqa: BLE001 - a crash on this message: kept for a person
        result = handler.refuse(message, _(
            "échec du traitement ({detail}) ; le message est mis de côté. Après correction, "
            "remettez-le dans la boîte de réception : il sera traité de nouveau.").format(
            detail=_detail(exc)))
    return message, result, False


def _file(source: Source, message: Message, result: R, whole: bool = False) -> Handled[R]:
    """File the message by its result (« À vérifier » with the reason, or done)."""
    try:
        if not result.filed_for_review:
            folder = source.file_done(message)
        elif whole:
            folder = source.file_for_review(message, None)
        else:
            folder = source.file_for_review(message, with_reason(message.raw, result.reason))
    except MessageProblem as exc:
        return Handled(message.key, message.label, result, problem=exc.problem)
    return Handled(message.key, message.label, result, folder)


def _detail(exc: BaseException) -> str:
    return exc.message if isinstance(exc, InfolettreError) else f"{type(exc).__name__}: {exc}"

"""Emailed submissions, from raw bytes to an item file, without ever losing one.

The intake is a handler of the one mailbox runner (``infolettre.mailbox``), whatever the
mailbox: a Maildir here (``process_maildir``), an IMAP folder (``imap.poll``). The runner
drops a reason header left by an earlier run, archives the raw bytes (content-addressed,
durable, in ``<donnees>/courriels/``) and measures them; then ``process_raw`` skips a message
seen before, converts it (``gather.mail``), writes the item (``store.write_draft``), and
only then records it as seen. A message whose processing fails is NOT recorded: its raw
bytes are safe in the archive, the runner puts it in « À vérifier » with the reason, and a
run after the fix processes it again.

Each item written is announced (``events.item_written``); what follows it subscribes, for
the run (``run_intake``): the acknowledgment to its sender (``acknowledge``).

The runner takes the messages by batches (``BATCH``, ``mailbox.runner``): an item's files
are written under temporary names, put in place once the batch is synced, and the
messages recorded as seen (``SeenLater``) only then, before they leave the inbox. A
subscriber that must see the file itself (or send word of it) calls ``fsutil.sync_pending``
first, as the acknowledgment does.

The issue (month) of a submission is the earliest one not signed off yet
(``months.open_issue``): mail of December 4 goes to the December issue while it is not
approved (``content/2026-12/``), to January once it is. An event or a deadline that will be
past when that issue comes out is flagged at once (``late``): a note in the item, a line in
the report, a sentence in the acknowledgment. When a watched feed already brought the same
news (``FeedStore.same_news``), the email is still written and each file names the other,
for the pivot to keep one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import sqlite3
from collections.abc import Callable, Collection
from contextlib import closing
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..events import changes, item_written
from ..fsutil import remove_stale_temporaries
from ..i18n import _
from ..mailbox import DONE_FOLDER, REVIEW_FOLDER, MaildirFolder, Message, Source, each_message
from ..mailbox import archive as keep_raw
from ..mailbox import screen, without_reason
from ..models import Month, Status
from ..state.issues import open_issue
from ..state.runlock import holds_lock
from ..settings import Settings
from ..state import connect, migrate, state_file
from ..content import add_note, write_draft
from .acknowledge import acknowledging
from .feeds.dedupe import why_same
from .feeds.store import FeedItem, FeedStore
from .intake_report import IntakeReport, IntakeResult, Progress
from .late import late_dates
from .mail import convert_message
from .mail.convert import ItemDraft

if TYPE_CHECKING:
    from ..envelopes import Sender

__all__ = ["ARCHIVE_DIR", "AUTOMATIC", "DONE_FOLDER", "REVIEW_FOLDER", "IntakeHandler",
           "IntakeReport", "IntakeResult", "Progress", "announce", "archive", "archive_folder",
           "process_maildir", "process_raw", "run_intake", "without_reason"]

ARCHIVE_DIR = "courriels"
#: Messages handled before their files are synced, recorded and filed together (a crash
#: takes at most this many again: the ones in flight; ``mailbox.runner``).
BATCH = 50
#: How ``gather.mail`` starts the reason of automatic mail (filed as done, nobody to tell);
#: other rejections (unreadable, empty, not an email) are filed for a person.
AUTOMATIC = "courriel automatique"
SCHEMA = ["""
CREATE TABLE courriels_vus (
    cle TEXT PRIMARY KEY,        -- 'id:<Message-ID>', or 'sha256:<hex>' when it has none
    sha256 TEXT NOT NULL,
    message_id TEXT,
    vu_le TEXT NOT NULL,         -- UTC, ISO 8601
    resultat TEXT NOT NULL,      -- item | rejected
    chemin TEXT,                 -- the item file written
    raison TEXT
);
CREATE INDEX courriels_vus_sha256 ON courriels_vus (sha256)
"""]


def process_raw(raw: bytes, settings: Settings, *, source: str, conn: sqlite3.Connection,
                month: str | None = None, received: datetime | None = None,
                clock: Clock = SYSTEM_CLOCK, screened: bool = False,
                later: SeenLater | None = None) -> IntakeResult:
    """Archive, de-duplicate, convert and write one message; never mark a failure as seen.

    ``source`` names where it came from (a file, an IMAP UID), for the report. ``screened``:
    the mailbox runner already dropped the reason header, archived and measured the bytes
    (``mailbox.screen``); otherwise it is done here first. Raises ``InfolettreError`` only
    when the raw bytes cannot be archived: the message must then stay where it is.
    ``later``: the message is recorded as seen there, written to the database by the runner's
    batch once the item is durable (``SeenLater.write``); None: recorded at once.
    """
    if not screened:
        raw = without_reason(raw)
        refused = screen(raw, archive_folder(settings))
        if refused:  # measured before any parsing (``mailbox.limits``)
            return _refused(raw, refused, source)
    digest = hashlib.sha256(raw).hexdigest()
    migrate(conn, "courriels", SCHEMA)
    message_id = _message_id(raw)
    seen = (later.find(message_id, digest) if later is not None else None) \
        or _seen(conn, message_id, digest)
    if seen is not None:
        return IntakeResult("duplicate", Path(seen["chemin"]) if seen["chemin"] else None,
                            _("déjà reçu le {when}.").format(when=seen["vu_le"][:10]),
                            message_id, source)
    received = received or clock.now()
    try:
        result = _convert_and_write(raw, settings, month or open_issue(
            conn, received, settings), received, message_id, source, conn)
    except Exception as exc:  # noqa: BLE001 - any failure: kept for a person, retried later
        detail = exc.message if isinstance(exc, InfolettreError) else \
            f"{type(exc).__name__}: {exc}"
        return IntakeResult("failed", None, _("échec du traitement ({detail}) ; le message "
                                              "est archivé. Après correction, remettez-le "
                                              "dans la boîte de réception : il sera traité "
                                              "de nouveau.").format(detail=detail),
                            message_id, source, for_person=True)
    row = _seen_row(message_id, digest, result, clock.now())
    if later is not None:
        later.add(row)
    else:
        conn.execute(_REMEMBER, row)
    return result


def _refused(raw: bytes, reason: str, source: str, *, read: bool = True) -> IntakeResult:
    """The result of a message put aside unread (too big, or a crash): for a person."""
    return IntakeResult("failed", None, reason, _message_id(raw) if read else "", source,
                        for_person=True)


def _convert_and_write(raw: bytes, settings: Settings, month: str, received: datetime,
                       message_id: str, source: str, conn: sqlite3.Connection) -> IntakeResult:
    """Convert the message; write its item, or say why it is not one."""
    conversion = convert_message(raw, settings, month=month, received=received,
                                 max_attachment_bytes=settings.mail_intake.max_attachment_bytes)
    if conversion.draft is None:
        reason = conversion.rejection or ""
        return IntakeResult("rejected", None, reason, message_id, source,
                            for_person=not reason.startswith(AUTOMATIC))
    draft = conversion.draft
    late = late_dates(draft.front_matter, month, _local_day(received, settings))
    draft.notes.extend(d.note() for d in late)
    twin = _feed_twin(conn, settings, month, draft)
    path = write_draft(settings, month, draft)
    if twin is not None:
        add_note(Path(twin.path), _("Aussi reçu par courriel de {sender} ({how}) : {file}. "
                                    "Gardez-en un et refusez l'autre.").format(
            sender=conversion.draft.sender or "?", how=why_same(twin.why),
            file=f"{month}/{path.name}"))
    held = conversion.draft.front_matter.get("statut") == Status.HELD.value
    return IntakeResult("item", path, "", message_id, source, held=held,
                        titre=str(conversion.draft.front_matter.get("titre") or ""),
                        late=tuple(late))


def _local_day(received: datetime, settings: Settings):
    """Return the day of reception in the bulletin's time zone."""
    tz = settings.identity.timezone
    return (received.astimezone(tz) if received.tzinfo else received).date()


def _feed_twin(conn: sqlite3.Connection, settings: Settings, month: str,
               draft: ItemDraft) -> FeedItem | None:
    """Find the item a feed already brought with the same news; note it on ``draft``.

    The emailed item is still written (an organization's own submission is never dropped):
    both files name each other, and the pivot keeps one.
    """
    front = draft.front_matter
    twin = FeedStore(conn).same_news(month, str(front.get("titre") or ""),
                                     str(front.get("lien") or "") or None, Month(month).previous())
    if twin is None or not Path(twin.path).is_file():
        return None
    file = Path(twin.path)
    draft.notes.append(_("même nouvelle qu'un élément déjà reçu du flux « {feed} » ({how}) : "
                         "{file}. Gardez-en un et refusez l'autre.").format(
        feed=twin.feed, how=why_same(twin.why), file=f"{file.parent.name}/{file.name}"))
    return twin


def announce(settings: Settings, raw: bytes, result: IntakeResult, *,
             conn: sqlite3.Connection, clock: Clock = SYSTEM_CLOCK) -> IntakeResult:
    """Tell the subscribers of ``events.item_written`` that an item was written.

    Returns the result with what they did (the acknowledgment: ``ack_sent``,
    ``ack_problem``). Anything but a written item is not announced.
    """
    if result.kind != "item" or result.path is None:
        return result
    done = changes(item_written.send(settings, raw=raw, result=result, conn=conn, clock=clock))
    return dataclasses.replace(result, **done) if done else result


def archive_folder(settings: Settings) -> Path:
    """Where the raw bytes of every message received are kept (``<donnees>/courriels``)."""
    return settings.paths.donnees / ARCHIVE_DIR


def archive(settings: Settings, raw: bytes, digest: str) -> Path:
    """Keep the raw bytes at ``data/courriels/<2>/<sha256>.eml`` (durable, never rewritten)."""
    return keep_raw(archive_folder(settings), raw, digest)


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def _message_id(raw: bytes) -> str:
    """Read the Message-ID from the headers only ("" when absent or unreadable)."""
    end = _BLANK_LINE.search(raw, 0, 200_000)  # the header block only: the same headers
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(
            raw[:end.end()] if end else raw[:200_000])
        return " ".join(str(headers.get("Message-ID", "") or "").split()).strip("<> ")
    except Exception:  # noqa: BLE001 - a broken header means no usable ID: the hash is used
        return ""


def _seen(conn: sqlite3.Connection, message_id: str, digest: str) -> sqlite3.Row | None:
    return conn.execute("SELECT vu_le, chemin FROM courriels_vus WHERE cle = ? OR sha256 = ?",
                        (f"id:{message_id}" if message_id else "", digest)).fetchone()


_REMEMBER = ("INSERT OR IGNORE INTO courriels_vus (cle, sha256, message_id, vu_le, resultat, "
             "chemin, raison) VALUES (?, ?, ?, ?, ?, ?, ?)")


def _seen_row(message_id: str, digest: str, result: IntakeResult, now: datetime) -> tuple:
    """The « seen » record of a message (after its item is written): polling again skips it."""
    return (f"id:{message_id}" if message_id else f"sha256:{digest}", digest,
            message_id or None, now.isoformat(timespec="seconds"),
            result.kind, str(result.path) if result.path else None, result.reason)


class SeenLater:
    """« Seen » records of a batch, kept until its items are durable, then written at once.

    A record written before its item is on disk would lose the item in a power cut (the
    next run would call it a duplicate); kept here, it is lost with the item instead, and
    the message, still in the inbox, is taken again. ``find`` also answers for a message
    seen earlier in the same batch.
    """

    def __init__(self) -> None:
        self.rows: list[tuple[object, tuple]] = []  # (message's key, row)
        self.known: dict[str, dict[str, str | None]] = {}
        self.unit: object = None  # the message being handled (``IntakeHandler.take``)

    def add(self, row: tuple) -> None:
        self.rows.append((self.unit, row))
        found = {"vu_le": row[3], "chemin": row[5]}
        self.known[row[0]] = self.known[f"sha256:{row[1]}"] = found

    def find(self, message_id: str, digest: str) -> dict[str, str | None] | None:
        return (self.known.get(f"id:{message_id}") if message_id else None) \
            or self.known.get(f"sha256:{digest}")

    def write(self, conn: sqlite3.Connection, failed: Collection[object] = ()) -> None:
        """Write the records in one transaction (one fsync): the runner calls this after
        the batch's files are durable, before its messages leave the inbox. Messages whose
        files could not be put in place (``failed``) are not recorded: done again later."""
        rows = [row for unit, row in self.rows if unit not in failed]
        if rows:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(_REMEMBER, rows)
        self.rows = []  # only once written: a failure leaves them for the next try
        self.known.clear()


class IntakeHandler:
    """The intake as a mailbox handler: ``process_raw``, then the item written announced.

    Messages are recorded as seen at ``commit`` (the runner's batches, ``BATCH``): after
    the batch's files are durable, before the messages leave the inbox.
    """

    def __init__(self, settings: Settings, conn: sqlite3.Connection, clock: Clock,
                 process: Callable[..., IntakeResult] | None = None):
        self.settings, self.conn, self.clock, self.process = settings, conn, clock, process
        self.archive_to = archive_folder(settings)
        self.later = SeenLater()

    def take(self, message: Message) -> IntakeResult:
        process = self.process or process_raw  # looked up at each message (tests, bench)
        self.later.unit = message.key
        result = process(message.raw, self.settings, source=message.label, conn=self.conn,
                         received=message.received, clock=self.clock, screened=True,
                         later=self.later)
        return announce(self.settings, message.raw, result, conn=self.conn, clock=self.clock)

    def commit(self, failed: Collection[object] = ()) -> None:
        """Record the batch's messages as seen (its files are durable by now), but those
        whose files could not be put in place (``failed``, keys)."""
        self.later.write(self.conn, failed)

    def refuse(self, message: Message, reason: str) -> IntakeResult:
        return _refused(message.raw, reason, message.label, read=message.complete)


def run_intake(settings: Settings, source: Source, *, report: IntakeReport | None = None,
               progress: Progress | None = None, ack_sender: Sender | None = None,
               clock: Clock = SYSTEM_CLOCK,
               process: Callable[..., IntakeResult] | None = None) -> IntakeReport:
    """Take every message of ``source`` in (``IntakeHandler``), each filed by its result.

    For the run, each item written is acknowledged to a known sender when
    ``accuse_reception`` is on (``acknowledge.acknowledging``), through ``ack_sender``
    (default: files in ``accuses/`` of the data folder; ``pipeline.gather_mail`` gives the
    configured one). A message left where it was is reported as failed, with why.
    """
    report = report if report is not None else IntakeReport()
    # What a killed batch left (hidden temporary files): the lock is held, nothing of ours
    # is writing; a file younger than an hour is left alone all the same.
    remove_stale_temporaries([settings.paths.contenu, archive_folder(settings)])
    with closing(connect(state_file(settings.paths.donnees))) as conn, \
            acknowledging(settings, ack_sender, clock):
        for handled in each_message(source, IntakeHandler(settings, conn, clock, process),
                                    batch=BATCH):
            result = handled.result
            if result is None:  # left where it was: retried at the next run
                result = IntakeResult("failed", None, handled.problem, "", handled.label)
            report.add(handled, result)
            if progress is not None:
                progress(result)
    return report


@holds_lock("gather mail")  # one run at a time per data folder (runlock)
def process_maildir(settings: Settings, maildir: Path, *, progress: Progress | None = None,
                    ack_sender: Sender | None = None,
                    clock: Clock = SYSTEM_CLOCK) -> IntakeReport:
    """Take in every message of a Maildir inbox (``new/`` and ``cur/``), then file it.

    Items, duplicates and automatic mail go to the ``.Traite`` folder; a failure goes to
    ``.A-verifier`` with the reason in an ``X-Infolettre-Raison`` header (``mailbox``). Each
    item written is acknowledged as ``run_intake`` says.
    """
    source = MaildirFolder(maildir, fix=_(
        "Indiquez le dossier Maildir de l'adresse de l'infolettre, par exemple "
        "/var/mail/infolettre, avec la clé « maildir » de la table « courriel_entrant » ou "
        "avec --maildir."), batched=True)
    try:
        return run_intake(settings, source, progress=progress, ack_sender=ack_sender,
                          clock=clock)
    finally:
        source.close()

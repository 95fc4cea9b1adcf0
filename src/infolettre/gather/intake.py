"""Emailed submissions, from raw bytes to an item file, without ever losing one.

Every message goes through the same steps, whatever its source (Maildir here, IMAP in
``imap.py``): archive the raw bytes first (content-addressed, durable), skip it if it was
seen, convert it (``gather.mail``), write the item (``store.write_draft``), and only then
record it as seen. A message whose processing fails is NOT recorded: its raw bytes are safe
in the archive, the mailbox puts it in « À vérifier » with the reason, and a run after the
fix processes it again.

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
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import TYPE_CHECKING

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..fsutil import fsync_dir, write_durably
from ..i18n import _
from ..models import Month, Status
from ..maildir import REASON_HEADER, move, with_reason
from ..maildir import folder as maildir_folder
from ..months import open_issue
from ..runlock import holds_lock
from ..settings import Settings
from ..state import connect, migrate, state_file
from ..store import add_note, write_draft
from .feeds.dedupe import why_same
from .feeds.store import FeedItem, FeedStore
from .late import LateDate, late_dates
from .mail import convert_message
from .mail.convert import ItemDraft
from .mail.limits import too_big

if TYPE_CHECKING:
    from ..deliver import Sender

ARCHIVE_DIR = "courriels"
DONE_FOLDER = "Traite"  # Maildir++ folders (ASCII: every mail program shows them)
REVIEW_FOLDER = "A-verifier"
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
_REASON_LINE = re.compile(rb"\A" + REASON_HEADER.encode() + rb":[^\n]*\n(?:[ \t][^\n]*\n)*",
                          re.IGNORECASE)


@dataclass(frozen=True)
class IntakeResult:
    """What became of one message: an item, a rejection, a duplicate or a failure."""

    kind: str  # "item" | "rejected" | "duplicate" | "failed"
    path: Path | None
    reason: str
    message_id: str
    source: str = ""
    held: bool = False  # an item written « retenu » (unknown or unauthenticated sender)
    for_person: bool = False  # failed, or rejected for a reason a person should look at
    titre: str = ""  # the item's title (for the acknowledgment)
    ack_sent: bool = False  # an acknowledgment went to the sender (``acknowledge``)
    ack_problem: str = ""  # the acknowledgment failed: the item is written all the same
    #: Dates of the item past when its issue comes out: told in the report and to the
    #: sender, besides the note in the item.
    late: tuple[LateDate, ...] = ()

    @property
    def filed_for_review(self) -> bool:
        """Tell whether the message goes to « À vérifier » rather than « Traité »."""
        return self.kind == "failed" or self.for_person

    @property
    def category(self) -> str:
        """Return the one heading of the report this message counts under.

        « item », « duplicate », « automatic » (rejected, nobody to tell) or « review »
        (failed, or rejected for a reason a person should look at): each message in exactly
        one, so the counts add up to the messages read.
        """
        if self.filed_for_review:
            return "review"
        return "automatic" if self.kind == "rejected" else self.kind


Progress = Callable[[IntakeResult], None]


@dataclass
class IntakeReport:
    """What a run did: the results, counted; the failures listed for the pivot."""

    results: list[IntakeResult] = field(default_factory=list)

    def record(self, result: IntakeResult) -> None:
        """Add one message's result (usable as the ``progress`` callback of a source)."""
        self.results.append(result)

    def count(self, kind: str) -> int:
        return sum(r.kind == kind for r in self.results)

    @property
    def to_review(self) -> list[IntakeResult]:
        return [r for r in self.results if r.filed_for_review]

    @property
    def ack_problems(self) -> list[IntakeResult]:
        """Items written whose acknowledgment could not be sent (to tell the pivot)."""
        return [r for r in self.results if r.ack_problem]

    def in_category(self, category: str) -> int:
        return sum(r.category == category for r in self.results)

    def summary(self) -> str:
        """Say the counts in one French sentence (they add up to the messages read)."""
        return _("Courriels lus : {read} ; {items} nouvelle(s) écrite(s) (dont {held} "
                 "retenue(s) pour la relecture), {dup} déjà traité(s), {auto} message(s) "
                 "automatique(s) écarté(s), {review} à vérifier.").format(
            read=len(self.results), items=self.in_category("item"),
            held=sum(r.held for r in self.results), dup=self.in_category("duplicate"),
            auto=self.in_category("automatic"), review=self.in_category("review")) \
            + self._late_summary() + self._ack_summary()

    def _late_summary(self) -> str:
        text = ""
        for result in self.results:
            for late in result.late:
                text += _(" À vérifier : pour « {titre} » ({file}), {late}.").format(
                    titre=result.titre, late=late.fact(),
                    file=f"{result.path.parent.name}/{result.path.name}" if result.path else "?")
        return text

    def _ack_summary(self) -> str:
        sent, failed = sum(r.ack_sent for r in self.results), self.ack_problems
        text = f" Accusés de réception envoyés : {sent}." if sent else ""
        for result in failed:
            text += (f" Accusé de réception en échec pour {result.source} (nouvelle bien "
                     f"écrite) : {result.ack_problem}")
        return text


def process_raw(raw: bytes, settings: Settings, *, source: str, conn: sqlite3.Connection,
                month: str | None = None, received: datetime | None = None,
                clock: Clock = SYSTEM_CLOCK) -> IntakeResult:
    """Archive, de-duplicate, convert and write one message; never mark a failure as seen.

    ``source`` names where it came from (a file, an IMAP UID), for the report. Raises
    ``InfolettreError`` only when the raw bytes cannot be archived: the message must then
    stay where it is.
    """
    raw = without_reason(raw)
    digest = hashlib.sha256(raw).hexdigest()
    archive(settings, raw, digest)
    refused = too_big(raw)  # measured before any parsing (``gather.mail.limits``)
    if refused:
        return IntakeResult("failed", None, refused, _message_id(raw), source,
                            for_person=True)
    migrate(conn, "courriels", SCHEMA)
    message_id = _message_id(raw)
    seen = _seen(conn, message_id, digest)
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
    _remember(conn, message_id, digest, result, clock.now())
    return result


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


def acknowledge_item(settings: Settings, raw: bytes, result: IntakeResult, *,
                     conn: sqlite3.Connection, sender: Sender | None = None,
                     clock: Clock = SYSTEM_CLOCK) -> IntakeResult:
    """Acknowledge a written item to its sender when ``accuse_reception`` is on.

    Returns the result with ``ack_sent`` or ``ack_problem`` set; never raises: an
    acknowledgment that fails is reported, the item stays written.
    """
    if result.kind != "item" or result.path is None or not settings.mail_intake.accuse_reception:
        return result
    try:
        from .acknowledge import acknowledge

        ack = acknowledge(settings, raw, titre=result.titre or result.path.stem,
                          month=result.path.parent.name, conn=conn, held=result.held,
                          late=result.late, sender=sender, clock=clock)
    except Exception as exc:  # noqa: BLE001 - a reply never costs the item
        return dataclasses.replace(result, ack_problem=f"accusé de réception impossible "
                                                        f"({type(exc).__name__}: {exc}).")
    return dataclasses.replace(result, ack_sent=ack.sent, ack_problem=ack.problem)


def archive(settings: Settings, raw: bytes, digest: str) -> Path:
    """Keep the raw bytes at ``data/courriels/<2>/<sha256>.eml`` (durable, never rewritten)."""
    path = settings.paths.donnees / ARCHIVE_DIR / digest[:2] / f"{digest}.eml"
    if path.is_file():
        return path
    try:
        write_durably(path, lambda handle: handle.write(raw), mode=0o600, no_clobber=True)
    except OSError as exc:
        raise InfolettreError(
            _("impossible d'archiver un courriel reçu ({detail}) ; il n'a pas été traité.")
            .format(detail=exc.strerror or exc), where=str(path),
            fix=_("Vérifiez l'espace disque et les droits sur le dossier des données (clé "
                  "« donnees » de la table « chemins »), puis relancez : le message attend "
                  "toujours dans la boîte.")) from None
    return path


def without_reason(raw: bytes) -> bytes:
    """Drop a leading ``X-Infolettre-Raison`` header: a message put back from « À vérifier »."""
    return _REASON_LINE.sub(b"", raw, count=1)


def _message_id(raw: bytes) -> str:
    """Read the Message-ID from the headers only ("" when absent or unreadable)."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:200_000])
        return " ".join(str(headers.get("Message-ID", "") or "").split()).strip("<> ")
    except Exception:  # noqa: BLE001 - a broken header means no usable ID: the hash is used
        return ""


def _seen(conn: sqlite3.Connection, message_id: str, digest: str) -> sqlite3.Row | None:
    return conn.execute("SELECT vu_le, chemin FROM courriels_vus WHERE cle = ? OR sha256 = ?",
                        (f"id:{message_id}" if message_id else "", digest)).fetchone()


def _remember(conn: sqlite3.Connection, message_id: str, digest: str,
              result: IntakeResult, now: datetime) -> None:
    """Record a message as seen (after its item is written): polling again skips it."""
    conn.execute("INSERT OR IGNORE INTO courriels_vus (cle, sha256, message_id, vu_le, "
                 "resultat, chemin, raison) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (f"id:{message_id}" if message_id else f"sha256:{digest}", digest,
                  message_id or None, now.isoformat(timespec="seconds"),
                  result.kind, str(result.path) if result.path else None, result.reason))


@holds_lock("gather mail")  # one run at a time per data folder (runlock)
def process_maildir(settings: Settings, maildir: Path, *, progress: Progress | None = None,
                    ack_sender: Sender | None = None,
                    clock: Clock = SYSTEM_CLOCK) -> IntakeReport:
    """Process every message of a Maildir inbox (``new/`` and ``cur/``), then file it.

    Items, duplicates and automatic mail go to the ``.Traite`` folder; a failure goes to
    ``.A-verifier`` with the reason in an ``X-Infolettre-Raison`` header. A message is moved
    only after its result is on disk, copy first and original deleted last: a crash leaves
    it in two places at worst, never in none. Each item written is acknowledged to a known
    sender (``acknowledge``) when ``accuse_reception`` is on, through ``ack_sender`` (default:
    SMTP when configured, else ``accuses/`` in the data folder).
    """
    maildir = Path(maildir)
    if not all((maildir / sub).is_dir() for sub in ("new", "cur", "tmp")):
        raise InfolettreError(
            _("ce dossier n'est pas une boîte Maildir (sous-dossiers new, cur et tmp "
              "attendus)."), where=str(maildir),
            fix=_("Indiquez le dossier Maildir de l'adresse de l'infolettre, par exemple "
                  "/var/mail/infolettre, avec la clé « maildir » de la table "
                  "« courriel_entrant » ou avec --maildir."))
    done, review = maildir_folder(maildir, DONE_FOLDER), maildir_folder(maildir, REVIEW_FOLDER)
    report = IntakeReport()
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        for path in _messages(maildir):
            result = _process_file(path, settings, conn, done, review, ack_sender, clock)
            if result is not None:
                report.record(result)
                if progress is not None:
                    progress(result)
    fsync_dir(maildir / "new")
    fsync_dir(maildir / "cur")
    return report


def _messages(maildir: Path) -> list[Path]:
    return [p for sub in ("new", "cur") for p in sorted((maildir / sub).iterdir())
            if not p.name.startswith(".") and p.is_file()]


def _process_file(path: Path, settings: Settings, conn: sqlite3.Connection, done: Path,
                  review: Path, ack_sender: Sender | None = None,
                  clock: Clock = SYSTEM_CLOCK) -> IntakeResult | None:
    """Process one Maildir file and move it; None when another reader took it meanwhile."""
    try:
        raw = without_reason(path.read_bytes())
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except FileNotFoundError:
        return None
    result = process_raw(raw, settings, source=path.name, conn=conn, received=received,
                         clock=clock)
    result = acknowledge_item(settings, raw, result, conn=conn, sender=ack_sender, clock=clock)
    try:
        if result.filed_for_review:
            move(path, with_reason(raw, result.reason), review, "new", "")
        else:
            move(path, raw, done, "cur", ":2,S")
    except OSError as exc:
        raise InfolettreError(
            _("impossible de classer ce message ({detail}) ; il est resté dans la boîte de "
              "réception.").format(detail=exc.strerror or exc), where=str(path),
            fix=_("Vérifiez l'espace disque et les droits sur le dossier Maildir, puis "
                  "relancez : les messages déjà traités ne le sont pas deux fois.")) from None
    return result

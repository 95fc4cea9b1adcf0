"""Acknowledgment: a short French reply telling a delegate their news arrived.

Sent only after the item is written, and only to a sender the bulletin knows and the
receiving server authenticated (an item « soumis »): never for a held item (stranger, forged
From), never to automatic mail, never to the bulletin's own addresses. The reply says it is
automatic (``Auto-Submitted: auto-replied``, RFC 3834; ``X-Auto-Response-Suppress: All`` for
Exchange), so well-behaved responders do not answer it, and at most ``MAX_PER_DAY`` replies
go to one address per day (in the bulletin's time zone), recorded in the state database:
whatever the other side does, a mail loop stops there.

The intake never calls this module: it announces each item written
(``events.item_written``), and a run subscribes the acknowledgment for its duration
(``acknowledging``). Replies leave through the ``deliver.Sender`` the run gives: the
pipeline's choice (``pipeline.gather_mail``: the SMTP server of ``[smtp]`` when configured,
signed with ``[dkim]`` when set — made for each reply, ``EachReply``), else a folder of
``.eml`` files (``ack_outbox``: ``accuses/`` in the data folder, one file per reply, beside
the state that counts them). Acknowledging never raises to the intake: whatever fails is
returned as a problem to report.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..envelopes import DeliveryResult, Envelope, Outcome, Sender, outbox_name
from ..events import item_written
from ..fsutil import fsync_dir, sync_pending, write_durably
from ..i18n import _
from ..mailbox.limits import parse_headers
from ..models import Month
from ..dates import long_date, month_title
from ..settings import Settings
from ..state import migrate
from .late import LateDate
from .mail.text import header_text
from .mail.trust import automatic_reason, spoofed

MAX_PER_DAY = 3
OUTBOX_DIR = "accuses"
EDITION = "accuse"  # the Envelope's edition: not an issue's, a reply
SCHEMA = ["""
CREATE TABLE accuses_reception (
    adresse TEXT NOT NULL,       -- lowercased recipient
    jour TEXT NOT NULL,          -- AAAA-MM-JJ in the bulletin's time zone
    envoye_le TEXT NOT NULL,     -- UTC, ISO 8601
    message_id TEXT,             -- Message-ID of the message acknowledged
    accuse_id TEXT               -- Message-ID of the reply
);
CREATE INDEX accuses_reception_jour ON accuses_reception (adresse, jour)
"""]


@dataclass(frozen=True)
class Acknowledgment:
    """What became of the reply: sent (``detail`` says where), not due (``detail`` says
    why), or failed (``problem`` says what went wrong; the item is written all the same)."""

    sent: bool
    detail: str = ""
    problem: str = ""


def ack_outbox(settings: Settings) -> Path:
    """Where replies are written when no SMTP server is configured."""
    return settings.paths.donnees / OUTBOX_DIR


class AckOutbox:
    """A ``Sender`` writing each reply as its own ``.eml`` file (``ack_outbox``).

    Unlike the issue outbox (one file per recipient and month), one address may get several
    replies: the name carries the time and the reply's Message-ID. Durable, never rewritten.
    """

    concurrency = 1

    def __init__(self, folder: Path, clock: Clock = SYSTEM_CLOCK):
        self.folder = Path(folder)
        self.clock = clock

    def path_for(self, envelope: Envelope) -> Path:
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%S")
        digest = hashlib.sha256(envelope.message_id.encode("utf-8", "replace")).hexdigest()[:10]
        return self.folder / f"{stamp}-{digest}-{outbox_name(envelope.recipient)}"

    async def open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    async def send(self, envelope: Envelope, *,
                   before_content: Callable[[], object] | None = None) -> DeliveryResult:
        target = self.path_for(envelope)
        written = write_durably(target, lambda handle: handle.write(envelope.message),
                                mode=0o600, no_clobber=True, sync_dir=False)
        return DeliveryResult(envelope, Outcome.SENT if written else Outcome.SKIPPED,
                              str(target))

    async def close(self) -> None:
        fsync_dir(self.folder)


class EachReply:
    """A ``Sender`` that makes the real one for each reply (``make``, e.g. SMTP with DKIM).

    Made at ``open``, so that a configuration problem (a DKIM key that cannot be read) costs
    that reply, reported, never the intake.
    """

    concurrency = 1

    def __init__(self, make: Callable[[], Sender]):
        self.make = make
        self.sender: Sender | None = None

    async def open(self) -> None:
        self.sender = self.make()
        await self.sender.open()

    async def send(self, envelope: Envelope, **kwargs: object) -> DeliveryResult:
        assert self.sender is not None, "open() first"
        return await self.sender.send(envelope, **kwargs)

    async def close(self) -> None:
        sender, self.sender = self.sender, None
        if sender is not None:
            await sender.close()


@contextmanager
def acknowledging(settings: Settings, sender: Sender | None = None,
                  clock: Clock = SYSTEM_CLOCK) -> Iterator[None]:
    """Acknowledge each item written for ``settings`` (``events.item_written``) in the block.

    Replies go through ``sender`` (default: files in ``ack_outbox``). Disconnected at the end
    of the block, whatever happens.
    """
    def on_item_written(project: Settings, *, raw: bytes, result: Any,
                        conn: sqlite3.Connection, **_ignored: object) -> dict[str, object]:
        return acknowledge_item(project, raw, result, conn=conn, sender=sender, clock=clock)

    with item_written.connected_to(on_item_written, sender=settings):
        yield


def acknowledge_item(settings: Settings, raw: bytes, result: Any, *,
                     conn: sqlite3.Connection, sender: Sender | None = None,
                     clock: Clock = SYSTEM_CLOCK) -> dict[str, object]:
    """Acknowledge a written item (an ``IntakeResult``) when ``accuse_reception`` is on.

    Returns what to record on the result: ``ack_sent`` and ``ack_problem`` (nothing when
    switched off). Never raises: an acknowledgment that fails is reported, the item stays.
    """
    if not settings.mail_intake.accuse_reception:
        return {}
    try:
        ack = acknowledge(settings, raw, titre=result.titre or result.path.stem,
                          month=result.path.parent.name, conn=conn, held=result.held,
                          late=result.late, sender=sender, clock=clock)
    except Exception as exc:  # noqa: BLE001 - a reply never costs the item
        return {"ack_problem": f"accusé de réception impossible ({type(exc).__name__}: {exc})."}
    return {"ack_sent": ack.sent, "ack_problem": ack.problem}


def own_addresses(settings: Settings) -> set[str]:
    """The bulletin's own addresses: never acknowledged (a reply to itself would loop)."""
    found = {settings.identity.sender_address, settings.identity.repondre_a}
    if settings.unsubscribe is not None:
        found.add(settings.unsubscribe.courriel)
    if settings.mail_intake.imap_utilisateur:
        found.add(settings.mail_intake.imap_utilisateur)
    return {parseaddr(a)[1].strip().lower() for a in found if a}


def acknowledge(settings: Settings, raw: bytes, *, titre: str, month: str,
                conn: sqlite3.Connection, held: bool = False, late: Sequence[LateDate] = (),
                sender: Sender | None = None, now: datetime | None = None,
                clock: Clock = SYSTEM_CLOCK) -> Acknowledgment:
    """Reply to the sender of ``raw`` whose item ``titre`` was written for ``month``.

    ``late`` are the item's dates past when that issue comes out: the reply says so.
    ``sender``: where the reply goes (default: a file in ``ack_outbox``).

    Returns whether a reply went out, or why not; never raises.
    """
    if held:  # decided before reading anything
        return Acknowledgment(False, _("nouvelle retenue (expéditeur inconnu ou non "
                                       "authentifié) : pas d'accusé."))
    try:
        msg = parse_headers(raw)  # every check below reads headers only
        name, address = parseaddr(header_text(msg, "From"))
        address = address.strip().lower()
        why_not = _why_not(settings, msg, address)
        if why_not:
            return Acknowledgment(False, why_not)
        now = now or clock.now()
        migrate(conn, "accuses", SCHEMA)
        day = now.astimezone(settings.identity.timezone).date().isoformat()
        count = conn.execute("SELECT COUNT(*) FROM accuses_reception WHERE adresse = ? "
                             "AND jour = ?", (address, day)).fetchone()[0]
        if count >= MAX_PER_DAY:
            return Acknowledgment(False, _("déjà {count} accusés de réception envoyés à "
                                           "{address} aujourd'hui : pas d'autre (limite).")
                                  .format(count=count, address=address))
        envelope = build_envelope(settings, msg, name, address, titre=titre, month=month,
                                  now=now, late=late)
    except Exception as exc:  # noqa: BLE001 - a reply never costs the item
        return Acknowledgment(False, problem=_("accusé de réception non préparé ({detail}).")
                              .format(detail=f"{type(exc).__name__}: {exc}"))
    original = header_text(msg, "Message-ID").strip("<> ") or None
    row = conn.execute("INSERT INTO accuses_reception (adresse, jour, envoye_le, message_id, "
                       "accuse_id) VALUES (?, ?, ?, ?, ?)",
                       (address, day, now.astimezone(UTC).isoformat(timespec="seconds"),
                        original, envelope.message_id)).lastrowid
    try:  # counted before it leaves: a crash after sending never allows a 4th reply
        sync_pending()  # and the item is on disk before the reply says it arrived
        result = _run(_deliver(sender or AckOutbox(ack_outbox(settings), clock), envelope))
        sync_pending()  # a reply written to the outbox is in place now, not at the batch's end
        if result.outcome in (Outcome.SENT, Outcome.SKIPPED):
            return Acknowledgment(True, result.detail)
        detail = result.outcome.value + (f" : {result.detail}" if result.detail else "")
        problem = _("accusé de réception à {address} non envoyé ({detail}).").format(
            address=address, detail=detail)
    except Exception as exc:  # noqa: BLE001 - a reply never costs the item
        detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        problem = _("accusé de réception à {address} non envoyé ({detail}).").format(
            address=address, detail=detail)
    conn.execute("DELETE FROM accuses_reception WHERE rowid = ?", (row,))
    return Acknowledgment(False, problem=problem)


def _why_not(settings: Settings, msg: EmailMessage, address: str) -> str | None:
    """Say why this message (not held) gets no reply, or None when it does."""
    if not address or "@" not in address:
        return _("adresse de l'expéditeur absente : pas d'accusé.")
    if address in own_addresses(settings):
        return _("message venant de l'infolettre elle-même : pas d'accusé.")
    if not any(address in o.courriels for o in settings.organizations):
        return _("expéditeur absent du registre : pas d'accusé.")
    if spoofed(msg, settings.mail_intake.authserv_id):
        return _("expéditeur non authentifié (DMARC ou SPF) : pas d'accusé.")
    reason = automatic_reason(msg)
    if reason:
        return _("{reason} Pas d'accusé.").format(reason=reason)
    return None


def reply_text(settings: Settings, titre: str, month: str, *, today: date | None = None,
               late: Sequence[LateDate] = ()) -> str:
    """Return the French text of the reply (through the catalog, like every string).

    It names the issue the item was written for, and its planned date only while that date
    is still ahead (``today``): an issue in preparation past its 1st is « en préparation ».
    Each late date (``late``) gets its own warning paragraph.
    """
    parution = Month(month).first_day
    if today is not None and parution < today:
        when = _("en préparation")
    else:
        when = _("parution prévue le {parution}").format(parution=long_date(parution))
    text = _("Bonjour,\n\nVotre nouvelle « {titre} » a bien été reçue pour le numéro de "
             "{mois} ({when}). L'équipe la relira avant publication.\n").format(
        titre=titre, mois=month_title(month), when=when)
    for found in late:
        text += "\n" + found.reply() + "\n"
    return text + _("\n— {nom}\n").format(nom=settings.identity.nom)


def build_envelope(settings: Settings, msg: EmailMessage, name: str, address: str, *,
                   titre: str, month: str, now: datetime,
                   late: Sequence[LateDate] = ()) -> Envelope:
    """Build the reply (RFC 3834 headers, plain UTF-8 text) and its envelope."""
    domain = settings.identity.sender_address.rpartition("@")[2] or None
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = settings.identity.expediteur
    reply["To"] = formataddr((name, address)) if name else address
    subject = " ".join(header_text(msg, "Subject").split()) or titre
    reply["Subject"] = _("Reçu : {subject}").format(subject=subject)
    reply["Date"] = format_datetime(now.astimezone(settings.identity.timezone))
    message_id = make_msgid("accuse", domain=domain)
    reply["Message-ID"] = message_id
    original = header_text(msg, "Message-ID").strip().strip("<>")
    if original and " " not in original:
        reply["In-Reply-To"] = f"<{original}>"
        reply["References"] = f"<{original}>"
    reply["Auto-Submitted"] = "auto-replied"
    reply["X-Auto-Response-Suppress"] = "All"
    today = now.astimezone(settings.identity.timezone).date()
    reply.set_content(reply_text(settings, titre, month, today=today, late=late),
                      charset="utf-8",
                      cte="quoted-printable")
    return Envelope(sender=settings.identity.sender_address, recipient=address,
                    message=reply.as_bytes(), month=month, edition=EDITION,
                    message_id=message_id.strip("<>"))


async def _deliver(sender: Sender, envelope: Envelope) -> DeliveryResult:
    await sender.open()
    try:
        return await sender.send(envelope)
    finally:
        await sender.close()


def _run(coroutine):
    """Run a coroutine from synchronous code, even when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()

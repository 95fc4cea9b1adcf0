"""The scheduler's messages, in French: to the organizations (call for news, reminder) and
to the pivot (deadline summary, a send waiting for its approval, a failed step, the report).

They leave by the acknowledgments' path (``gather.ack_sender``): the SMTP server of
``[smtp]`` (signed with ``[dkim]`` when set), else ``.eml`` files in ``<donnees>/avis/``,
so a machine without a mail server still keeps every notice where a person can read it.
Each message is automatic (``Auto-Submitted: auto-generated``, RFC 3834): well-behaved
responders do not answer it. The pivot's addresses are ``[calendrier] avis``, else
``[infolettre] repondre_a``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from ..clock import Clock
from ..dates import long_date, month_title, time_of_day
from ..deliver.senders import make_sender
from ..envelopes import Envelope, Outcome
from ..gather.acknowledge import AckOutbox, EachReply
from ..i18n import _
from ..settings import Settings

FOLDER = "avis"  # in the data folder, when no SMTP server is configured
EDITION = "avis"  # the Envelope's edition: not an issue's


@dataclass(frozen=True)
class Notice:
    """One message to one address."""

    address: str
    subject: str
    text: str


def pivot_addresses(settings: Settings) -> tuple[str, ...]:
    """Return who gets the pivot's notices: ``[calendrier] avis``, else ``repondre_a``."""
    return settings.calendar.avis or (settings.identity.repondre_a,)


def notice_folder(settings: Settings) -> Path:
    """Where notices are written when no SMTP server is configured."""
    return settings.paths.donnees / FOLDER


def deliver(settings: Settings, notices: Iterable[Notice], clock: Clock, *,
            sent: Callable[[Notice], None] = lambda notice: None) -> list[tuple[Notice, str]]:
    """Send each notice; call ``sent`` after each one that left; return the failures, each
    with its reason in French (one failure never stops the others)."""
    notices = list(notices)
    if not notices:
        return []
    sender = EachReply(lambda: make_sender(settings, "", None,
                                           local=AckOutbox(notice_folder(settings), clock)))
    return asyncio.run(_deliver(settings, sender, notices, clock, sent))


async def _deliver(settings: Settings, sender, notices: list[Notice], clock: Clock,
                   sent: Callable[[Notice], None]) -> list[tuple[Notice, str]]:
    failures: list[tuple[Notice, str]] = []
    try:
        await sender.open()
    except Exception as exc:  # noqa: BLE001 - said for each notice, never raised
        return [(n, _describe(exc)) for n in notices]
    try:
        for notice in notices:
            try:
                result = await sender.send(envelope(settings, notice, clock))
            except Exception as exc:  # noqa: BLE001 - the next notice still goes
                failures.append((notice, _describe(exc)))
                continue
            if result.outcome in (Outcome.SENT, Outcome.SKIPPED):
                sent(notice)
            else:
                failures.append((notice, result.detail or result.outcome.value))
    finally:
        await sender.close()
    return failures


def _describe(exc: BaseException) -> str:
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def envelope(settings: Settings, notice: Notice, clock: Clock) -> Envelope:
    """Build the message (plain UTF-8 text) and its envelope."""
    domain = settings.identity.sender_address.rpartition("@")[2] or None
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = settings.identity.expediteur
    message["To"] = notice.address
    message["Reply-To"] = settings.identity.repondre_a
    message["Subject"] = notice.subject
    message["Date"] = format_datetime(clock.now().astimezone(settings.identity.timezone))
    message_id = make_msgid("avis", domain=domain)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(notice.text + _("\n— {nom}\n").format(nom=settings.identity.nom),
                        charset="utf-8", cte="quoted-printable")
    return Envelope(sender=settings.identity.sender_address, recipient=notice.address,
                    message=message.as_bytes(), month="", edition=EDITION,
                    message_id=message_id.strip("<>"))


def when(settings: Settings, moment) -> str:
    """Say « mardi 5 janvier 2027 à 9 h » in the bulletin's zone."""
    local = moment.astimezone(settings.identity.timezone)
    return _("{day} à {time}").format(day=long_date(local), time=time_of_day(local))


def how_to_submit(settings: Settings) -> str:
    """Explain, for a person who never did it, how to send news to the bulletin."""
    return _("Pour proposer une nouvelle, écrivez à {adresse} :\n"
             "- l'objet du courriel devient le titre ;\n"
             "- le texte du courriel devient la nouvelle (quelques paragraphes suffisent) ;\n"
             "- pour un événement, indiquez la date, l'heure et le lieu ;\n"
             "- pour un appel de projets, la date limite ;\n"
             "- une image peut être jointe (JPEG ou PNG), avec une phrase qui la décrit.\n"
             "Un accusé de réception vous confirme que votre nouvelle est arrivée.").format(
        adresse=settings.identity.repondre_a)


def call_for_news(settings: Settings, address: str, organization: str, month: str,
                  deadline) -> Notice:
    """The call for news of an issue, to one address of a registered organization."""
    text = _("Bonjour,\n\nLe prochain numéro de {bulletin} paraîtra en {mois}. Vous avez une "
             "nouvelle, un événement, un bon coup ou un appel de projets à faire connaître "
             "dans la région ? Envoyez-le-nous d'ici le {tombee}.\n\n{comment}\n").format(
        bulletin=settings.identity.nom, mois=month_title(month),
        tombee=when(settings, deadline), comment=how_to_submit(settings))
    return Notice(address, _("Appel de nouvelles : numéro de {mois} ({organisme})").format(
        mois=month_title(month), organisme=organization), text)


def reminder(settings: Settings, address: str, organization: str, month: str,
             deadline) -> Notice:
    """The reminder, to an organization that sent nothing for the issue yet."""
    text = _("Bonjour,\n\nPetit rappel : la date de tombée du numéro de {mois} de {bulletin} "
             "est le {tombee}. Nous n'avons encore rien reçu de {organisme} pour ce "
             "numéro ; il est encore temps.\n\n{comment}\n").format(
        mois=month_title(month), bulletin=settings.identity.nom,
        tombee=when(settings, deadline), organisme=organization,
        comment=how_to_submit(settings))
    return Notice(address, _("Rappel : date de tombée du numéro de {mois}").format(
        mois=month_title(month)), text)


def relance(settings: Settings, address: str, silence, month: str, deadline) -> Notice:
    """The friendly reminder to an organization silent for several issues, which asked for
    it (``relance = true``): how to write, the next deadline, how to stop it."""
    if silence.last_heard:
        since = _("depuis le numéro de {mois}").format(mois=month_title(silence.last_heard))
    else:
        since = _("ces {n} derniers numéros").format(n=silence.issues)
    text = _("Bonjour,\n\nNous n'avons pas eu de nouvelles de {organisme} dans {bulletin} "
             "{since}. Vos activités, vos bons coups, vos événements et vos appels intéressent "
             "les autres organismes et les tables de la région : le bulletin est fait pour "
             "les faire circuler, et quelques lignes suffisent.\n\nLe prochain numéro "
             "paraîtra en {mois} ; la date de tombée est le {tombee}.\n\n{comment}\n\n"
             "Vous recevez ce petit mot parce que {organisme} a demandé d'être relancé quand "
             "il se fait discret : un seul par numéro. Pour ne plus le recevoir, répondez "
             "simplement à ce courriel.\n").format(
        organisme=silence.organisme, bulletin=settings.identity.nom, since=since,
        mois=month_title(month), tombee=when(settings, deadline),
        comment=how_to_submit(settings))
    return Notice(address, _("Des nouvelles de {organisme} pour le numéro de {mois} ?").format(
        organisme=silence.organisme, mois=month_title(month)), text)


def app_link(settings: Settings, path: str = "/") -> str:
    """Name where the pivot goes to act: the review app's page, or the command."""
    if settings.application.url:
        return settings.application.url + path
    return _("l'application de relecture (infolettre serve)")


def for_pivot(settings: Settings, subject: str, text: str) -> list[Notice]:
    """The same notice to each of the pivot's addresses."""
    return [Notice(address, subject, "Bonjour,\n\n" + text) for address in
            pivot_addresses(settings)]

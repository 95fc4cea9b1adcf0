"""The message telling an email submitter that their item was refused, and why.

Sent through the same path as the mail intake's acknowledgments (``gather.ack_sender``:
the SMTP server of ``[smtp]``, signed with ``[dkim]`` when set). Without ``[smtp]`` nothing
is sent, and the answer says so: the refusal itself is recorded all the same.
"""

from __future__ import annotations

import asyncio
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from ..clock import Clock
from ..dates import month_title
from ..envelopes import Envelope, Outcome
from ..i18n import _
from ..settings import Settings
from .gather import ack_sender

EDITION = "refus"  # the Envelope's edition: not an issue's, a reply


def notify_refusal(settings: Settings, entry, reason: str, clock: Clock) -> str:
    """Send the French refusal to the item's submitter; return what happened, in French."""
    if entry is None or not entry.submitter:
        return _("courriel non envoyé : l'adresse de l'expéditeur est inconnue.")
    if settings.smtp is None:
        return _("courriel non envoyé : aucun serveur d'envoi n'est configuré ([smtp] de "
                 "infolettre.toml). Prévenez {address} vous-même.").format(
                     address=entry.submitter)
    envelope = refusal_envelope(settings, entry.submitter, entry.titre, entry.month, reason,
                                clock)
    try:
        result = asyncio.run(_deliver(ack_sender(settings, clock), envelope))
    except Exception as exc:  # noqa: BLE001 - the refusal stands; the message is reported
        detail = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        return _("courriel à {address} non envoyé ({detail}).").format(
            address=entry.submitter, detail=detail)
    if result.outcome is Outcome.SENT:
        return _("courriel envoyé à {address}.").format(address=entry.submitter)
    return _("courriel à {address} non envoyé ({detail}).").format(
        address=entry.submitter, detail=result.detail or result.outcome.value)


def refusal_envelope(settings: Settings, address: str, titre: str, month: str, reason: str,
                     clock: Clock) -> Envelope:
    """Build the refusal message (plain UTF-8 text, French) and its envelope."""
    domain = settings.identity.sender_address.rpartition("@")[2] or None
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = settings.identity.expediteur
    message["To"] = address
    message["Subject"] = _("Votre nouvelle « {titre} » ne paraîtra pas").format(titre=titre)
    message["Date"] = format_datetime(clock.now().astimezone(settings.identity.timezone))
    message_id = make_msgid("refus", domain=domain)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    text = _("Bonjour,\n\nVotre nouvelle « {titre} », reçue pour le numéro de {mois}, ne "
             "paraîtra pas dans l'infolettre.\n\nRaison : {raison}\n\nVous pouvez nous "
             "répondre pour en discuter ou envoyer une version corrigée.\n\n— {nom}\n").format(
        titre=titre, mois=month_title(month), raison=reason, nom=settings.identity.nom)
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return Envelope(sender=settings.identity.sender_address, recipient=address,
                    message=message.as_bytes(), month=month, edition=EDITION,
                    message_id=message_id.strip("<>"))


async def _deliver(sender, envelope: Envelope):
    await sender.open()
    try:
        return await sender.send(envelope)
    finally:
        await sender.close()

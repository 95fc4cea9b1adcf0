"""How a send leaves: which sender (outbox, SMTP, DKIM-signed), which unsubscribe links.

Shared by the real send and the test send of ``pipeline``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import DeliveryError, Problem, Severity
from ..i18n import _
from .. import verp
from ..settings import Settings
from ..unsubscribe import SignedUnsubscriber, load_secret
from . import Sender
from .outbox import OutboxSender


def refuse_items_in_error(problems: list[Problem], month: str) -> None:
    """Stop an approval or a send when an item is in error: fix it, never leave it out."""
    if any(p.severity is Severity.ERROR for p in problems):
        raise DeliveryError(
            _("le numéro {month} contient des nouvelles en erreur ; rien n'a été fait.")
            .format(month=month),
            fix=_("Lancez « infolettre check {month} », corrigez les fichiers indiqués, puis "
                  "recommencez.").format(month=month))


def signed_unsubscriber(settings: Settings) -> SignedUnsubscriber:
    """Give every message its signed unsubscribe links (mailto, and https when configured)."""
    secret = load_secret(settings.paths.donnees)
    return SignedUnsubscriber(secret, settings.unsubscribe.courriel, settings.unsubscribe.url)


def verp_sender(settings: Settings) -> Callable[[str, str], str] | None:
    """Return the envelope sender of each (recipient, month) with ``[rebonds]`` (VERP:
    ``rebonds+<AAAAMM>-<jeton>@domaine``), or None: the bare ``expediteur`` for all."""
    bounces = settings.bounces
    if bounces is None:
        return None
    secret = load_secret(settings.paths.donnees)
    return lambda recipient, month: verp.address(secret, recipient, month, bounces.adresse,
                                                 bounces.domaine)


def make_sender(settings: Settings, month: str, outbox: Path | None, *,
                local: Sender | None = None) -> Sender:
    """Choose where messages go: ``--outbox``, else SMTP when configured, else files.

    The files are the issue outbox (``outbox/<month>/``) unless ``local`` gives another
    file sender (acknowledgments). With ``[dkim]``, messages are signed just before they
    leave (innermost wrapper).
    """
    if outbox is None and settings.smtp is not None:
        from .smtp import SmtpSender

        sender: Sender = SmtpSender(settings.smtp)
    else:
        sender = local or OutboxSender(outbox or settings.paths.boite_envoi, month)
    if settings.dkim is not None:
        from .dkim import DkimSender, DkimSigner

        dkim = settings.dkim
        sender = DkimSender(sender, DkimSigner.from_file(dkim.cle, dkim.selecteur, dkim.domaine))
    return sender

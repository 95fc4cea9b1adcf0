"""Trust: whether a message may become an item at all, and who stands behind it.

Automatic mail (bounces, out-of-office, lists) is never an item. A sender missing from the
registry, or a From the receiving server could not authenticate, holds the item for a person.

Authentication results are headers, and a sender can write any header. Only the results our
own server stamped are believed (RFC 8601): ``Authentication-Results`` whose authserv-id is
``[courriel_entrant] authserv_id``, in the topmost block (above the first ``Received`` that
follows them: everything above a header of ours was added on our side). ``Received-SPF`` has
no authserv-id: it is believed only inside that same block. The server must also remove any
``Authentication-Results`` bearing its own id that arrive from outside (RFC 8601 §5; Postfix
with OpenDKIM/OpenDMARC, rspamd, Gmail and Microsoft 365 do).

Without stamped results (``authserv_id`` unset, or none of ours on the message), no « pass »
is believed (a forged ``dkim=pass`` cannot cancel an SPF failure), but a failure reported by
any header still holds the item: a forged failure can only delay an item, never publish one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

from ...errors import Problem, Severity
from ...i18n import _
from ...models import REGIONAL, Status
from ...settings import Settings
from .text import fold, header_text

OUT_OF_OFFICE = re.compile(r"^(?:reponse automatique|automatic reply|auto[- ]?reply|autoreply"
                           r"|out of (?:the )?office|absente?\b|absence du bureau"
                           r"|message d'absence)|\bout of (?:the )?office\b", re.I)


@dataclass
class Sender:
    """Who wrote, as the registry knows them, and whether their item must wait for a person."""

    address: str
    name: str  # display name, else the address: how the signature may start
    organisme: str
    territoire: str
    status: Status
    notes: list[str] = field(default_factory=list)


def identify(msg: EmailMessage, settings: Settings) -> Sender:
    """Find the sender's organization in the registry; hold unknown or unauthenticated ones."""
    name, address = parseaddr(header_text(msg, "From"))
    address = address.strip().lower()
    org = next((o for o in settings.organizations if address in o.courriels), None)
    notes: list[str] = []
    if org is None:
        organisme, territoire = name or address or "inconnu", REGIONAL
        notes.append(_("expéditeur inconnu ({address}) : nouvelle retenue. Choisissez "
                       "l'organisme, ou ajoutez cette adresse au registre si elle est "
                       "légitime.").format(address=address or _("adresse absente")))
    else:
        organisme, territoire = org.nom, org.territoire
    results = authentication(msg, settings.mail_intake.authserv_id)
    forged = results.failed
    if forged:
        notes.append(_("expéditeur possiblement usurpé : le serveur de réception signale "
                       "un échec d'authentification (DMARC ou SPF). Vérifiez auprès de "
                       "l'organisme avant de publier.") if results.stamped else
                     _("expéditeur possiblement usurpé : un en-tête du message signale un "
                       "échec d'authentification (DMARC ou SPF), sans venir à coup sûr de "
                       "notre serveur ([courriel_entrant] authserv_id). Vérifiez auprès de "
                       "l'organisme avant de publier."))
    status = Status.HELD if org is None or forged else Status.SUBMITTED
    return Sender(address, name or address, organisme, territoire, status, notes)


@dataclass(frozen=True)
class Authentication:
    """The authentication results of one message, split by whether we can believe them."""

    stamped: tuple[str, ...]  # Authentication-Results of our server (lowercased)
    stamped_spf: tuple[str, ...]  # Received-SPF inside our server's block
    others: tuple[str, ...]  # every other Authentication-Results
    others_spf: tuple[str, ...]  # every other Received-SPF

    @property
    def failed(self) -> bool:
        """Tell whether the From may be forged (DMARC failure, or SPF failure without DKIM).

        Our server's results decide when there are any; otherwise a failure reported by
        any header holds the item, and no « pass » is believed.
        """
        if self.stamped:
            return _failed(self.stamped, self.stamped_spf, believe_dkim=True)
        return _failed(self.others, self.stamped_spf + self.others_spf, believe_dkim=False)


def _failed(results: tuple[str, ...], received_spf: tuple[str, ...], *,
            believe_dkim: bool) -> bool:
    text = " ".join(results)
    if re.search(r"\bdmarc\s*=\s*fail\b", text):
        return True
    spf_fail = re.search(r"\bspf\s*=\s*(?:soft)?fail\b", text) or \
        any(re.match(r"\s*(?:soft)?fail\b", value) for value in received_spf)
    return bool(spf_fail) and not (believe_dkim and re.search(r"\bdkim\s*=\s*pass\b", text))


def authserv_id(value: str) -> str:
    """Return the authserv-id that starts an ``Authentication-Results`` value, lowercased."""
    found = re.match(r"\s*(?:\([^)]*\)\s*)*([^\s;()]+)", value)
    return found.group(1).lower().rstrip(".") if found else ""


def authentication(msg: EmailMessage, ours: tuple[str, ...] | list[str]) -> Authentication:
    """Sort the message's results into those our server stamped and all the others.

    Headers are read in order, from the top (the last added). Ours are the
    ``Authentication-Results`` whose authserv-id is in ``ours`` until the first ``Received``
    below the first of them; a ``Received-SPF`` counts as ours inside that block only.
    """
    wanted = {o.lower().rstrip(".") for o in ours}
    stamped, stamped_spf, others, others_spf = [], [], [], []
    spf_above: list[str] = []  # Received-SPF seen before our first result
    in_block, seen_ours = bool(wanted), False
    for name, raw in msg.raw_items():
        key = name.lower()
        if key not in ("authentication-results", "received-spf", "received"):
            continue
        value = " ".join(str(raw).split()).lower()
        if key == "authentication-results":
            if in_block and authserv_id(value) in wanted:
                stamped.append(value)
                seen_ours = True
            else:
                others.append(value)
        elif key == "received-spf":
            (stamped_spf if seen_ours and in_block else
             spf_above if in_block else others_spf).append(value)
        elif key == "received" and seen_ours:
            in_block = False
    if seen_ours:
        stamped_spf = spf_above + stamped_spf
    else:
        others_spf = spf_above + others_spf
    return Authentication(tuple(stamped), tuple(stamped_spf), tuple(others), tuple(others_spf))


def spoofed(msg: EmailMessage, ours: tuple[str, ...] | list[str] = ()) -> bool:
    """Tell whether the From may be forged (see ``authentication``; ``ours``: our server's
    authserv-ids, ``[courriel_entrant] authserv_id``)."""
    return authentication(msg, ours).failed


def authentication_warnings(settings: Settings) -> list[Problem]:
    """Say, for ``check``, that emailed items are received without believing any « pass »
    when mail is gathered and ``[courriel_entrant] authserv_id`` is not set."""
    intake = settings.mail_intake
    if intake.authserv_id or not (intake.maildir or intake.imap_hote):
        return []
    return [Problem(
        Severity.WARNING,
        _("l'authentification des expéditeurs de courriel n'est pas vérifiée : sans "
          "« authserv_id » dans [courriel_entrant], infolettre ne peut pas distinguer les "
          "résultats DKIM, SPF et DMARC de votre serveur de ceux qu'un expéditeur écrirait "
          "lui-même. Un échec signalé retient la nouvelle, mais aucune réussite n'est crue."),
        settings.source,
        fix=_("Ouvrez un courriel reçu (« afficher la source ») : la ligne "
              "« Authentication-Results: mx.example.org; … » ajoutée par votre serveur commence "
              "par son identifiant. Indiquez-le dans [courriel_entrant] : authserv_id = "
              "\"mx.example.org\"."))]


def not_an_email(raw: bytes, msg: EmailMessage) -> str | None:
    """Tell why these bytes are not an email at all (an Outlook .msg file, a text file)."""
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return ("fichier Outlook (.msg), pas un courriel : enregistrez le message au format "
                ".eml ou transférez-le.")
    if not any(msg.get(h) is not None for h in ("From", "Subject", "Date", "Message-ID")):
        return "pas un courriel : aucun en-tête From, Subject, Date ni Message-ID."
    return None


def automatic_reason(msg: EmailMessage) -> str | None:
    """Tell why a message is automatic mail (bounce, out-of-office, list), or None."""
    ctype = msg.get_content_type()
    sender = parseaddr(header_text(msg, "From"))[1].lower()
    auto = header_text(msg, "Auto-Submitted").lower()
    precedence = header_text(msg, "Precedence").lower()
    subject = fold(header_text(msg, "Subject"))
    checks = (
        (ctype == "multipart/report" or ctype == "message/delivery-status",
         f"avis de non-remise ou rapport automatique ({ctype})"),
        (sender.split("@")[0] in ("mailer-daemon", "postmaster"),
         f"message d'un serveur de courriel ({sender})"),
        (header_text(msg, "Return-Path") == "<>" or msg.get("X-Failed-Recipients") is not None,
         "avis de non-remise (expéditeur vide)"),
        (auto not in ("", "no"), f"courriel automatique (Auto-Submitted: {auto})"),
        (any(msg.get(h) is not None for h in ("X-Autoreply", "X-Autorespond",
                                               "X-Autoresponder")),
         "réponse automatique (en-tête X-Autoreply)"),
        (bool(OUT_OF_OFFICE.search(subject)), "réponse automatique d'absence (objet)"),
        (precedence in ("bulk", "list", "junk", "auto_reply"),
         f"envoi de masse (Precedence: {precedence})"),
        (msg.get("List-Id") is not None or msg.get("List-Unsubscribe") is not None,
         "envoi d'une liste de diffusion (List-Id ou List-Unsubscribe)"),
    )
    reason = next((why for hit, why in checks if hit), None)
    return f"courriel automatique, pas une nouvelle : {reason}." if reason else None


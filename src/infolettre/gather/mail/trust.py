"""Trust: whether a message may become an item at all, and who stands behind it.

Automatic mail (bounces, out-of-office, lists) is never an item. A sender missing from the
registry, or a From the receiving server could not authenticate, holds the item for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr

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
        notes.append(f"expéditeur inconnu ({address or 'adresse absente'}) : nouvelle "
                     f"retenue. Choisissez l'organisme, ou ajoutez cette adresse au "
                     f"registre si elle est légitime.")
    else:
        organisme, territoire = org.nom, org.territoire
    forged = spoofed(msg)
    if forged:
        notes.append("expéditeur possiblement usurpé : le serveur de réception signale "
                     "un échec d'authentification (DMARC ou SPF). Vérifiez auprès de "
                     "l'organisme avant de publier.")
    status = Status.HELD if org is None or forged else Status.SUBMITTED
    return Sender(address, name or address, organisme, territoire, status, notes)


def spoofed(msg: EmailMessage) -> bool:
    """Tell whether the receiving server says the From may be forged (DMARC or SPF failure)."""
    results = " ".join(str(v) for v in (msg.get_all("Authentication-Results") or [])).lower()
    received_spf = " ".join(str(v) for v in (msg.get_all("Received-SPF") or [])).lower()
    if re.search(r"\bdmarc\s*=\s*fail\b", results):
        return True
    spf_fail = re.search(r"\bspf\s*=\s*(?:soft)?fail\b", results) or \
        re.match(r"\s*(?:soft)?fail\b", received_spf)
    return bool(spf_fail) and not re.search(r"\bdkim\s*=\s*pass\b", results)


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


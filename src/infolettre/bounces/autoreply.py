"""Auto-replies: vacation and out-of-office answers, read receipts. They prove the address
works, so they must never count as bounces (the complaint users make most of other list
managers). A real DSN also carries « Auto-Submitted: auto-generated »: that header alone is
not an auto-reply, and a message with a delivery-status part is read as a report first."""

from __future__ import annotations

import re
from email.message import Message

from ..i18n import _
from .text import clean, content_type, header, param, walk

#: Subjects of vacation and out-of-office answers, in French and English (the network's
#: members write in both), as mail programs phrase them.
VACATION_SUBJECT = re.compile(
    r"\babsen(?:t|ce|te)\b|hors du bureau|en vacances|\bvacances\b"
    r"|r[ée]ponse automatique|message automatique|r[ée]ponse d'absence"
    r"|out of (?:the )?office|\booo\b|automatic reply|auto[- ]?reply|auto[- ]?response"
    r"|autoresponder|\bvacation\b|away from (?:the|my) office"
    r"|\bon leave\b|abwesenheit|automatische antwort",
    re.IGNORECASE)
#: Subjects that say the opposite: a delivery failure mentioning « automatic » words.
FAILURE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status|fail|notification|delayed|problem)"
    r"|failure notice|returned mail|non remis|non distribu|impossible de remettre"
    r"|[ée]chec de (?:la )?(?:remise|livraison|distribution)|mail delivery|delayed mail"
    r"|could not (?:be )?(?:send|sent|deliver)|rejected|returned to sender|unzustellbar"
    r"|nicht zustellbar|non recapitabile|no entregado|error sending", re.IGNORECASE)


def autoreply_reason(msg: Message) -> str | None:
    """Why the message is an auto-reply, in French, or None when it is not one."""
    auto = header(msg, "Auto-Submitted").strip().lower()
    if auto.startswith("auto-replied"):
        return _("réponse automatique (Auto-Submitted: auto-replied)")
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"):
        if header(msg, name).strip():
            return _("réponse automatique (en-tête %(nom)s)") % {"nom": name}
    precedence = header(msg, "Precedence").strip().lower()
    if precedence == "auto_reply":
        return _("réponse automatique (Precedence: auto_reply)")
    if read_receipt(msg):
        return _("accusé de lecture (disposition-notification) : l'adresse fonctionne")
    subject = header(msg, "Subject")
    if VACATION_SUBJECT.search(subject) and not FAILURE_SUBJECT.search(subject):
        return _("réponse automatique (objet « %(objet)s »)") % {"objet": clean(subject, 120)}
    return None


#: Senders of delivery failures: Exim marks its bounces « Auto-Submitted: auto-replied ».
FAILURE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery (?:subsystem|system)"
                            r"|mdaemon|mail administrator", re.IGNORECASE)


def looks_like_failure(msg: Message) -> bool:
    """The sender or subject of a delivery failure: an auto-reply header then does not
    settle it (the failures found in the text do)."""
    return bool(FAILURE_SENDER.search(header(msg, "From"))
                or FAILURE_SUBJECT.search(header(msg, "Subject")))


def read_receipt(msg: Message) -> bool:
    """A read or disposition receipt (RFC 8098): multipart/report with
    report-type=disposition-notification, or a message/disposition-notification part."""
    if content_type(msg) == "multipart/report" and \
            param(msg, "report-type") == "disposition-notification":
        return True
    return any(content_type(part) == "message/disposition-notification"
               for part in walk(msg, 50))

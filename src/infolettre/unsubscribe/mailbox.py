"""Unsubscribe requests that arrive by email (replies to the mailto link), from a Maildir.

A handler of the one mailbox runner (``infolettre.mailbox``): the runner reads each message,
measures it before any parsing (``mailbox.limits``: a pathological message goes to a person,
unparsed) and files it by what this handler says — done (« Traite ») once the address is
recorded, or « A-verifier » with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..i18n import _
from ..mailbox import MaildirFolder, Message, each_message
from ..mailbox.limits import parse
from ..mailbox.maildir import DONE_FOLDER, REVIEW_FOLDER  # noqa: F401 - names kept here
from .store import UnsubscribeStore
from .tokens import TOKEN_RE, verify_token

#: Only the start of a reply is searched, and never quoted text: a reply to the bulletin
#: that quotes its footer must not unsubscribe anybody.
BODY_LINES = 20
MAX_CANDIDATES = 10
_QUOTE_START = re.compile(
    r"^\s*(>|-{2,}\s*(original|message d'origine|forwarded|message transféré)"
    r"|(le|on)\s.*(a écrit|wrote)\s*:|(de|from)\s*:)", re.IGNORECASE)


@dataclass
class Report:
    """What ``process_maildir`` did: counts, and the messages left for a person."""

    unsubscribed: int = 0
    already: int = 0
    to_review: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)
    #: Messages left in the inbox, unhandled (the database could not record them): (file
    #: name, problem). The next run takes them again.
    left: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """Say the counts in one French sentence."""
        text = _("Désabonnements par courriel : {new} nouveau(x), {old} déjà enregistré(s), "
                 "{review} message(s) à vérifier dans le dossier « {folder} ».").format(
            new=self.unsubscribed, old=self.already, review=len(self.to_review),
            folder=REVIEW_FOLDER)
        if self.left:
            text += " " + _("{n} message(s) laissé(s) dans la boîte de réception, à reprendre "
                            "au prochain passage.").format(n=len(self.left))
        return text


@dataclass(frozen=True)
class Request:
    """What one message asked: an address to unsubscribe, or why it is for a person."""

    email: str | None
    reason: str = ""
    new: bool = False  # the address was not unsubscribed yet

    @property
    def filed_for_review(self) -> bool:
        return self.email is None


class RequestHandler:
    """Unsubscribe requests as a mailbox handler: a genuine token → the address recorded."""

    archive_to = None  # requests are not archived: the journal keeps what matters

    def __init__(self, store: UnsubscribeStore, secret: bytes):
        self.store, self.secret = store, secret

    def take(self, message: Message) -> Request:
        email, reason = _unsubscribe_request(self.secret, message.raw)
        if email is None:
            return Request(None, reason)
        return Request(email, new=self.store.add(email, "courriel"))  # recorded, then filed

    def refuse(self, message: Message, reason: str) -> Request:
        return Request(None, reason)


def process_maildir(store: UnsubscribeStore, secret: bytes, maildir: Path) -> Report:
    """Process every message of the Maildir's inbox (``new/`` and ``cur/``) once.

    A genuine token in the Subject (RFC 2047 decoded) or the first unquoted lines of the
    text → the address it names is unsubscribed (source ``courriel``) and the message moves
    to the ``.Traite`` folder. No token, a forged one, or an unreadable message → it moves
    to ``.A-verifier`` (unread) with the reason in ``X-Infolettre-Raison``, for a person: the
    From address is never trusted, anyone can forge it. Messages are moved byte for byte
    (the reason header is prepended) and durably; the original is deleted only once the copy
    is on disk, so a crash can at worst leave a message in two places, never in none.

    ``maildir`` should be the root of a mailbox reserved for unsubscribes (e.g. the
    ``desabonnement@`` account): its folders then appear as « A-verifier » and « Traite »
    in any mail program (Maildir++ layout, as Dovecot and Courier use).
    """
    source = MaildirFolder(maildir, fix=_("Indiquez le dossier Maildir de l'adresse de "
                                          "désabonnement, par exemple /home/infolettre/Maildir."))
    report = Report()
    try:
        for handled in each_message(source, RequestHandler(store, secret)):
            request = handled.result
            if request is None:
                report.left.append((handled.label, handled.problem))
            elif request.email is None:
                report.to_review.append((handled.label, request.reason))
            elif request.new:
                report.unsubscribed += 1
            else:
                report.already += 1
    finally:
        source.close()
    return report


def _unsubscribe_request(secret: bytes, raw: bytes) -> tuple[str | None, str]:
    """Return (address, "") for a genuine request, else (None, the reason in French).

    The raw bytes were measured before (``mailbox.screen``): a pathological message went to
    a person instead of eating the machine's memory, and is never parsed here.
    """
    try:
        message = parse(raw)
        texts = [_subject(message), _first_lines(message)]
    except Exception as exc:  # noqa: BLE001 -- malformed mail breaks the parser in many ways
        return None, _("message illisible ({kind}).").format(kind=type(exc).__name__)
    candidates = [t for text in texts for t in TOKEN_RE.findall(text)][:MAX_CANDIDATES]
    if not candidates:
        if not raw.strip():
            return None, _("message vide.")
        if message.defects or not message.keys():
            kinds = ", ".join(sorted({type(d).__name__ for d in message.defects}))
            return None, _("message mal formé ({kinds}), sans jeton de désabonnement "
                           "lisible.").format(kinds=kinds or _("aucun en-tête"))
        return None, _("aucun jeton de désabonnement dans l'objet ni au début du texte ; "
                       "désabonnez la personne à la main si la demande est claire.")
    for token in candidates:
        email = verify_token(secret, token)
        if email is not None:
            return email, ""
    return None, _("jeton de désabonnement invalide (modifié, ou signé avec un autre secret) ; "
                   "vérifiez la demande avant de désabonner qui que ce soit.")


def _subject(message: EmailMessage) -> str:
    return str(message.get("Subject", "") or "")


def _first_lines(message: EmailMessage) -> str:
    """Return the first unquoted lines of the message's text/plain part (or "")."""
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    if not isinstance(text, str):
        return ""
    lines = []
    for line in text.splitlines()[:BODY_LINES]:
        if _QUOTE_START.match(line):
            break
        lines.append(line)
    return "\n".join(lines)

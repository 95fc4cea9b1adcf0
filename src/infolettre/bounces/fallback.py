"""Non-standard bounces (no delivery-status part: qmail, old Exim, Exchange 2003, some
webmails). flufl.bounce's detectors find the failed addresses (temporary or permanent);
when they find none in a message whose sender or subject says « delivery failure », the
addresses written next to an SMTP error are taken. The status is then looked for in the
text that follows each address (see words.py)."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage, Message

from ..i18n import _
from .autoreply import looks_like_failure
from .classify import kind_for
from .dsn import MAX_FAILURES, parse_fields, read_blocks
from .model import Failure
from .text import clean, header, header_all, walk
from .words import bounce_text, sharpen, status_near

#: A plain address, all of it (flufl's heuristics sometimes return a line of JSON).
PLAIN_ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[a-z0-9-]{1,63}"
                           r"(?:\.[a-z0-9-]{1,63})+")
#: Addresses that are never the failed recipient: the bounce's own senders.
NOT_RECIPIENT = re.compile(r"^(?:mailer-daemon|postmaster|abuse|support|help|noreply|"
                           r"no-reply|double-bounce)@", re.IGNORECASE)
#: Local parts of message identifiers, which detectors sometimes take for addresses.
MESSAGE_ID = re.compile(r"^[0-9a-f.$_-]{16,}@", re.IGNORECASE)
#: Past this many characters, flufl's line heuristics read only the notice (they are slow).
FLUFL_LIMIT = 300_000

_ANY_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}"
                          r"(?:\.[A-Za-z0-9-]{1,63})+")
_SMTP_ERROR = re.compile(r"(?<![\d.])[45]\d\d(?![\d])|(?<![\d.])[45]\.\d{1,3}\.\d{1,3}"
                         r"|user unknown|no such user|does not exist|unknown user"
                         r"|mailbox (?:is )?(?:full|unavailable)|not found|rejected"
                         r"|\berror\b|temporary failure|delayed|could not deliver"
                         r"|giving up|failed",
                         re.IGNORECASE)


def read_plain_bounce(message: Message, notes: list[str]) -> list[Failure]:
    """The failures a non-standard bounce reports, [] when it is not one."""
    text = bounce_text(message)
    inline = [fields for fields in parse_fields(text)
              if {"final-recipient", "original-recipient"} & fields.keys()]
    if inline:
        failures, _listed = read_blocks(inline, notes)
        if failures:
            notes.append(_("champs de rapport de remise écrits dans le texte"))
            return sharpen(failures, text)
    failed_header = _plain(a for value in header_all(message, "X-Failed-Recipients")
                           for a in _ANY_ADDRESS.findall(value))
    if not failed_header and not looks_like_failure(message):
        # A person's message quoting an SMTP error is not a bounce: the detectors'
        # heuristics only read what a mail server sent (every non-standard bounce of
        # the Sisimai corpus has such a sender or subject).
        return []
    temporary, permanent = _flufl(message, text, notes)
    if not temporary and not permanent:
        permanent = failed_header
    if not temporary and not permanent:
        permanent = _written_addresses(message, text)
        if permanent:
            notes.append(_("adresses prises dans le texte du rebond "
                           "(aucun détecteur ne l'a reconnu)"))
    failures: list[Failure] = []
    everyone = temporary | permanent
    for address, temporary_only in _ordered(temporary, permanent, text):
        if len(failures) >= MAX_FAILURES:
            notes.append(_("plus de %(max)d adresses en échec : les suivantes ne sont pas "
                           "lues") % {"max": MAX_FAILURES})
            break
        status, diagnostic = status_near(text, address, everyone, temporary_only)
        if status and status not in diagnostic:
            notes.append(_("%(adresse)s : état %(etat)s déduit des mots du serveur")
                         % {"adresse": address, "etat": status})
        action = "delayed" if temporary_only and not status else "failed"
        failures.append(Failure(recipient=address, status=status,
                                kind=kind_for(status, action if temporary_only else None),
                                action=action, diagnostic=clean(diagnostic)))
    return failures


def _ordered(temporary: set[str], permanent: set[str],
             text: str) -> list[tuple[str, bool]]:
    """The addresses in the order the bounce names them (then by name: stable readings),
    each with whether its failure is only temporary."""
    lowered = text.lower()

    def place(address: str) -> tuple[int, str]:
        found = lowered.find(address)
        return (found if found >= 0 else len(lowered), address)

    return [(a, a not in permanent) for a in sorted(temporary | permanent, key=place)]


def _flufl(message: Message, text: str, notes: list[str]) -> tuple[set[str], set[str]]:
    """flufl.bounce's temporary and permanent failures, as plain lower-cased addresses."""
    if _size(message) > FLUFL_LIMIT:
        # The detectors read every line of every part: a bounce returning a large message
        # is handed to them as its notice only (its headers and the server's words).
        notes.append(_("message long : seuls ses en-têtes et l'avis du serveur sont lus"))
        message = _notice_only(message, text)
    try:
        from flufl.bounce import all_failures
    except ImportError:  # pragma: no cover - a declared dependency
        notes.append(_("flufl.bounce absent : rebonds non standard non lus"))
        return set(), set()
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    try:
        temporary, permanent = all_failures(message)
    except Exception as error:  # noqa: BLE001 - a detector failing on odd input
        notes.append(_("flufl.bounce a échoué (%(erreur)s)") % {"erreur": type(error).__name__})
        return set(), set()
    return _plain(temporary), _plain(permanent)


def _size(message: Message) -> int:
    """The characters of the message's payloads, without decoding them."""
    total = 0
    for part in walk(message):
        try:
            payload = part.get_payload()
        except Exception:  # noqa: BLE001
            continue
        if isinstance(payload, str):
            total += len(payload)
    return total


def _notice_only(message: Message, text: str) -> Message:
    """A copy of the message with its sender, subject and recipients, and the notice as
    its only body."""
    notice = EmailMessage()
    for name in ("From", "To", "Subject", "X-Failed-Recipients"):
        value = header(message, name)
        if value:
            try:
                notice[name] = clean(value, 2000)
            except Exception:  # noqa: BLE001 - a header the policy refuses: left out
                continue
    notice.set_content(text[:FLUFL_LIMIT])
    return notice


def _plain(found) -> set[str]:
    addresses = set()
    for raw in list(found)[: MAX_FAILURES * 2]:
        value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        value = value.strip().strip("<>").lower()
        if PLAIN_ADDRESS.fullmatch(value) and not NOT_RECIPIENT.match(value) \
                and not MESSAGE_ID.match(value):
            addresses.add(value)
    return addresses


def _written_addresses(message: Message, text: str) -> set[str]:
    """Addresses of the bounce text that an SMTP error or a failure phrase follows closely
    (the bounce's own sender and recipients excluded)."""
    own: set[str] = set()
    for name in ("From", "To", "Delivered-To", "Return-Path", "Reply-To"):
        own.update(a.lower() for a in _ANY_ADDRESS.findall(header(message, name)))
    found: set[str] = set()
    for match in _ANY_ADDRESS.finditer(text):
        address = match.group(0).lower().strip(".")
        if address in own or NOT_RECIPIENT.match(address) or MESSAGE_ID.match(address) \
                or address in found:
            continue
        if _SMTP_ERROR.search(text, match.end(), match.end() + 400):
            found.add(address)
        if len(found) >= MAX_FAILURES:
            break
    return found

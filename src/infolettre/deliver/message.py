"""The MIME message of one edition, built once and personalized cheaply for each recipient.

Building an ``EmailMessage`` and serializing it costs milliseconds per message; thousands of
recipients would spend most of a send doing it again and again. So everything constant is
encoded once per edition: the headers (From, Reply-To, Subject, List-Id), the MIME skeleton,
and both bodies, cut at their placeholders and quoted-printable encoded piece by piece. A
recipient then costs a few microseconds: encode three short values, join the pieces, write
four small headers (To, Date, Message-ID, List-Unsubscribe). Output is CRLF bytes, 7-bit,
ready for SMTP and for ``.eml`` files.

Wire-ready: no line of a message starts with ".". Quoted-printable writes such a dot as
``=2E`` (``encode_qp``), at the start of every piece too, since a piece can begin a line;
headers, MIME lines and boundaries never start with one. So the SMTP sender can send the
bytes as they are, without dot-stuffing (``Envelope.message`` states the contract). The
bytes come as ``WireMessage``, which tells the sender it need not even check.

Bodies are quoted-printable: accents survive any relay, lines stay under 76 characters, and
mostly-ASCII HTML grows far less than with base64. The boundary starts with ``=_``, a
sequence that quoted-printable output can never contain, so no body can collide with it.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
from dataclasses import replace
from datetime import datetime
from email.policy import SMTP
from email.utils import format_datetime
from typing import NamedTuple, Protocol
from urllib.parse import quote

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..i18n import _
from ..models import FIELDS, Placeholders, Recipient, RenderedEdition, UnsubscribeLinks
from ..render.context import published_images
from ..settings import Settings
from . import Envelope

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
QP_LINE = 76   # longest quoted-printable line, soft break included (RFC 2045)
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
_SAFE_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")


class Unsubscriber(Protocol):
    """Give each recipient their unsubscribe links (the seam for signed tokens)."""

    def links(self, recipient: Recipient) -> UnsubscribeLinks: ...


class MailtoUnsubscriber:
    """Offer unsubscribing by writing to ``repondre_a``, the default with no web endpoint."""

    def __init__(self, settings: Settings):
        self.address = settings.identity.repondre_a

    def links(self, recipient: Recipient) -> UnsubscribeLinks:
        subject = _("Désabonnement {courriel}").format(courriel=recipient.email)
        query = quote(subject, safe="")
        return UnsubscribeLinks(mailto=f"mailto:{self.address}?subject={query}")


class WireMessage(bytes):
    """A message's bytes as ``EditionMessage.personalize`` makes them: wire-ready by
    construction (CRLF line ends only, the last line included; no line starting with ".").

    Only this module makes them; ``SmtpSender`` sends them as they are, skipping even the
    cheap checks it runs on other bytes (~0.1 ms a message of 60 KB). Any change to the
    bytes (a DKIM signature, another Message-ID) gives plain ``bytes``, checked again.
    ``tests/test_message.py`` checks the invariant on every shape of body it builds.
    """

    __slots__ = ()


class Personalized(NamedTuple):
    """One recipient's complete message, and its Message-ID for the delivery ledger."""

    message_id: str
    data: WireMessage


def fold(name: str, value: object) -> bytes:
    """Encode one header as ``email.policy.SMTP`` would (RFC 2047 words, folded, CRLF)."""
    return SMTP.header_factory(name, value).fold(policy=SMTP).encode("ascii")


def encode_qp(text: str) -> bytes:
    """Encode text as UTF-8 quoted-printable with CRLF line ends, accents intact.

    A "." at the start of a line, the first byte included (a piece may begin a line), is
    written ``=2E``: no encoded line starts with a dot, so SMTP needs no dot-stuffing.
    Lines stay within quoted-printable's 76 characters.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    if encoded.startswith(b".") or b"\n." in encoded:
        encoded = b"\n".join(_escape_dot(line) for line in encoded.split(b"\n"))
    return encoded.replace(b"\n", CRLF)


def _escape_dot(line: bytes) -> bytes:
    """Write a line's leading "." as ``=2E``, adding a soft break if it grows past 76."""
    if not line.startswith(b"."):
        return line
    line = b"=2E" + line[1:]
    if len(line) <= QP_LINE:
        return line
    head, rest = _cut(line, QP_LINE - 1)    # room for the soft break's "="
    return head + b"=\n" + _escape_dot(rest)


def _cut(line: bytes, at: int) -> tuple[bytes, bytes]:
    """Cut an encoded line at most ``at`` bytes in, never inside an ``=XX`` escape."""
    while at > 3 and b"=" in line[at - 2:at]:
        at -= 1
    return line[:at], line[at:]


def encode_piece(text: str) -> bytes:
    """``encode_qp`` for a piece followed by a soft break: its last line leaves room for it."""
    encoded = encode_qp(text)
    start = encoded.rfind(CRLF) + 2 if CRLF in encoded else 0
    if len(encoded) - start < QP_LINE:
        return encoded
    head, rest = _cut(encoded[start:], QP_LINE - 1)
    return encoded[:start] + head + SOFT_BREAK + _escape_dot(rest)   # rest: a few bytes


class PreparedBody:
    """A body cut at its placeholders, the text between them encoded once.

    Each piece is encoded on its own and ends with a quoted-printable soft line break
    (``=`` CRLF), which decodes to nothing: so a recipient's body is the pre-encoded pieces
    joined with their encoded values, decoding to exactly ``Placeholders.fill``'s result.
    """

    def __init__(self, rendered: str, placeholders: Placeholders, *, escape_html: bool):
        tokens = {placeholders.token(name): name for name in FIELDS}
        pattern = "|".join(re.escape(token) for token in tokens)
        self.pieces: list[bytes | str] = [
            tokens.get(piece) or encode_piece(piece)
            for piece in re.split(f"({pattern})", rendered) if piece]
        #: The placeholders this body holds: only those are encoded per recipient.
        self.used = tuple(name for name in FIELDS if name in self.pieces)
        self.placeholders = placeholders
        self.escape_html = escape_html

    def encode(self, values: dict[str, str]) -> bytes:
        """Return the body encoded for one recipient's values.

        Each value is what ``Placeholders.fill`` puts in place of its token (HTML-escaped
        in HTML), computed directly: a value never holds a token (their nonce is secret).
        """
        escape = self.escape_html
        encoded = {name: encode_piece(html.escape(values.get(name, "")) if escape
                                      else values.get(name, "")) for name in self.used}
        return SOFT_BREAK.join(encoded[p] if isinstance(p, str) else p for p in self.pieces)


def to_header(name: str, address: str) -> bytes:
    """Write ``To`` with the recipient's name, RFC 2047-encoded when it is not plain ASCII.

    Built by hand because the ``email`` package's header folding costs ~150 µs, more than
    the rest of a personalized message.
    """
    if not _SAFE_ADDRESS.fullmatch(address):
        raise DeliveryError(
            _("adresse de destinataire invalide : {email!r}.").format(email=address),
            fix=_("Corrigez cette adresse dans la liste des destinataires."))
    name = " ".join(name.split())
    if not name:
        return f"To: {address}\r\n".encode("ascii")
    if name.isascii() and name.isprintable() and "=?" not in name and len(name) < 64:
        phrase = name if _ATOMS.fullmatch(name) else '"{}"'.format(
            name.replace("\\", "\\\\").replace('"', '\\"'))
        return f"To: {phrase} <{address}>\r\n".encode("ascii")
    words = encoded_words(name)
    sep = " " if sum(map(len, words)) + len(address) < 70 else "\r\n "
    return f"To: {sep.join(words)}{sep}<{address}>\r\n".encode("ascii")


def encoded_words(text: str, max_bytes: int = 45) -> list[str]:
    """Cut text into RFC 2047 base64 words of at most 75 characters.

    Cuts fall after a space, the space kept inside the word, so RFC 2047 decoders (which drop
    the folding between words) give the name back exactly; a word too long for one piece is
    cut between two letters. (Python's address parser keeps the folding as an extra space.)
    """
    pieces, chunk = [], b""
    for word in re.findall(r"\S+\s*", text):
        data = word.encode("utf-8", "surrogatepass")
        if chunk and len(chunk) + len(data) > max_bytes:
            pieces.append(chunk)
            chunk = b""
        chunk += data
        while len(chunk) > max_bytes:
            cut = max_bytes
            while cut and (chunk[cut] & 0xC0) == 0x80:  # never inside a UTF-8 sequence
                cut -= 1
            pieces.append(chunk[:cut])
            chunk = chunk[cut:]
    pieces.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(p).decode('ascii')}?=" for p in pieces if p]


def salutation(recipient: Recipient) -> str:
    """Greet the recipient by full name, or without one when the list has none."""
    name = " ".join(recipient.nom.split())
    return _("Bonjour {nom},").format(nom=name) if name else _("Bonjour,")


class EditionMessage:
    """An edition's message, encoded once, turned into one recipient's bytes on demand."""

    def __init__(self, edition: RenderedEdition, placeholders: Placeholders,
                 settings: Settings, month: str, *, unsubscriber: Unsubscriber | None = None,
                 clock: Clock = SYSTEM_CLOCK):
        identity = settings.identity
        self.clock = clock
        self.edition = edition
        self.month = month
        self.images = published_images(settings, month)
        self.placeholders = placeholders
        self.timezone = identity.timezone
        self.domain = identity.sender_address.rpartition("@")[2]
        self.unsubscriber = unsubscriber or MailtoUnsubscriber(settings)
        self.boundary = f"=_infolettre_{secrets.token_hex(12)}"
        self._refuse_placeholder_in_subject(edition, placeholders, settings)
        self.head = self._constant_headers(settings)
        self.mime = ("MIME-Version: 1.0\r\n"
                     f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
                     ).encode("ascii")
        self.parts = self._part_headers()
        self.text = PreparedBody(edition.text, placeholders, escape_html=False)
        self.html = PreparedBody(edition.html, placeholders, escape_html=True)

    @staticmethod
    def _refuse_placeholder_in_subject(edition: RenderedEdition, placeholders: Placeholders,
                                       settings: Settings) -> None:
        """Refuse a personalized subject: it is encoded once for every recipient."""
        if placeholders.nonce in edition.subject:
            raise DeliveryError(
                _("l'objet de l'édition « {slug} » contient un champ personnalisé.").format(
                    slug=edition.slug),
                where=str(settings.paths.gabarits),
                fix=_("Retirez placeholder(...) de l'objet dans le gabarit : l'objet est le "
                      "même pour tous les destinataires."))

    def _constant_headers(self, settings: Settings) -> bytes:
        identity = settings.identity
        local = identity.sender_address.partition("@")[0]
        try:
            return b"".join([
                fold("From", identity.expediteur),
                fold("Reply-To", identity.repondre_a),
                fold("Subject", " ".join(self.edition.subject.split())),
                fold("List-Id", f"{identity.nom} <{local}.{self.domain}>"),
            ])
        except (ValueError, UnicodeError) as exc:
            raise DeliveryError(
                _("impossible d'écrire l'en-tête du message ({detail}).").format(detail=exc),
                where=str(settings.source or "infolettre.toml"),
                fix=_("Vérifiez [infolettre] expediteur, repondre_a et nom.")) from None

    def _part_headers(self) -> tuple[bytes, bytes]:
        def part(subtype: str) -> bytes:
            return (f"--{self.boundary}\r\n"
                    f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
                    "Content-Transfer-Encoding: quoted-printable\r\n\r\n").encode("ascii")
        return part("plain"), part("html")

    def new_message_id(self) -> str:
        """Draw a Message-ID unique to one recipient, in the sender's domain."""
        return f"<{self.month}.{self.edition.slug}.{secrets.token_hex(10)}@{self.domain}>"

    def personalize(self, recipient: Recipient, *, message_id: str | None = None,
                    now: datetime | None = None) -> Personalized:
        """Return the recipient's message; reuse ``message_id`` when retrying a send."""
        message_id = message_id or self.new_message_id()
        links = self.unsubscriber.links(recipient)
        values = {"salutation": salutation(recipient), "courriel": recipient.email,
                  "desabonnement": links.preferred, "images": self.images}
        text, html = self.text.encode(values), self.html.encode(values)
        data = WireMessage(b"".join([
            self.head, self._recipient_headers(recipient, message_id, links, now),
            self.mime, CRLF,
            self.parts[0], text, CRLF, self.parts[1], html, CRLF,
            f"--{self.boundary}--\r\n".encode("ascii"),
        ]))
        return Personalized(message_id, data)

    def _recipient_headers(self, recipient: Recipient, message_id: str,
                           links: UnsubscribeLinks, now: datetime | None) -> bytes:
        when = now or self.clock.local(self.timezone)
        to = to_header(recipient.nom, recipient.email)
        return b"".join([
            to, f"Date: {format_datetime(when)}\r\n".encode("ascii"),
            f"Message-ID: {message_id}\r\n".encode("ascii"),
            list_unsubscribe(links),
        ])


def list_unsubscribe(links: UnsubscribeLinks) -> bytes:
    """Write ``List-Unsubscribe`` (and the RFC 8058 one-click header when HTTPS is offered)."""
    if not links.https:
        return f"List-Unsubscribe: <{links.mailto}>\r\n".encode("ascii")
    return (f"List-Unsubscribe: <{links.https}>,\r\n <{links.mailto}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n").encode("ascii")


def with_message_id(envelope: Envelope, message_id: str | None) -> Envelope:
    """Return the envelope carrying ``message_id`` (a retry reuses its first Message-ID).

    Only the ``Message-ID:`` header line of the prebuilt bytes is swapped, so a retry costs
    no new build; if that line cannot be found the envelope is returned as it is, and its
    own Message-ID gets recorded. The result is plain ``bytes``, not a ``WireMessage``.
    """
    if not message_id or message_id == envelope.message_id:
        return envelope
    head, sep, body = envelope.message.partition(b"\r\n\r\n")
    old = f"\r\nMessage-ID: {envelope.message_id}\r\n".encode("ascii", "replace")
    new = f"\r\nMessage-ID: {message_id}\r\n".encode("ascii", "replace")
    framed = b"\r\n" + head + b"\r\n"
    if not sep or framed.count(old) != 1:
        return envelope
    swapped = framed.replace(old, new)[2:-2]
    return replace(envelope, message=swapped + sep + body, message_id=message_id)

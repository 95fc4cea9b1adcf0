"""The MIME message of one edition, built once and personalized cheaply for each recipient.

Building an ``EmailMessage`` and serializing it costs milliseconds per message; thousands of
recipients would spend most of a send doing it again and again. So the constant part (From,
Reply-To, Subject, List-Id, the MIME skeleton and its boundary) is encoded once per edition,
and each recipient only costs: filling the placeholders, quoted-printable encoding of the two
bodies (C code in ``binascii``) and four small headers (To, Date, Message-ID,
List-Unsubscribe). Output is CRLF bytes ready for SMTP and for ``.eml`` files.

Bodies are quoted-printable: accents survive any relay, lines stay under 76 characters, and
mostly-ASCII HTML grows far less than with base64. The boundary starts with ``=_``, a
sequence that quoted-printable output can never contain, so no body can collide with it.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.policy import SMTP
from email.utils import format_datetime
from typing import NamedTuple, Protocol
from urllib.parse import quote

from ..errors import DeliveryError
from ..i18n import _
from ..models import Recipient, RenderedEdition
from ..render.personalize import Placeholders
from ..settings import Settings

CRLF = b"\r\n"


@dataclass(frozen=True)
class UnsubscribeLinks:
    """The ways one recipient can unsubscribe: a mailto, and later a signed HTTPS link."""

    mailto: str
    #: Signed one-click link (RFC 8058); issue 3 fills it, the outbox leaves it empty.
    https: str | None = None

    @property
    def preferred(self) -> str:
        """Return the link shown in the footer: one click when there is one."""
        return self.https or self.mailto


class Unsubscriber(Protocol):
    """Give each recipient their unsubscribe links (the seam for signed tokens)."""

    def links(self, recipient: Recipient) -> UnsubscribeLinks: ...


class MailtoUnsubscriber:
    """Offer unsubscribing by writing to ``repondre_a``, the default with no web endpoint."""

    def __init__(self, settings: Settings):
        self.address = settings.identity.repondre_a

    def links(self, recipient: Recipient) -> UnsubscribeLinks:
        subject = _("Désabonnement {courriel}").format(courriel=recipient.email)
        return UnsubscribeLinks(mailto=f"mailto:{self.address}?subject={quote(subject, safe='')}")


class Personalized(NamedTuple):
    """One recipient's complete message, and its Message-ID for the delivery ledger."""

    message_id: str
    data: bytes


def fold(name: str, value: object) -> bytes:
    """Encode one header as ``email.policy.SMTP`` would (RFC 2047 words, folded, CRLF)."""
    return SMTP.header_factory(name, value).fold(policy=SMTP).encode("ascii")


def encode_body(text: str) -> bytes:
    """Encode a body as UTF-8 quoted-printable with CRLF line ends, accents intact."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", CRLF)


def salutation(recipient: Recipient) -> str:
    """Greet the recipient by full name, or without one when the list has none."""
    name = " ".join(recipient.nom.split())
    return _("Bonjour {nom},").format(nom=name) if name else _("Bonjour,")


class EditionMessage:
    """An edition's message, encoded once, turned into one recipient's bytes on demand."""

    def __init__(self, edition: RenderedEdition, placeholders: Placeholders,
                 settings: Settings, month: str, *, unsubscriber: Unsubscriber | None = None):
        identity = settings.identity
        self.edition = edition
        self.month = month
        self.placeholders = placeholders
        self.timezone = identity.timezone
        self.domain = identity.sender_address.rpartition("@")[2]
        self.unsubscriber = unsubscriber or MailtoUnsubscriber(settings)
        self.boundary = f"=_infolettre_{secrets.token_hex(12)}"
        self.head = self._constant_headers(settings)
        self.mime = ("MIME-Version: 1.0\r\n"
                     f'Content-Type: multipart/alternative; boundary="{self.boundary}"\r\n'
                     ).encode("ascii")
        self.parts = self._part_headers()

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
                  "desabonnement": links.preferred}
        fill = self.placeholders.fill
        text = encode_body(fill(self.edition.text, values, escape_html=False))
        html = encode_body(fill(self.edition.html, values, escape_html=True))
        data = b"".join([
            self.head, self._recipient_headers(recipient, message_id, links, now),
            self.mime, CRLF,
            self.parts[0], text, CRLF, self.parts[1], html, CRLF,
            f"--{self.boundary}--\r\n".encode("ascii"),
        ])
        return Personalized(message_id, data)

    def _recipient_headers(self, recipient: Recipient, message_id: str,
                           links: UnsubscribeLinks, now: datetime | None) -> bytes:
        when = now or datetime.now(self.timezone)
        try:
            to = fold("To", Address(display_name=" ".join(recipient.nom.split()),
                                    addr_spec=recipient.email))
        except (ValueError, IndexError) as exc:
            raise DeliveryError(
                _("adresse de destinataire invalide : {email!r} ({detail}).").format(
                    email=recipient.email, detail=exc),
                fix=_("Corrigez cette adresse dans la liste des destinataires.")) from None
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

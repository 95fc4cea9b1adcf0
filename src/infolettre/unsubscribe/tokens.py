"""Signed unsubscribe tokens (HMAC-SHA256) and the links every message carries."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from urllib.parse import quote, urlsplit

from ..errors import ConfigError
from ..i18n import _
from ..models import Recipient, UnsubscribeLinks


VERSION = "v1"
MAC_BYTES = 16  # 128 bits
_MAC_CHARS = 22  # base64url of 16 bytes, without padding
_DOMAIN_SEPARATION = b"infolettre/desabonnement\x00"
MAX_TOKEN_CHARS = 600
#: A token anywhere in a text: ``v1.<address, base64url>.<MAC, base64url>``.
TOKEN_RE = re.compile(r"(?<![A-Za-z0-9_-])v1\.[A-Za-z0-9_-]{4,500}\.[A-Za-z0-9_-]{22}"
                      r"(?![A-Za-z0-9_-])")


def normalize_email(email: str) -> str:
    """Return the address as it is signed and stored: trimmed and lowercased.

    Lowercasing the local part too can only unsubscribe more, never fewer: ``Marie@x.ca``
    and ``marie@x.ca`` are the same person in practice.
    """
    return email.strip().lower()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, email: str) -> bytes:
    payload = _DOMAIN_SEPARATION + VERSION.encode("ascii") + b"\x00" + email.encode("utf-8")
    return hmac.new(secret, payload, hashlib.sha256).digest()[:MAC_BYTES]


def make_token(secret: bytes, email: str) -> str:
    """Return the recipient's unsubscribe token, safe in a URL and in a mail subject.

    ``v1.<address in base64url>.<HMAC-SHA256 truncated to 128 bits, base64url>``: the address
    travels inside the token, so checking it needs no lookup. Tokens never expire: a link in
    a bulletin read (or printed) years later must still work; only a new secret revokes them.
    """
    email = normalize_email(email)
    return f"{VERSION}.{_b64(email.encode('utf-8'))}.{_b64(_mac(secret, email))}"


def verify_token(secret: bytes, token: str) -> str | None:
    """Return the (normalized) address a genuine token names, or None for anything else.

    The MAC is compared in constant time (``hmac.compare_digest``). Tokens do not expire.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        return None
    version, _sep, rest = token.strip().partition(".")
    encoded, _sep, mac_text = rest.partition(".")
    if version != VERSION or not encoded or len(mac_text) != _MAC_CHARS:
        return None
    try:
        raw_email, mac = _unb64(encoded), _unb64(mac_text)
        email = raw_email.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    # Only the canonical spelling: base64's unused low bits must not make a second token.
    if _b64(raw_email) != encoded or _b64(mac) != mac_text:
        return None
    if email != normalize_email(email) or "@" not in email:
        return None
    if not hmac.compare_digest(mac, _mac(secret, email)):
        return None
    return email


class SignedUnsubscriber:
    """Give each recipient signed unsubscribe links (implements ``message.Unsubscriber``).

    ``mailto``: ``mailto:<address>?subject=desabonnement%20<token>``, read back by
    ``process_maildir``. ``https`` (when ``base_url`` is set): ``<base_url>?t=<token>``.
    URL contract of the web endpoint (served by the review app, which calls
    ``process_unsubscribe_token(store, secret, token, "lien")``):

    - ``GET <base_url>?t=<token>`` shows a confirmation page with a button, and changes
      nothing (mail scanners and link previews follow links);
    - ``POST <base_url>?t=<token>`` unsubscribes: from that page's button, or from the
      recipient's mail program with the body ``List-Unsubscribe=One-Click`` (RFC 8058, sent
      as ``List-Unsubscribe-Post``), without cookie or login. It answers 200 for a genuine
      token, even one already used, and 400 for a forged one.
    """

    def __init__(self, secret: bytes, mailto_address: str, base_url: str | None = None):
        if not re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
                            mailto_address or ""):
            raise ConfigError(
                _("adresse de désabonnement invalide : {value!r}.").format(
                    value=mailto_address),
                where="desabonnement.courriel",
                fix=_("Indiquez une adresse courriel simple (sans nom ni accents), de "
                      "préférence réservée aux désabonnements, par exemple "
                      "desabonnement@example.org."))
        if base_url is not None:
            _check_base_url(base_url)
        self.secret = secret
        self.mailto_address = mailto_address
        self.base_url = base_url
        self._separator = "&" if base_url and "?" in base_url else "?"
        self._subject = quote(_("desabonnement") + " ", safe="")

    def token(self, recipient: Recipient) -> str:
        """Return the recipient's token."""
        return make_token(self.secret, recipient.email)

    def links(self, recipient: Recipient) -> UnsubscribeLinks:
        """Return the recipient's mailto link and, with a web endpoint, one-click link."""
        token = self.token(recipient)
        https = f"{self.base_url}{self._separator}t={token}" if self.base_url else None
        return UnsubscribeLinks(
            mailto=f"mailto:{self.mailto_address}?subject={self._subject}{token}", https=https)


def _check_base_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or parts.fragment or not url.isascii() \
            or any(c.isspace() or c in "<>\"," for c in url):
        raise ConfigError(
            _("adresse web de désabonnement invalide : {value!r}.").format(value=url),
            where="desabonnement.url",
            fix=_("Indiquez l'adresse complète de la page de désabonnement de l'application "
                  "de révision, en https:// (exigé pour le désabonnement en un clic), par "
                  "exemple https://infolettre.example.org/desabonnement."))



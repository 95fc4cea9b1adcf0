"""DKIM signing (RFC 6376) of outgoing messages, with dkimpy, when a key is configured.

A signature lets the receiving servers check that the message really comes from the
network's domain and was not changed on the way; Gmail and Yahoo require it of bulk
senders. The signature covers the body, so each personalized message is signed on its own,
just before it is sent (see the cost measured in ``tests/test_dkim.py``).

The private key is an RSA key in PEM (PKCS#1 ``BEGIN RSA PRIVATE KEY`` or PKCS#8
``BEGIN PRIVATE KEY``), 2048 bits recommended, for example::

    openssl genrsa -out data/dkim.pem 2048

and the public half is published in DNS as a TXT record at
``<selecteur>._domainkey.<domaine>``; ``DkimSigner.dns_record()`` gives its exact value.
"""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from ..errors import ConfigError, DeliveryError
from ..i18n import _

#: Headers covered by the signature, in this order. A header listed but absent is signed as
#: absent too (RFC 6376 §5.4): nobody can add a ``List-Unsubscribe`` on the way.
SIGNED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                  "List-Unsubscribe-Post", "MIME-Version", "Content-Type")
CANONICALIZATION = (b"relaxed", b"relaxed")
#: Receivers (and dkimpy's own verifier) refuse keys shorter than this.
MIN_KEY_BITS = 1024
_LABEL = r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)"
_SELECTOR = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_RSA_OID = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1 rsaEncryption


class DkimSigner:
    """Sign messages for one domain with one selector and its RSA private key."""

    def __init__(self, selector: str, domain: str, private_key_pem: bytes, *,
                 where: str | None = None):
        where = where or _("clé DKIM")
        if not _SELECTOR.fullmatch(selector or ""):
            raise ConfigError(
                _("sélecteur DKIM invalide : {value!r}.").format(value=selector),
                where=where,
                fix=_("Le sélecteur est le nom publié dans le DNS avant « ._domainkey », "
                      "par exemple « infolettre2026 » : lettres, chiffres et tirets."))
        if not _DOMAIN.fullmatch(domain or ""):
            raise ConfigError(
                _("domaine DKIM invalide : {value!r}.").format(value=domain),
                where=where,
                fix=_("Indiquez le domaine de l'adresse d'expédition, par exemple "
                      "« example.org » (en ASCII : xn--… pour un domaine accentué)."))
        self.selector = selector
        self.domain = domain.lower()
        self.private_key = _normalize_pem(private_key_pem)
        self._key = _parse_key(self.private_key, where)
        self.bits = self._key["modulus"].bit_length()
        if self.bits < MIN_KEY_BITS:
            raise ConfigError(
                _("la clé DKIM n'a que {bits} bits ; les serveurs de réception la "
                  "refusent.").format(bits=self.bits),
                where=where,
                fix=_("Créez une clé de 2048 bits : openssl genrsa -out dkim.pem 2048, puis "
                      "publiez la nouvelle clé publique dans le DNS."))
        self._selector = selector.encode("ascii")
        self._domain = self.domain.encode("ascii")
        self._headers = [h.lower().encode("ascii") for h in SIGNED_HEADERS]

    @classmethod
    def from_file(cls, path: Path, selector: str, domain: str) -> DkimSigner:
        """Read the private key from ``path`` (PEM); French errors if it can't be used."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigError(
                _("la clé privée DKIM est introuvable."), where=str(path),
                fix=_("Vérifiez le chemin [dkim] cle dans infolettre.toml, ou créez la clé : "
                      "openssl genrsa -out {path} 2048").format(path=path)) from None
        except OSError as exc:
            raise ConfigError(
                _("impossible de lire la clé privée DKIM ({detail}).").format(
                    detail=exc.strerror or exc),
                where=str(path),
                fix=_("Vérifiez que le fichier est lisible par l'utilisateur qui lance "
                      "infolettre (chmod 600, même propriétaire).")) from None
        return cls(selector, domain, data, where=str(path))

    def sign(self, message: bytes) -> bytes:
        """Return ``message`` with a ``DKIM-Signature`` header prepended (relaxed/relaxed)."""
        try:
            signature = dkim.sign(message, self._selector, self._domain, self.private_key,
                                  canonicalize=CANONICALIZATION,
                                  include_headers=self._headers)
        except dkim.DKIMException as exc:
            raise DeliveryError(
                _("impossible de signer le message avec DKIM ({detail}).").format(detail=exc),
                where=f"{self.selector}._domainkey.{self.domain}",
                fix=_("Le message est mal formé : c'est probablement un défaut du programme. "
                      "Relancez avec --debug et transmettez le détail à l'équipe "
                      "technique.")) from None
        return signature + message

    @property
    def dns_name(self) -> str:
        """Return the DNS name where the public key is published."""
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """Return the TXT record to publish at ``dns_name`` (``v=DKIM1; k=rsa; p=…``)."""
        rsa_public_key = _der(0x30, _der_int(self._key["modulus"])
                              + _der_int(self._key["publicExponent"]))
        spki = _der(0x30, _der(0x30, _der(0x06, _RSA_OID) + _der(0x05, b""))
                    + _der(0x03, b"\x00" + rsa_public_key))
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(spki).decode("ascii")


def _normalize_pem(data: bytes) -> bytes:
    """Give dkimpy LF line ends (its PEM reader misses keys saved with CRLF, e.g. on Windows)."""
    return data.replace(b"\r\n", b"\n").strip() + b"\n"


def _parse_key(pem: bytes, where: str) -> dict:
    """Parse the RSA key as dkimpy will, to fail at load time rather than mid-send."""
    fix = _("Fournissez une clé RSA privée en PEM non chiffrée (« BEGIN PRIVATE KEY » ou "
            "« BEGIN RSA PRIVATE KEY »), par exemple : openssl genrsa -out dkim.pem 2048")
    if b"ENCRYPTED" in pem:
        raise ConfigError(
            _("la clé privée DKIM est protégée par un mot de passe."), where=where,
            fix=_("Enregistrez-en une copie sans mot de passe, lisible seulement par "
                  "infolettre : openssl pkey -in cle-chiffree.pem -out dkim.pem ; "
                  "chmod 600 dkim.pem"))
    if b"PUBLIC KEY" in pem:
        raise ConfigError(_("ce fichier contient une clé publique, pas la clé privée."),
                          where=where, fix=fix)
    if b"BEGIN" not in pem or (b"PRIVATE KEY" not in pem):
        raise ConfigError(_("ce fichier ne contient pas de clé privée PEM."),
                          where=where, fix=fix)
    try:
        key = parse_pem_private_key(pem)
    except (UnparsableKeyError, ValueError, IndexError, TypeError):
        raise ConfigError(
            _("la clé privée DKIM est illisible (fichier tronqué, ou clé d'un autre type "
              "que RSA)."), where=where, fix=fix) from None
    if not isinstance(key.get("modulus"), int) or key["modulus"] <= 0:
        raise ConfigError(_("la clé privée DKIM est illisible."), where=where, fix=fix)
    return key


def _der(tag: int, content: bytes) -> bytes:
    """Encode one DER element (tag, definite length, content)."""
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _der_int(value: int) -> bytes:
    """Encode a non-negative DER INTEGER (a leading zero byte keeps it positive)."""
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


class DkimSender:
    """Sign each message just before the wrapped sender takes it (keep it innermost).

    Inside the ledger wrapper, so what the ledger records is what was signed and sent.
    """

    def __init__(self, inner, signer: DkimSigner):
        self.inner, self.signer = inner, signer
        self.concurrency = inner.concurrency

    @property
    def before_content_hook(self) -> bool:
        """Pass the hook on exactly when the wrapped sender takes it (``Sender``)."""
        return getattr(self.inner, "before_content_hook", False) is True

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, envelope, **hooks):
        signed = dataclasses.replace(envelope, message=self.signer.sign(envelope.message))
        return await self.inner.send(signed, **hooks)

"""Unsubscribing: signed tokens, the record of who left, and the mailto inbox.

Every message carries a token that names its recipient and is signed with the project's
secret (HMAC-SHA256), so an unsubscribe link or reply proves which address wants to leave
without any lookup, and nobody can unsubscribe someone else by guessing. Three ways in,
one record (``UnsubscribeStore``, table ``desabonnements`` of the state database):

- ``lien``: the web endpoint of the review app calls ``process_unsubscribe_token``;
- ``courriel``: replies to the mailto link are read from a Maildir by ``process_maildir``;
- ``pivot``: a staff member records a request received by phone or in person.

The secret comes from ``INFOLETTRE_SECRET`` or from ``<donnees>/secret.key``, created on
first use (``data/`` is in ``.gitignore``: the secret is never committed). Losing or changing
it breaks every unsubscribe link already sent: back the file up with the state database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlsplit

from .deliver.message import UnsubscribeLinks
from .errors import ConfigError, InfolettreError
from .fsutil import fsync_dir, write_durably
from .i18n import _
from .models import Recipient
from .state import migrate

# --- the secret ------------------------------------------------------------------------

ENV_SECRET = "INFOLETTRE_SECRET"
SECRET_FILE = "secret.key"
MIN_SECRET_CHARS = 32


def load_secret(data_dir: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """Return the signing secret: ``INFOLETTRE_SECRET``, else ``data_dir/secret.key``.

    The environment value must have at least 32 characters. Without it, the file holds 32
    random bytes in hex; it is created on first use, atomically and readable by its owner
    only (mode 0600), and reused ever after. ``data/`` (the default ``[chemins] donnees``) is
    git-ignored; a folder configured elsewhere must be kept out of version control too.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_SECRET)
    if value is not None:
        value = value.strip()
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigError(
                _("la variable {name} est trop courte ({n} caractères, il en faut au moins "
                  "{min}).").format(name=ENV_SECRET, n=len(value), min=MIN_SECRET_CHARS),
                where=ENV_SECRET,
                fix=_("Donnez-lui une valeur aléatoire d'au moins {min} caractères, par "
                      "exemple celle de : python -c \"import secrets; "
                      "print(secrets.token_hex(32))\" ; ou retirez la variable pour utiliser "
                      "le fichier {file}.").format(min=MIN_SECRET_CHARS, file=SECRET_FILE))
        return value.encode("utf-8")
    path = Path(data_dir) / SECRET_FILE
    if not path.exists():
        _create_secret(path)
    return _read_secret(path)


def _create_secret(path: Path) -> None:
    """Write a new secret; if another process wrote one first, keep theirs (no clobber)."""
    data = (secrets.token_bytes(32).hex() + "\n").encode("ascii")
    try:
        write_durably(path, lambda handle: handle.write(data), mode=0o600, no_clobber=True)
    except OSError as exc:
        raise ConfigError(
            _("impossible de créer le fichier secret ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(path),
            fix=_("Vérifiez que le dossier [chemins] donnees existe et est accessible en "
                  "écriture, ou définissez la variable {name}.").format(name=ENV_SECRET)
        ) from None


def _read_secret(path: Path) -> bytes:
    damaged = ConfigError(
        _("le fichier secret est endommagé (64 chiffres hexadécimaux attendus)."),
        where=str(path),
        fix=_("Remettez la copie de sauvegarde de ce fichier. À défaut, supprimez-le : un "
              "nouveau sera créé, mais les liens de désabonnement déjà envoyés ne "
              "fonctionneront plus."))
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise damaged from None
    except OSError as exc:
        raise ConfigError(
            _("impossible de lire le fichier secret ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(path),
            fix=_("Vérifiez que le fichier est lisible par l'utilisateur qui lance "
                  "infolettre.")) from None
    if len(secret) < 32:
        raise damaged
    return secret


# --- tokens ----------------------------------------------------------------------------

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


# --- the record of unsubscribed addresses ----------------------------------------------

SOURCES = ("lien", "courriel", "pivot")
MIGRATIONS = [
    ("CREATE TABLE desabonnements ("
     " courriel TEXT PRIMARY KEY,"
     " quand TEXT NOT NULL,"
     " source TEXT NOT NULL CHECK (source IN ('lien', 'courriel', 'pivot'))"
     ") WITHOUT ROWID"),
]


class UnsubscribeStore:
    """Unsubscribed addresses (lowercased), with when and how they left.

    Lives in the state database: open it with ``state.connect(state.state_file(donnees))``.
    The first unsubscribe of an address is kept; later ones change nothing.
    """

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        migrate(conn, "desabonnements", MIGRATIONS)

    def add(self, email: str, source: str, when: datetime | None = None) -> bool:
        """Record that ``email`` unsubscribed; return False if it already had."""
        if source not in SOURCES:
            raise ValueError(_("source de désabonnement inconnue : {source!r} (attendu : "
                               "{choices}).").format(source=source, choices=", ".join(SOURCES)))
        when = when or datetime.now(UTC)
        cursor = self.conn.execute(
            "INSERT INTO desabonnements (courriel, quand, source) VALUES (?, ?, ?) "
            "ON CONFLICT (courriel) DO NOTHING",
            (normalize_email(email), when.isoformat(timespec="seconds"), source))
        return cursor.rowcount == 1

    def contains(self, email: str) -> bool:
        """Tell whether ``email`` unsubscribed (case-insensitive)."""
        return self.conn.execute("SELECT 1 FROM desabonnements WHERE courriel = ?",
                                 (normalize_email(email),)).fetchone() is not None

    def filter(self, recipients: Iterable[Recipient],
               on_skip: Callable[[Recipient], None] | None = None) -> Iterator[Recipient]:
        """Yield the recipients still subscribed, one at a time (the list is never loaded).

        Each address is looked up as it passes, so an unsubscribe recorded during a long
        send is honoured for the recipients not reached yet. ``on_skip`` sees the others.
        """
        for recipient in recipients:
            if self.contains(recipient.email):
                if on_skip:
                    on_skip(recipient)
            else:
                yield recipient

    def count(self) -> int:
        """Return the number of unsubscribed addresses."""
        return self.conn.execute("SELECT count(*) FROM desabonnements").fetchone()[0]


def process_unsubscribe_token(store: UnsubscribeStore, secret: bytes, token: str,
                              source: str = "lien") -> str | None:
    """Unsubscribe the address a genuine token names; return it, or None if forged.

    The one function the web endpoint calls (its POST). Using a token twice is harmless.
    """
    email = verify_token(secret, token)
    if email is not None:
        store.add(email, source)
    return email


# --- replies to the mailto link, from a Maildir ----------------------------------------

REVIEW_FOLDER = "A-verifier"
DONE_FOLDER = "Traite"
REASON_HEADER = "X-Infolettre-Raison"
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

    def summary(self) -> str:
        """Say the counts in one French sentence."""
        return _("Désabonnements par courriel : {new} nouveau(x), {old} déjà enregistré(s), "
                 "{review} message(s) à vérifier dans le dossier « {folder} ».").format(
            new=self.unsubscribed, old=self.already, review=len(self.to_review),
            folder=REVIEW_FOLDER)


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
    maildir = Path(maildir)
    if not all((maildir / sub).is_dir() for sub in ("new", "cur", "tmp")):
        raise InfolettreError(
            _("ce dossier n'est pas une boîte Maildir (sous-dossiers new, cur et tmp "
              "attendus)."), where=str(maildir),
            fix=_("Indiquez le dossier Maildir de l'adresse de désabonnement, par exemple "
                  "/home/infolettre/Maildir."))
    try:
        review, done = (_folder(maildir, name) for name in (REVIEW_FOLDER, DONE_FOLDER))
    except OSError as exc:
        raise InfolettreError(
            _("impossible de créer les dossiers « {review} » et « {done} » ({detail}).").format(
                review=REVIEW_FOLDER, done=DONE_FOLDER, detail=exc.strerror or exc),
            where=str(maildir),
            fix=_("Vérifiez les droits sur le dossier Maildir ; s'il contient déjà un fichier "
                  "de ce nom, renommez-le.")) from None
    report = Report()
    for sub in ("new", "cur"):
        for path in sorted((maildir / sub).iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            try:
                raw = path.read_bytes()
            except FileNotFoundError:  # taken meanwhile by another reader
                continue
            except OSError as exc:
                raise _move_error(path, exc) from None
            email, reason = _unsubscribe_request(secret, raw)
            try:
                if email is not None:
                    if store.add(email, "courriel"):  # recorded first, then moved
                        report.unsubscribed += 1
                    else:
                        report.already += 1
                    _move(path, raw, done, "cur", ":2,S")
                else:
                    _move(path, _with_reason(raw, reason), review, "new", "")
                    report.to_review.append((path.name, reason))
            except OSError as exc:
                raise _move_error(path, exc) from None
    fsync_dir(maildir / "new")
    fsync_dir(maildir / "cur")
    return report


def _move_error(path: Path, exc: OSError) -> InfolettreError:
    return InfolettreError(
        _("impossible de lire ou de classer ce message ({detail}) ; il est resté dans la "
          "boîte de réception.").format(detail=exc.strerror or exc),
        where=str(path),
        fix=_("Vérifiez l'espace disque et les droits sur le dossier Maildir, puis relancez : "
              "les messages déjà classés ne sont pas traités deux fois."))


def _folder(maildir: Path, name: str) -> Path:
    """Return the Maildir++ folder ``.<name>``, created if needed."""
    folder = maildir / f".{name}"
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "maildirfolder").touch()
    return folder


def _move(path: Path, data: bytes, folder: Path, sub: str, info: str) -> None:
    """Deliver ``data`` into ``folder`` (tmp, fsync, rename), then delete the original."""
    name = path.name.split(":", 1)[0]
    if (folder / sub / f"{name}{info}").exists():  # a copy left by an interrupted run
        name = f"{name}.{secrets.token_hex(4)}"
    temp = folder / "tmp" / name
    write_durably(temp, lambda handle: handle.write(data), mode=0o600, sync_dir=False)
    os.rename(temp, folder / sub / f"{name}{info}")
    fsync_dir(folder / sub)
    path.unlink(missing_ok=True)


def _with_reason(raw: bytes, reason: str) -> bytes:
    """Prepend the reason header (RFC 2047 encoded), in the message's own line ends."""
    newline = "\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else "\n"
    header = policy.SMTP.clone(linesep=newline).header_factory(REASON_HEADER, reason)
    return header.fold(policy=policy.SMTP.clone(linesep=newline)).encode("ascii") + raw


def _unsubscribe_request(secret: bytes, raw: bytes) -> tuple[str | None, str]:
    """Return (address, "") for a genuine request, else (None, the reason in French)."""
    try:
        message = message_from_bytes(raw, policy=policy.default)
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

"""Unsubscribe requests that arrive by email (replies to the mailto link), from a Maildir."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from ..errors import InfolettreError
from ..fsutil import fsync_dir
from ..gather.mail.limits import parse, too_big
from ..i18n import _
from ..maildir import folder, move, with_reason
from .store import UnsubscribeStore
from .tokens import TOKEN_RE, verify_token

REVIEW_FOLDER = "A-verifier"
DONE_FOLDER = "Traite"
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
        review, done = (folder(maildir, name) for name in (REVIEW_FOLDER, DONE_FOLDER))
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
                    move(path, raw, done, "cur", ":2,S")
                else:
                    move(path, with_reason(raw, reason), review, "new", "")
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


def _unsubscribe_request(secret: bytes, raw: bytes) -> tuple[str | None, str]:
    """Return (address, "") for a genuine request, else (None, the reason in French).

    The raw bytes are measured before parsing (``gather.mail.limits``): a pathological
    message goes to a person instead of eating the machine's memory.
    """
    oversized = too_big(raw)
    if oversized:
        return None, oversized
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

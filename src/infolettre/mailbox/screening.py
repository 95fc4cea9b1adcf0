"""What every message goes through before a handler reads it: reason dropped, archived, measured.

A message put back in the inbox from « À vérifier » still carries the reason it was put
aside (an ``X-Infolettre-Raison`` header at the top): it is dropped first, so the message is
read, archived and filed as it first arrived. Then, when the handler wants it, the raw bytes
are kept at ``<folder>/<2>/<sha256>.eml`` (durable, never rewritten) before anything can
fail; and they are measured (``limits.too_big``) before any parser sees them.
"""

from __future__ import annotations

import hashlib
import re
from email import policy
from pathlib import Path

from ..errors import InfolettreError
from ..fsutil import write_durably
from ..i18n import _
from .limits import too_big

REASON_HEADER = "X-Infolettre-Raison"
_REASON_LINE = re.compile(rb"\A" + REASON_HEADER.encode() + rb":[^\n]*\n(?:[ \t][^\n]*\n)*",
                          re.IGNORECASE)


def with_reason(raw: bytes, reason: str) -> bytes:
    """Prepend the reason header (RFC 2047 encoded), in the message's own line ends."""
    newline = "\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else "\n"
    header = policy.SMTP.clone(linesep=newline).header_factory(REASON_HEADER, reason)
    return header.fold(policy=policy.SMTP.clone(linesep=newline)).encode("ascii") + raw


def without_reason(raw: bytes) -> bytes:
    """Drop a leading ``X-Infolettre-Raison`` header: a message put back from « À vérifier »."""
    return _REASON_LINE.sub(b"", raw, count=1)


def archive(folder: Path, raw: bytes, digest: str | None = None) -> Path:
    """Keep the raw bytes at ``<folder>/<2>/<sha256>.eml`` (durable, never rewritten).

    Raises ``InfolettreError`` when they cannot be written: the message must then stay
    where it is.
    """
    digest = digest or hashlib.sha256(raw).hexdigest()
    path = folder / digest[:2] / f"{digest}.eml"
    if path.is_file():
        return path
    try:
        write_durably(path, lambda handle: handle.write(raw), mode=0o600, no_clobber=True)
    except OSError as exc:
        raise InfolettreError(
            _("impossible d'archiver un courriel reçu ({detail}) ; il n'a pas été traité.")
            .format(detail=exc.strerror or exc), where=str(path),
            fix=_("Vérifiez l'espace disque et les droits sur le dossier des données (clé "
                  "« donnees » de la table « chemins »), puis relancez : le message attend "
                  "toujours dans la boîte.")) from None
    return path


def screen(raw: bytes, archive_to: Path | None = None) -> str | None:
    """Archive ``raw`` into ``archive_to`` (when given), then measure it.

    Returns why it is too big to be parsed safely (in French), or None. ``raw`` is expected
    without its reason header (``without_reason``).
    """
    if archive_to is not None:
        archive(archive_to, raw)
    return too_big(raw)

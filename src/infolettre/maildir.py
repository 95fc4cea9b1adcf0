"""Maildir moves that never lose a message: copy durably, then remove the original.

Shared by every reader of a Maildir (emailed submissions, unsubscribe requests): a message
is delivered into a Maildir++ sub-folder (``.Traite``, ``.A-verifier``) through ``tmp/``
with an fsync, renamed into place, and only then deleted from where it was; a crash leaves
it in two places, never in none. A message put aside for a person carries the reason in an
``X-Infolettre-Raison`` header at the top.
"""

from __future__ import annotations

import os
import secrets
from email import policy
from pathlib import Path

from .fsutil import fsync_dir, write_durably

REASON_HEADER = "X-Infolettre-Raison"


def folder(maildir: Path, name: str) -> Path:
    """Return the Maildir++ folder ``.<name>``, created if needed (like Dovecot makes it)."""
    folder = maildir / f".{name}"
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    (folder / "maildirfolder").touch()
    return folder


def move(path: Path, data: bytes, folder: Path, sub: str, info: str) -> None:
    """Deliver ``data`` into ``folder`` (tmp, fsync, rename), then delete the original."""
    name = path.name.split(":", 1)[0]
    if (folder / sub / f"{name}{info}").exists():  # a copy left by an interrupted run
        name = f"{name}.{secrets.token_hex(4)}"
    temp = folder / "tmp" / name
    write_durably(temp, lambda handle: handle.write(data), mode=0o600, sync_dir=False)
    os.rename(temp, folder / sub / f"{name}{info}")
    fsync_dir(folder / sub)
    path.unlink(missing_ok=True)


def with_reason(raw: bytes, reason: str) -> bytes:
    """Prepend the reason header (RFC 2047 encoded), in the message's own line ends."""
    newline = "\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else "\n"
    header = policy.SMTP.clone(linesep=newline).header_factory(REASON_HEADER, reason)
    return header.fold(policy=policy.SMTP.clone(linesep=newline)).encode("ascii") + raw

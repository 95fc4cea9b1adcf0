"""A Maildir inbox as a mailbox source: moves that never lose a message.

The messages are the files of ``new/`` then ``cur/`` in their order of arrival (hidden files
skipped): a Maildir name starts with the second it was delivered and, from Python, Dovecot
or Postfix, « .M » and the microseconds, written without leading zeros — so « .M5000 »
(5 ms) must come before « .M10000 » (10 ms), which a plain sort of the names inverts. A
message is filed into a Maildir++ sub-folder — ``.Traite`` (done, marked seen) or
``.A-verifier`` (unread, the reason in an ``X-Infolettre-Raison`` header at the top) —
through ``tmp/`` with an fsync, renamed into place, and only then deleted from where it
was: a crash leaves it in two places, never in none. Read by batches (the intake), a
message filed as done unchanged is simply renamed into ``.Traite`` (one atomic step), the
folders made durable once per batch (``flush``). The sub-folders are made as Dovecot
makes them, so any mail program shows them. Any problem with the folder itself (unreadable,
full disk) stops the run with a French error: the message stays in the inbox.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from ..errors import InfolettreError
from ..fsutil import fsync_dir, write_durably
from ..i18n import _
from .runner import Message

DONE_FOLDER = "Traite"  # Maildir++ folders (ASCII: every mail program shows them)
REVIEW_FOLDER = "A-verifier"


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


_DELIVERED = re.compile(r"(\d+)\.(?:[^.]*?M(\d+))?")


def arrival(path: Path) -> tuple[int, int, str]:
    """Sort key of a Maildir file: (second, microsecond, name) when its name tells them
    (« 1733400000.M5000P12Q1.hôte »), else its name after every timed one."""
    found = _DELIVERED.match(path.name)
    if found is None:
        return (1 << 62, 0, path.name)
    return (int(found.group(1)), int(found.group(2) or 0), path.name)


class MaildirFolder:
    """The inbox of a Maildir (``new/``, ``cur/``), filed into ``.Traite`` and ``.A-verifier``."""

    def __init__(self, root: Path, *, fix: str, batched: bool = False):
        """Check that ``root`` is a Maildir and make its two folders.

        ``fix`` says where this Maildir is configured, for the error when it is not one.
        ``batched``: the runner files by batches and calls ``flush`` after each one, so a
        message kept as it is may be renamed into ``.Traite`` (no copy, no fsync each).
        """
        self.root = Path(root)
        self.batched = batched
        if not all((self.root / sub).is_dir() for sub in ("new", "cur", "tmp")):
            raise InfolettreError(
                _("ce dossier n'est pas une boîte Maildir (sous-dossiers new, cur et tmp "
                  "attendus)."), where=str(self.root), fix=fix)
        try:
            self.review, self.done = (folder(self.root, name)
                                      for name in (REVIEW_FOLDER, DONE_FOLDER))
        except OSError as exc:
            raise InfolettreError(
                _("impossible de créer les dossiers « {review} » et « {done} » ({detail}).")
                .format(review=REVIEW_FOLDER, done=DONE_FOLDER, detail=exc.strerror or exc),
                where=str(self.root),
                fix=_("Vérifiez les droits sur le dossier Maildir ; s'il contient déjà un "
                      "fichier de ce nom, renommez-le.")) from None

    def keys(self) -> list[Path]:
        return [p for sub in ("new", "cur")
                for p in sorted((self.root / sub).iterdir(), key=arrival)
                if not p.name.startswith(".") and p.is_file()]

    def label(self, key: Path) -> str:
        return key.name

    def fetch(self, key: Path) -> Message | None:
        """Read one file and its arrival time; None when another reader took it meanwhile."""
        try:
            raw = key.read_bytes()
            received = datetime.fromtimestamp(key.stat().st_mtime, UTC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _stuck(key, exc) from None
        return Message(key, key.name, raw, received)

    def file_done(self, message: Message) -> str:
        if self.batched and _unchanged(message):
            self._rename(message, self.done, "cur", ":2,S")
        else:
            self._move(message, message.raw, self.done, "cur", ":2,S")
        return DONE_FOLDER

    def file_for_review(self, message: Message, raw: bytes | None) -> str:
        self._move(message, message.raw if raw is None else raw, self.review, "new", "")
        return REVIEW_FOLDER

    def flush(self) -> dict[Path, str]:
        """Make a batch's filings durable (the folders they left and entered): no problem
        to report, a failure here is the folder's (``OSError``) and stops the run."""
        for folder in (self.root / "new", self.root / "cur", self.done / "cur"):
            fsync_dir(folder)
        return {}

    def close(self) -> None:
        """Make the removals from the inbox durable."""
        fsync_dir(self.root / "new")
        fsync_dir(self.root / "cur")

    def _rename(self, message: Message, target: Path, sub: str, info: str) -> None:
        """File a message kept as it is by renaming it: one step, in one place at all times.

        Made durable by ``flush`` (a rename lost in a crash leaves it in the inbox: done
        again, a duplicate).
        """
        name = message.key.name.split(":", 1)[0]
        if (target / sub / f"{name}{info}").exists():  # a copy left by an interrupted run
            name = f"{name}.{secrets.token_hex(4)}"
        try:
            os.rename(message.key, target / sub / f"{name}{info}")
        except FileNotFoundError:
            return  # taken meanwhile by another reader: filed by it
        except OSError as exc:  # another disk (a linked folder): copy, then delete
            if exc.errno != errno.EXDEV:
                raise _stuck(message.key, exc) from None
            self._move(message, message.raw, target, sub, info)

    @staticmethod
    def _move(message: Message, data: bytes, target: Path, sub: str, info: str) -> None:
        try:
            move(message.key, data, target, sub, info)
        except OSError as exc:
            raise _stuck(message.key, exc) from None


def _unchanged(message: Message) -> bool:
    """Tell whether the file still holds exactly ``message.raw`` (no reason header dropped)."""
    try:
        return message.key.stat().st_size == len(message.raw)
    except OSError:
        return False


def _stuck(path: Path, exc: OSError) -> InfolettreError:
    return InfolettreError(
        _("impossible de lire ou de classer ce message ({detail}) ; il est resté dans la "
          "boîte de réception.").format(detail=exc.strerror or exc),
        where=str(path),
        fix=_("Vérifiez l'espace disque et les droits sur le dossier Maildir, puis relancez : "
              "les messages déjà classés ne sont pas traités deux fois."))

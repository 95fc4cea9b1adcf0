"""``infolettre sauvegarde``: a consistent copy of everything the data folder must not lose.

What is copied (each file 0600, folders 0700), in this order:

1. the records of sendings started (``envois/*.json``) and the journals (``*.jsonl``):
   copied first, so the copy of the database made next is never older than them
   (a record without its ledger rows would be read as a lost ledger);
2. the state database, with SQLite's online backup API (``sqlite3.Connection.backup``):
   a consistent snapshot even while a send or a gather is writing to it, checked
   (``PRAGMA quick_check``) and made a single file (no ``-wal``);
3. the secret that signs unsubscribe links (``secret.key``), if it lives in the data folder.

Nothing else of the data folder is needed to restore (``courriels/`` is an archive of
received mail, kept for people, and ``verrou`` is only a lock). README.md, « Restaurer une
sauvegarde », says how to put a copy back.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..fsutil import fsync_dir, write_durably
from ..i18n import _
from ..settings import Settings
from .database import connect, corruption_error, is_corruption, state_file
from .journal import SUFFIX as JOURNAL_SUFFIX
from .secret import SECRET_FILE
from .sendrecords import FOLDER as STARTED_FOLDER

DEFAULT_FOLDER = "sauvegardes"


def default_folder(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Path:
    """Return ``<donnees>/sauvegardes/AAAAMMJJ-HHMMSS`` (the bulletin's local time)."""
    stamp = clock.local(settings.identity.timezone).strftime("%Y%m%d-%H%M%S")
    return settings.paths.donnees / DEFAULT_FOLDER / stamp


def backup(settings: Settings, folder: Path | None = None, *,
           clock: Clock = SYSTEM_CLOCK) -> tuple[Path, list[Path]]:
    """Copy the state of the data folder into ``folder`` (a new or empty one; by default
    ``default_folder``); return the folder and the files written.

    Runs beside a send or a gather without stopping them (no lock is taken).
    """
    data = settings.paths.donnees
    folder = Path(folder) if folder is not None else default_folder(settings, clock)
    _prepare(folder)
    written: list[Path] = []
    try:
        for source in sorted((data / STARTED_FOLDER).glob("*.json")):
            written.append(_copy_file(source, folder / STARTED_FOLDER / source.name))
        for source in sorted(data.glob(f"*{JOURNAL_SUFFIX}")):
            written.append(_copy_file(source, folder / source.name))
        database = state_file(data)
        if database.exists():
            written.append(_copy_database(database, state_file(folder)))
        secret = data / SECRET_FILE
        if secret.exists():
            written.append(_copy_file(secret, folder / SECRET_FILE))
    except OSError as exc:
        raise InfolettreError(
            _("la sauvegarde n'a pas pu être écrite ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(getattr(exc, "filename", None) or folder),
            fix=_("Vérifiez l'espace disque et les droits sur le dossier de sauvegarde, puis "
                  "relancez la commande dans un nouveau dossier.")) from None
    fsync_dir(folder)
    return folder, written


def _prepare(folder: Path) -> None:
    """Create the backup folder (0700); refuse one that already holds files."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InfolettreError(
            _("le dossier de sauvegarde existe déjà et n'est pas vide ; rien n'a été écrit."),
            where=str(folder),
            fix=_("Donnez un dossier nouveau ou vide (sans dossier, infolettre en crée un "
                  "nouveau dans {folder}, daté).").format(folder=DEFAULT_FOLDER))
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise InfolettreError(
            _("impossible de créer le dossier de sauvegarde ({detail}).").format(
                detail=exc.strerror or exc), where=str(folder),
            fix=_("Vérifiez les droits sur le dossier parent, ou donnez un autre "
                  "dossier.")) from None
    os.chmod(folder, 0o700)


def _copy_file(source: Path, target: Path) -> Path:
    """Copy one file durably, readable by its owner only."""
    data = source.read_bytes()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_durably(target, lambda handle: handle.write(data), mode=0o600, no_clobber=True)
    return target


def _copy_database(source: Path, target: Path) -> Path:
    """Copy the state database page by page with SQLite's online backup API."""
    with closing(connect(source, readonly=True)) as src:  # a damaged file is reported here
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        try:
            with closing(sqlite3.connect(target, isolation_level=None)) as dst:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise sqlite3.DatabaseError("database disk image is malformed")
        except sqlite3.DatabaseError as exc:
            target.unlink(missing_ok=True)
            if is_corruption(exc):
                raise corruption_error(source) from None
            raise InfolettreError(
                _("la base d'état n'a pas pu être copiée ({detail}).").format(detail=exc),
                where=str(source),
                fix=_("Relancez la commande ; si l'erreur revient, vérifiez l'espace disque "
                      "et les droits du dossier de sauvegarde.")) from None
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())
    return target

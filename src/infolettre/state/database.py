"""Operational state in one SQLite file (WAL): ledger, unsubscribes, sign-offs, seen IDs.

Content stays in files (``content/``); only what the pipeline must remember between runs
lives here. Each component owns its tables and migrates them with ``migrate``: a list of
SQL scripts, applied in order once each, recorded per component in ``schema_versions``.

The database is private (addresses, who unsubscribed): it is created readable by its owner
only (0600; SQLite gives its ``-wal`` and ``-shm`` files the database's mode), in a data
folder created 0700. Reading commands (``status``, ``feeds``) open it read-only and never
create it: a missing database is reported (``MissingState``), not replaced by an empty one.
What must survive its loss lives beside it, in journals (``journal.py``), and copies are
made with ``infolettre sauvegarde`` (``backup.py``). The run lock is in ``runlock.py``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from ..errors import InfolettreError
from ..i18n import _

FILE_NAME = "infolettre.sqlite3"
#: SQLite's primary result codes for a damaged file (``sqlite_errorcode & 0xff``).
_CORRUPT, _NOTADB = 11, 26


class StateConnection(sqlite3.Connection):
    """A connection to the state database that knows whether it was opened read-only."""

    readonly = False


class MissingState(InfolettreError):
    """The state database does not exist (a reading command does not create it)."""


def state_file(data_dir: Path) -> Path:
    """Return the state database of a project (``[chemins] donnees``/infolettre.sqlite3)."""
    return data_dir / FILE_NAME


def connect(path: Path, *, readonly: bool = False) -> StateConnection:
    """Open the state database in WAL mode with full durability; create it if needed (0600).

    ``readonly=True`` opens it for reading only and never creates it: ``MissingState`` if
    the file is absent. A damaged file is reported as such (``corruption_error``).
    """
    path = Path(path)
    if readonly and not path.exists():
        raise MissingState(_("la base d'état n'existe pas (aucun envoi ni aucune lecture "
                             "enregistrés)."), where=str(path))
    try:
        if not readonly:
            _create_private(path)
        conn = _open(path, readonly)
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise corruption_error(path) from None
        raise _open_error(path, exc) from None
    except OSError as exc:
        raise _open_error(path, exc) from None
    conn.row_factory = sqlite3.Row
    return conn


def _open(path: Path, readonly: bool) -> StateConnection:
    """Open the file with SQLite and read its schema (a damaged file fails here)."""
    if readonly:
        conn = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True,
                               timeout=30, isolation_level=None, factory=StateConnection)
        conn.readonly = True
    else:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None,
                               factory=StateConnection)
    try:
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private(path: Path) -> None:
    """Create the data folder (0700) and an empty database file (0600) if they are absent.

    SQLite creates the ``-wal`` and ``-shm`` files with the database file's mode, so they
    are private too. A database left readable by others by an older version is tightened.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            _tighten(name)
    else:
        os.close(fd)


def _tighten(path: Path) -> None:
    """Make a file of ours readable by its owner only (nothing to do if it is already)."""
    try:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass  # absent, or not ours: SQLite will say so if it cannot use it


def is_corruption(exc: BaseException) -> bool:
    """Tell whether a SQLite error means the file is damaged (not a permission or space)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_CORRUPT, _NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text


def corruption_error(path: Path | None = None) -> InfolettreError:
    """Say that the state database is damaged, and how to put a copy back."""
    return InfolettreError(
        _("la base d'état est endommagée (fichier corrompu ou qui n'est pas une base "
          "SQLite) ; ce n'est pas une question de droits ni d'espace disque."),
        where=str(path) if path else FILE_NAME,
        fix=_("Arrêtez toute exécution d'infolettre, mettez ce fichier de côté (avec ses "
              "fichiers -wal et -shm), puis remettez en place la dernière copie faite par "
              "« infolettre sauvegarde » (section « Restaurer une sauvegarde » du README). "
              "Les désabonnements sont reconstruits à partir de leur journal, et un envoi "
              "commencé ne sera pas refait en double : infolettre refusera de l'envoyer tant "
              "que le registre des envois n'est pas restauré."))


def _open_error(path: Path, exc: BaseException) -> InfolettreError:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return InfolettreError(
        _("impossible d'ouvrir la base d'état ({detail}).").format(detail=detail),
        where=str(path),
        fix=_("Vérifiez que le dossier [chemins] donnees existe et est accessible en "
              "écriture, et que le disque n'est pas plein."))


def component_version(conn: sqlite3.Connection, component: str) -> int:
    """Return how many of the component's migrations the database has (0: none)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                    "name = 'schema_versions'").fetchone() is None:
        return 0
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?",
                       (component,)).fetchone()
    return row[0] if row else 0


def migrate(conn: sqlite3.Connection, component: str, steps: Sequence[str]) -> None:
    """Apply the component's SQL scripts not applied yet, each in its own transaction.

    On a read-only connection nothing can be applied: ``MissingState`` if the component's
    tables are absent or older than this program (a writing command will create them).
    """
    done = component_version(conn, component)
    if done >= len(steps):
        return
    if getattr(conn, "readonly", False):
        raise MissingState(_("la base d'état ne contient pas encore les tables « {name} » "
                             "(à jour).").format(name=component))
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions ("
                 "component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    for version, script in enumerate(steps[done:], start=done + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if component_version(conn, component) >= version:  # another process did it
                conn.execute("COMMIT")
                continue
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                         "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                         (component, version))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

"""Operational state in one SQLite file (WAL): ledger, unsubscribes, sign-offs, seen IDs.

Content stays in files (``content/``); only what the pipeline must remember between runs
lives here. Each component owns its tables and migrates them with ``migrate``: a list of
SQL scripts, applied in order once each, recorded per component in ``schema_versions``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from .errors import InfolettreError
from .i18n import _

FILE_NAME = "infolettre.sqlite3"


def state_file(data_dir: Path) -> Path:
    """Return the state database of a project (``[chemins] donnees``/infolettre.sqlite3)."""
    return data_dir / FILE_NAME


def connect(path: Path) -> sqlite3.Connection:
    """Open the state database in WAL mode with full durability; create it if needed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
    except (OSError, sqlite3.Error) as exc:
        raise InfolettreError(
            _("impossible d'ouvrir la base d'état ({detail}).").format(detail=exc),
            where=str(path),
            fix=_("Vérifiez que le dossier [chemins] donnees existe et est accessible en "
                  "écriture, et que le disque n'est pas plein.")) from None
    conn.row_factory = sqlite3.Row
    return conn


def migrate(conn: sqlite3.Connection, component: str, steps: Sequence[str]) -> None:
    """Apply the component's SQL scripts not applied yet, each in its own transaction."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions ("
                 "component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?",
                       (component,)).fetchone()
    done = row[0] if row else 0
    for version, script in enumerate(steps[done:], start=done + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                         "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                         (component, version))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

"""Append-only journals: what must outlive the state database, one JSON object per line.

The state database is an index; a journal is the record. Who unsubscribed (and, later,
which addresses are suspended) must never be forgotten, even if ``infolettre.sqlite3`` is
deleted or damaged: each such fact is appended to a journal in the data folder *before* the
database is told, and the database is rebuilt from the journals when it is missing.

Format (JSON Lines, UTF-8): one object per line, with a ``genre`` naming the kind of entry
(``desabonnement`` today; a journal may hold several kinds) and the entry's own fields::

    {"genre":"desabonnement","courriel":"marie@example.net",
     "quand":"2026-11-24T14:05:00+00:00","source":"lien"}        (on one line)

Writing: the file is created readable by its owner only (0600; its folder's entry is made
durable too); each ``append`` takes an exclusive ``flock`` on it (appends from several
processes never interleave), writes one whole line and fsyncs before returning. A line cut
short by a power failure can only be the last one; it was never acknowledged, so the next
``append`` removes it and readers skip it. Any other unreadable line is an error naming the
file and the line: a journal is never half-read in silence.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import InfolettreError
from ..fsutil import fsync_dir
from ..i18n import _

SUFFIX = ".jsonl"


class Journal:
    """One append-only JSON Lines file (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, genre: str, **fields: Any) -> None:
        """Write one entry durably (flock, one line, fsync) before returning."""
        line = json.dumps({"genre": genre, **fields}, ensure_ascii=False,
                          separators=(",", ":")) + "\n"
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _private(fd)
            _drop_torn_tail(fd)
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the flock
        if created:
            fsync_dir(self.path.parent)

    def entries(self, genre: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield the entries in the order written (only those of ``genre`` if given)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise InfolettreError(
                _("impossible de lire le journal ({detail}).").format(
                    detail=exc.strerror or exc),
                where=str(self.path),
                fix=_("Vérifiez que le fichier est lisible par l'utilisateur qui lance "
                      "infolettre.")) from None
        lines = data.split(b"\n")
        complete = lines[:-1]  # the part after the last newline is unfinished (or empty)
        for number, raw in enumerate(complete, start=1):
            if not raw.strip():
                continue
            entry = self._parse(raw, number)
            if genre is None or entry["genre"] == genre:
                yield entry

    def exists(self) -> bool:
        """Tell whether the journal file is there (an empty journal is not an absent one)."""
        return self.path.exists()

    def _parse(self, raw: bytes, number: int) -> dict[str, Any]:
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("genre"), str):
            raise InfolettreError(
                _("ligne illisible dans le journal (un objet JSON avec « genre » est "
                  "attendu)."), where=f"{self.path}:{number}",
                fix=_("Remettez ce journal depuis la dernière copie de « infolettre "
                      "sauvegarde » (section « Restaurer une sauvegarde » du README), ou "
                      "corrigez cette ligne ; n'effacez pas le fichier : il fait foi."))
        return entry


def _private(fd: int) -> None:
    """Keep the journal readable by its owner only (it names people)."""
    if os.fstat(fd).st_mode & 0o077:
        os.fchmod(fd, 0o600)


def _drop_torn_tail(fd: int) -> None:
    """Cut an unfinished last line (a write interrupted by a crash, never acknowledged)."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    start = max(0, size - 65536)
    tail = os.pread(fd, size - start, start)
    cut = tail.rfind(b"\n")
    if cut < 0 and start > 0:  # a very long unfinished line: look further back
        data = os.pread(fd, size, 0)
        cut, start = data.rfind(b"\n"), 0
    os.ftruncate(fd, start + cut + 1 if cut >= 0 else 0)
    os.fsync(fd)

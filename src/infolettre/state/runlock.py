"""One run at a time per data folder: send, gather mail, gather feeds and approve take a lock.

Two sends of the same issue at once would race for the same recipients; two gathers would
write the same items. The lock is an exclusive ``flock`` on ``<donnees>/verrou``, taken
without waiting: a second run is refused at once with a French message naming the one that
holds it (its command, process number and start time), read from the file, where the holder
writes them as JSON.

A process that dies, even by SIGKILL, loses its ``flock`` with it (the kernel releases it),
so a lock is never stuck; its file still holds the dead run's description, since only a
normal end empties it. The next run takes the lock over and says so on standard error (the
previous run was interrupted: see ``infolettre status`` for a send). The file is never
deleted: unlinking a flock file lets two processes each lock a different file of the same
name.

The lock is taken by the pipeline functions themselves (``lock_data_dir``, or the decorator
``holds_lock``), not only by the command line, so the scheduler and the review app are held
to it too. It is re-entrant within one thread (a locked function may call another); another
thread of the same process is refused like another process.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, TypeVar

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..i18n import _
from ..dates import long_date
from ..dates import time_of_day as clock_time

LOCK_FILE = "verrou"
#: The scheduler's own lock: one scheduler per data folder, beside the runs it starts
#: (which take ``LOCK_FILE`` like any other run, so the app and the command still work).
SCHEDULER_LOCK_FILE = "verrou-calendrier"
F = TypeVar("F", bound=Callable[..., Any])
_held = threading.local()  # per thread: {lock path: depth}


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock: process number, command, start time (UTC)."""

    pid: int
    command: str
    started: datetime | None

    def describe(self, tz: tzinfo) -> str:
        """Say « « send 2026-12 » (processus 4242), commencée le mardi … à 9 h 15 »."""
        text = _("« {command} » (processus {pid})").format(command=self.command, pid=self.pid)
        if self.started is not None:
            local = self.started.astimezone(tz)
            text += _(", commencée le {day} à {time}").format(day=long_date(local),
                                                             time=clock_time(local))
        return text


class RunLocked(InfolettreError):
    """Another run holds the lock of this data folder."""

    def __init__(self, message: str, *, where: str, fix: str, holder: Holder | None):
        super().__init__(message, where=where, fix=fix)
        self.holder = holder


def lock_path(data_dir: Path, name: str = LOCK_FILE) -> Path:
    """Return the lock file of a data folder (``name``: the scheduler's, ``SCHEDULER_LOCK_FILE``)."""
    return Path(data_dir) / name


@contextmanager
def lock_data_dir(data_dir: Path, command: str, *, tz: tzinfo, clock: Clock = SYSTEM_CLOCK,
                  warn: Callable[[str], None] | None = None,
                  name: str = LOCK_FILE) -> Iterator[Holder | None]:
    """Hold the data folder's lock while the block runs; ``RunLocked`` if another run has it.

    Yields the description of an earlier run that died holding it (taken over, and said
    through ``warn``, standard error by default), else None.
    """
    path = lock_path(data_dir, name)
    depths = _depths()
    if depths.get(path, 0):
        depths[path] += 1
        try:
            yield None
        finally:
            depths[path] -= 1
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refusal(path, _read(fd), tz) from None
        previous = _read(fd)
        if previous is not None:
            (warn or _stderr)(_taken_over(previous, tz))
        _write(fd, Holder(os.getpid(), command, clock.now()))
        depths[path] = 1
        try:
            yield previous
        finally:
            depths.pop(path, None)
            os.ftruncate(fd, 0)  # a normal end: nothing left to take over
    finally:
        os.close(fd)  # releases the flock


def holds_lock(command: str) -> Callable[[F], F]:
    """Make a pipeline function ``f(settings, ..., clock=...)`` run under the data folder's lock.

    For the functions whose command does not depend on their arguments (the gathers).
    """
    def decorate(function: F) -> F:
        @functools.wraps(function)
        def locked(settings: Any, *args: Any, **kwargs: Any) -> Any:
            with lock_data_dir(settings.paths.donnees, command, tz=settings.identity.timezone,
                               clock=kwargs.get("clock") or SYSTEM_CLOCK):
                return function(settings, *args, **kwargs)
        return locked  # type: ignore[return-value]
    return decorate


def current_holder(data_dir: Path, name: str = LOCK_FILE) -> Holder | None:
    """Return who holds the lock now, or None (free, or left by a dead run)."""
    path = lock_path(data_dir, name)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _depths() -> dict[Path, int]:
    if not hasattr(_held, "depths"):
        _held.depths = {}
    return _held.depths


def _read(fd: int) -> Holder | None:
    """Read the holder's description from the lock file (None if empty or unreadable)."""
    data = os.pread(fd, 4096, 0)
    if not data.strip():
        return None
    try:
        record = json.loads(data.decode("utf-8"))
        started = record.get("debut")
        return Holder(int(record["pid"]), str(record["commande"]),
                      datetime.fromisoformat(started) if started else None)
    except (ValueError, KeyError, TypeError, AttributeError):
        return Holder(0, _("inconnue"), None)


def _write(fd: int, holder: Holder) -> None:
    record = {"pid": holder.pid, "commande": holder.command,
              "debut": holder.started.isoformat(timespec="seconds") if holder.started else None}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"), 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def _refusal(path: Path, holder: Holder | None, tz: tzinfo) -> RunLocked:
    """Say which run holds the lock, and what to do (wait; or stop it if it is stuck)."""
    if holder is None:  # between its flock and its write: a run that is just starting
        return RunLocked(
            _("une autre exécution d'infolettre vient de commencer sur ce dossier de données ; "
              "rien n'a été fait."), where=str(path),
            fix=_("Attendez qu'elle se termine, puis relancez la commande."), holder=None)
    message = _("une autre exécution d'infolettre est en cours sur ce dossier de données : "
                "{holder} ; rien n'a été fait.").format(holder=holder.describe(tz))
    if holder.pid and not _alive(holder.pid):
        message += " " + _("Le processus {pid} n'existe plus, mais un processus qu'il a lancé "
                           "tient encore le verrou.").format(pid=holder.pid)
    return RunLocked(
        message, where=str(path), holder=holder,
        fix=_("Attendez qu'elle se termine, puis relancez la commande. Si elle semble bloquée, "
              "arrêtez-la (kill {pid}) : le verrou est libéré dès qu'elle s'arrête, et un "
              "envoi interrompu reprend où il s'était arrêté, sans doublon.").format(
            pid=holder.pid or "…"))


def _taken_over(previous: Holder, tz: tzinfo) -> str:
    return _("Note : l'exécution précédente, {holder}, s'est arrêtée sans se terminer "
             "(processus interrompu) ; son verrou est repris. Après un envoi interrompu, "
             "« infolettre status » dit où il en est.").format(holder=previous.describe(tz))


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)

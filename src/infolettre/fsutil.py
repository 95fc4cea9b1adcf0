"""Durable writes: temp file in the same folder, fsync, rename — never a half-written file.

A crash or a full disk leaves either the old file or the new one, never a truncated mix
(what Mailman's queue and rss2email do for the same reason). ``no_clobber`` puts the file in
place only if nothing is there yet: a delivered message is never overwritten.

Inside ``deferred_sync()`` (the mail intake's batches) the fsyncs are not done at once: each
file is written under its temporary name, and ``Pending.sync()`` makes them all durable
(one ``syncfs`` per disk on Linux — one flush instead of thousands —, else one fsync each),
then puts them in place and makes that durable too. A crash before leaves temporary files,
never a half-written one under its real name. The caller must not rely on them (record them
as done, delete what they replace) before that; ``sync_pending()`` does it early, for a step
that cannot wait.
"""

from __future__ import annotations

import ctypes
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO


def write_durably(path: Path, write: Callable[[BinaryIO], object], *, mode: int = 0o644,
                  no_clobber: bool = False, sync_dir: bool = True) -> bool:
    """Write ``path`` through ``write(handle)``; return False if no_clobber found a file.

    ``sync_dir=False`` lets a caller writing many files fsync their folder once at the end.
    Inside ``deferred_sync`` the file is written under its temporary name only and put in
    place by ``Pending.sync`` (the name is reserved meanwhile).
    """
    pending = _PENDING.get()
    if pending is not None and no_clobber and pending.taken(path):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if pending is None:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if pending is not None:
            pending.place(tmp, path, no_clobber)
            tmp = ""  # now the batch's, put in place (or removed) by ``Pending.sync``
            return True
        placed = _link_no_clobber(tmp, path) if no_clobber else (os.replace(tmp, path) or True)
    finally:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
    if sync_dir:
        fsync_dir(path.parent)
    return placed


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically and durably."""
    write_durably(path, lambda handle: handle.write(data), mode=mode)


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically and durably."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _link_no_clobber(temp: str, target: Path) -> bool:
    """Put ``temp`` at ``target`` only if nothing is there yet."""
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError:
        # Filesystems without hard links: check, then rename (a narrow race, documented).
        if target.exists():
            return False
        os.replace(temp, target)
    return True


def fsync_dir(folder: Path) -> None:
    """Make renames and links in ``folder`` durable (a no-op where unsupported)."""
    pending = _PENDING.get()
    if pending is not None:
        pending.add(Path(folder))
        return
    _fsync_path(folder)


def _fsync_path(folder: Path | str) -> None:
    """Fsync one file or folder now (gone or unsupported: nothing to do)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Pending:
    """Files written under temporary names in a ``deferred_sync`` block, and folders to sync.

    ``sync`` makes the files' bytes durable (``syncfs`` once per disk, else one fsync each),
    only then gives them their names, and makes the names durable: a crash before leaves
    hidden ``.<name>.*.tmp`` files, never a visible file half written. Files are grouped
    by ``unit`` (``begin``: one message): a unit whose name was taken meanwhile by another
    process (no_clobber) has its later files dropped and is listed in ``failed``.
    """

    def __init__(self) -> None:
        self.paths: set[Path] = set()
        self.waiting: list[tuple[str, Path, bool, object]] = []
        self.reserved: dict[Path, set[str]] = {}  # folder → names waiting to be placed
        self.unit: object = None
        self.failed: set[object] = set()
        #: Called with ``failed`` once the files are in place (the runner: record them).
        self.then: Callable[[set[object]], object] | None = None

    def begin(self, unit: object) -> None:
        """Group the files written from now on under ``unit`` (one message)."""
        self.unit = unit

    def add(self, path: Path) -> None:
        self.paths.add(path)

    def taken(self, path: Path) -> bool:
        """Tell whether ``path`` exists or is reserved by a file waiting in this batch."""
        return path.name in self.reserved.get(path.parent, ()) or os.path.lexists(path)

    def place(self, tmp: str, path: Path, no_clobber: bool) -> None:
        self.waiting.append((tmp, path, no_clobber, self.unit))
        self.reserved.setdefault(path.parent, set()).add(path.name)
        self.paths.add(Path(tmp))

    def names(self, folder: Path) -> set[str]:
        """Return the names reserved in ``folder`` (not on disk yet)."""
        return self.reserved.get(folder, set())

    def sync(self) -> None:
        """Make every file written so far durable, then put it in place, durably.

        Raises ``OSError`` when the disk reports a write error (nothing may then be recorded
        as done).
        """
        self._sync_paths()
        waiting, self.waiting = self.waiting, []
        self.reserved.clear()
        for tmp, path, no_clobber, unit in waiting:
            if unit in self.failed and unit is not None:
                os.unlink(tmp)
                continue
            if no_clobber and not _link_no_clobber(tmp, path):
                self.failed.add(unit)  # taken meanwhile: this message is done again later
            elif not no_clobber:
                os.replace(tmp, path)
            if os.path.exists(tmp):
                os.unlink(tmp)
            self.paths.add(path.parent)
        self._sync_paths()
        if self.then is not None:
            self.then(self.failed)

    def _sync_paths(self) -> None:
        paths, self.paths = self.paths, set()
        by_disk: dict[int, list[Path]] = {}
        for path in paths:
            try:
                by_disk.setdefault(os.stat(path).st_dev, []).append(path)
            except FileNotFoundError:
                continue  # removed since: nothing to keep
        for group in by_disk.values():
            if not _syncfs(group[0]):
                for path in group:
                    _fsync_path(path)


_PENDING: ContextVar[Pending | None] = ContextVar("infolettre_fsutil_pending", default=None)


@contextmanager
def deferred_sync() -> Iterator[Pending]:
    """Within the block, durable writes skip their fsyncs; the caller calls ``sync()``.

    Nested blocks share the outer one's ``Pending``. Leaving the block does not sync: what
    was written stays not-yet-durable until ``sync`` (the caller decides when).
    """
    outer = _PENDING.get()
    if outer is not None:
        yield outer
        return
    pending = Pending()
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def sync_pending() -> None:
    """Make what the current ``deferred_sync`` block wrote durable now (outside one: nothing)."""
    pending = _PENDING.get()
    if pending is not None:
        pending.sync()


def deferring() -> bool:
    """Tell whether a ``deferred_sync`` block is in force (a mail batch)."""
    return _PENDING.get() is not None


def reserved_names(folder: Path) -> set[str]:
    """Return the names waiting to be put in ``folder`` by the current ``deferred_sync``."""
    pending = _PENDING.get()
    return pending.names(folder) if pending is not None else set()


def _load_syncfs() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux: fsync each path instead
        return None


_SYNCFS = _load_syncfs()


def _syncfs(path: Path) -> bool:
    """Flush the whole disk holding ``path`` (Linux ``syncfs``); False when unavailable."""
    if _SYNCFS is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            error = ctypes.get_errno()
            if error in (errno.ENOSYS, errno.EINVAL):  # not offered here: fsync each path
                return False
            raise OSError(error, os.strerror(error), str(path))
    finally:
        os.close(fd)
    return True


#: A hidden temporary file older than this was left by a write that never finished.
STALE_SECONDS = 3600


def remove_stale_temporaries(roots: list[Path], *, depth: int = 2) -> int:
    """Delete the hidden ``.<name>.*.tmp`` files a killed write left under ``roots``.

    ``write_durably`` (and a killed intake batch, ``Pending``) leaves such files behind:
    never visible, never read, but never removed either. Only files older than
    ``STALE_SECONDS`` go, so a write in progress elsewhere keeps its file; ``depth`` folders
    down (a month's folder and its ``images/``). Ages are measured against a file written
    now in the same root, by the same file system's clock: not the injectable clock, which
    the file system knows nothing of. Return how many were removed.
    """
    removed = 0
    for root in roots:
        now = _file_system_now(Path(root))
        if now is None:
            continue
        folders = [(Path(root), 0)]
        while folders:
            folder, level = folders.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if level < depth:
                        folders.append((Path(entry.path), level + 1))
                elif _stale(entry, now):
                    try:
                        os.unlink(entry.path)
                        removed += 1
                    except OSError:
                        continue
    return removed


def _file_system_now(root: Path) -> float | None:
    """The modification time a file written now in ``root`` gets (None: no such folder)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".", suffix=".probe", dir=root)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_mtime
    finally:
        os.close(fd)
        os.unlink(probe)


def _stale(entry: os.DirEntry, now: float) -> bool:
    if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
        return False
    try:
        return (entry.is_file(follow_symlinks=False)
                and now - entry.stat(follow_symlinks=False).st_mtime >= STALE_SECONDS)
    except OSError:
        return False

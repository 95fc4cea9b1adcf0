"""Durable writes: temp file in the same folder, fsync, rename — never a half-written file.

A crash or a full disk leaves either the old file or the new one, never a truncated mix
(what Mailman's queue and rss2email do for the same reason). ``no_clobber`` puts the file in
place only if nothing is there yet: a delivered message is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_durably(path: Path, write: Callable[[BinaryIO], object], *, mode: int = 0o644,
                  no_clobber: bool = False, sync_dir: bool = True) -> bool:
    """Write ``path`` through ``write(handle)``; return False if no_clobber found a file.

    ``sync_dir=False`` lets a caller writing many files fsync their folder once at the end.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        placed = _link_no_clobber(tmp, path) if no_clobber else (os.replace(tmp, path) or True)
    finally:
        if os.path.exists(tmp):
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

"""The documents an item links to: files beside it (an emailed PDF), named in its body.

The store writes « Pièce jointe : [nom](nom) » under an item for each document that came
with it (``write.py``); the published archive copies those files so the link works online.
Only a plain file name counts (no folder, no « .. », no scheme), and only a real file of
``content/`` beside the item: a name in a body must never make the bulletin publish a file
of the machine (``/etc/passwd``, a symbolic link to a private folder).
"""

from __future__ import annotations

import os
import re
import stat
from urllib.parse import unquote

from ..models import Item
from ..settings import Settings
from .paths import inside_content

#: The target of an inline Markdown link: ``[texte](cible)`` or ``[texte](<cible>)``.
LINK = re.compile(r"\]\(\s*(?:<([^<>\n]+)>|([^)\s]+))")


def plain_name(target: str) -> str | None:
    """Return the file name a relative link names, or None if it is anything else.

    « rapport%20final.pdf » → « rapport final.pdf »; « ../x », « a/b », « /etc/passwd »,
    « javascript:… », « https://… », « #ancre », « .cache » → None.
    """
    if not target or target[0] in "#?.":
        return None
    name = unquote(target)
    if (not name or name.startswith(".") or any(c in name for c in "/\\:?#")
            or any(ord(c) < 32 for c in name)):
        return None
    return name


def is_document(name: str, item: Item) -> bool:
    """Tell whether a plain name may be a document of ``item``: not an item (« .md »), not
    its image (published with the images)."""
    return name != item.image and not name.casefold().endswith(".md")


def linked_documents(item: Item, settings: Settings) -> list[str]:
    """Return the names of the files beside ``item`` that its body links, in order, once.

    A name is kept only when it is a regular file (not a link) of ``content/`` beside the
    item's file, and not an item itself (« .md ») nor its image (published as an image).
    """
    if item.path is None:
        return []
    folder, found = item.path.parent, []
    for bracketed, bare in LINK.findall(item.corps or ""):
        name = plain_name(bracketed or bare)
        if name is None or name in found or not is_document(name, item):
            continue
        path = folder / name
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
        except OSError:
            continue
        if inside_content(path, settings):
            found.append(name)
    return found


def read_beside(item: Item, name: str, settings: Settings) -> bytes:
    """Read the file ``name`` beside ``item`` (its image, a document) for publication.

    ``PermissionError`` when it is a symbolic link or leads out of ``content/`` (even one
    put in place after the item was read: ``O_NOFOLLOW``), ``FileNotFoundError`` when it
    is absent, ``IsADirectoryError`` when it is not a regular file.
    """
    if item.path is None or "/" in name or "\\" in name or name in ("", ".", ".."):
        raise PermissionError(name)
    path = item.path.parent / name
    if not inside_content(path, settings):
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(str(path))
        raise PermissionError(str(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError(str(path))
        return handle.read()

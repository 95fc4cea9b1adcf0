"""Names of the files in ``content/``: an item's slug and its attachments' names, made safe.

Every source proposes names (an email's attachment, a feed's image, a title turned slug);
the names that reach the disk are decided here, by rules that hold whatever was proposed:
no path, no hidden file, no control character, a usable extension.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
import unicodedata

MAX_NAME = 80
#: Image types kept beside items, with the extension a file of that type is given.
IMAGE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
               "image/webp": ".webp"}


def safe_filename(name: str, ctype: str, index: int) -> str:
    """Make an attachment name safe to write: no path, no control or hidden-file tricks."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = re.sub(r"[<>:\"|?*/]", "", name)
    name = re.sub(r"\s+", "-", name.strip()).lstrip(".-").rstrip(". ")
    stem, ext = posixpath.splitext(name)
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", ext.lower()):  # no usable extension: from the type
        stem = name
        ext = IMAGE_TYPES.get(ctype) or (mimetypes.guess_extension(ctype) or "").lower()
        ext = "" if ext == ".bin" else ext
    stem = stem.strip(".-")[: MAX_NAME - len(ext)] or f"piece-jointe-{index}"
    return stem + ext.lower()


def safe_slug(slug: str) -> str:
    """Keep a slug to lowercase letters, digits and dashes (never a path)."""
    return re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")[:80] or "courriel"

"""The size an image is shown at in the email, read from its file: width and height on <img>.

A client that blocks images (Outlook, Gmail on some accounts) lays the message out without
them: with no height, a photo is a line, then the text jumps when it loads, or the alt text
floats in a collapsed box. With ``width`` and ``height`` the place is kept. The pixel size is
read with Pillow from the file beside the item (headers only, cached by path, size and
modification time: an item shows in several editions), turned upright as browsers show it
(EXIF orientation), then scaled to the displayed width.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..models import Item

#: The width of an item's photo in the email: the 600 px column less its 24 px margins.
EMAIL_WIDTH = 552
#: EXIF orientations that turn the picture a quarter: width and height swap on screen.
_QUARTER_TURNS = {5, 6, 7, 8}


def pixel_size(path: Path) -> tuple[int, int] | None:
    """Return the (width, height) an image file is shown at, None if it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _read_size(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=512)
def _read_size(path: str, _size: int, _mtime: int) -> tuple[int, int] | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
            turned = image.getexif().get(0x0112) in _QUARTER_TURNS
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None
    if width <= 0 or height <= 0:
        return None
    return (height, width) if turned else (width, height)


def fit(size: tuple[int, int], width: int, height: int | None = None) -> tuple[int, int]:
    """Scale ``size`` to ``width`` (and within ``height``), keeping its proportions."""
    w, h = size
    scale = width / w if height is None else min(width / w, height / h, 1.0)
    return max(1, round(w * scale)), max(1, round(h * scale))


def email_size(item: Item) -> tuple[int, int] | None:
    """Return the width and height of ``item``'s photo in the email, None if unknown."""
    if not item.image or item.path is None:
        return None
    size = pixel_size(item.path.parent / item.image)
    return fit(size, EMAIL_WIDTH) if size else None

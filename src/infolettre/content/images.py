"""Images kept beside items: upright, at most 1200 px wide, without their metadata.

A phone photo is often 4,000 px wide, turned by an EXIF flag and carrying the GPS position of
where it was taken: the bulletin needs none of that, and a reader should never receive it.
Done once, when the store writes the file, so every output (email, print, archive) shares it.
"""

from __future__ import annotations

import io
import re
from typing import Any

IMAGE_MAX_WIDTH = 1200  # px: wide enough for the email and the printed page
_IMAGE_SAVE: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "progressive": True, "optimize": True},
    "PNG": {"optimize": True},
    "GIF": {},
    "WEBP": {"quality": 85},
}
_IMAGE_METADATA = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")


def fit_image(data: bytes) -> tuple[bytes, str | None]:
    """Ready an emailed image for the bulletin: upright, at most ``IMAGE_MAX_WIDTH`` wide,
    without its metadata (EXIF, GPS position), in its own format.

    EXIF orientation is applied first, then an image wider than the limit is scaled down
    (Lanczos). A JPEG is saved at quality 85, progressive; a PNG optimized; an animated
    image is left as it came. An image already upright, narrow enough and carrying no
    metadata keeps its bytes. Returns the bytes to write and, for an image Pillow cannot
    read, a note (``{name}`` to fill in) — the file is then kept unchanged, as a document.
    """
    from PIL import Image, ImageOps

    if data[:2] == b"\xff\xd8" and _JPEG_FRAME.search(data) is None:
        return data, _UNREADABLE  # what Pillow would say, after reading it byte by byte
    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format
            if getattr(opened, "is_animated", False):
                return data, None  # an animated GIF (or WebP, PNG): left as it came
            opened.load()
            exif = opened.getexif()
            metadata = bool(exif) or any(k in opened.info for k in _IMAGE_METADATA)
            image = ImageOps.exif_transpose(opened) or opened
            if fmt not in _IMAGE_SAVE or (image.width <= IMAGE_MAX_WIDTH and not metadata):
                return data, None
            if image.width > IMAGE_MAX_WIDTH:
                if image.mode in ("P", "1"):  # palette: resample in full colour
                    image = image.convert("RGBA" if "transparency" in image.info else "RGB")
                height = max(1, round(image.height * IMAGE_MAX_WIDTH / image.width))
                image = image.resize((IMAGE_MAX_WIDTH, height), Image.Resampling.LANCZOS)
            options = dict(_IMAGE_SAVE[fmt])
            if opened.info.get("icc_profile"):  # colours, not metadata: kept
                options["icc_profile"] = opened.info["icc_profile"]
            if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format=fmt, **options)
            return out.getvalue(), None
    except Exception:  # noqa: BLE001 - a broken image is kept as is, for a person to see
        return data, _UNREADABLE


_UNREADABLE = ("image « {name} » illisible (fichier abîmé ou format inconnu) : gardée telle "
               "quelle, sans redimensionnement. Vérifiez-la, ou demandez une autre copie à "
               "l'expéditeur.")
#: A JPEG's frame header (SOF0–SOF15 but DHT, JPG, DAC): without one, no size, no image.
#: Pillow looks for it one byte at a time through damaged data (2 ms for 20 KB): a file
#: without these two bytes anywhere is unreadable at once.
_JPEG_FRAME = re.compile(rb"\xff[\xc0-\xc3\xc5-\xc7\xc9-\xcb\xcd-\xcf]")

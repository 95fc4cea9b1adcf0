"""QR codes for paper: a phone opens an item's link without anyone typing the address.

The print edition writes every link out (« En savoir plus : https://… ») and, beside it, its
QR code. The code is a black-and-white PNG inlined as a ``data:image/png;base64`` URI: no
file beside ``print.html``, and the one kind of ``data:`` image the outputs allow (an SVG
could carry a script: tests/safety.py refuses every SVG URI, ours included). Each module is
``SCALE`` pixels: a 2 cm code of up to 57 modules prints at 300 dpi or better, sharp enough
for a phone, at about a kilobyte per code. Error correction « M » (15 %), raised by segno when the symbol
has room, so a smudge or a fold does not stop a reader; a quiet zone of 4 modules, as the
standard asks, so the code reads even when printed against other text.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup

#: Modules of white around the symbol (ISO/IEC 18004 asks for 4).
QUIET_ZONE = 4
#: Pixels per module of the PNG.
SCALE = 8


def qr_code(data: str) -> segno.QRCode:
    """Return the QR code of ``data`` (never a Micro QR: many phone readers skip them)."""
    return segno.make(data, error="m", boost_error=True, micro=False)


@lru_cache(maxsize=512)
def qr_data_uri(data: str) -> str:
    """Return the QR code of ``data`` as a PNG ``data:`` URI, sized by CSS (2 cm).

    Black on white whatever the page's colours: low-contrast codes fail on cheap phones.
    Base64 holds no character HTML would escape: Markup keeps the attribute as is.
    """
    return Markup(qr_code(data).png_data_uri(scale=SCALE, border=QUIET_ZONE, dark="#000",
                                             light="#fff"))

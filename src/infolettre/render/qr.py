"""QR codes for paper: a phone opens an item's link without anyone typing the address.

The print edition writes every link out (« En savoir plus : https://… ») and, beside it, its
QR code. The code is an SVG (vector: sharp at any printer resolution, a few hundred bytes in
the PDF) inlined as a ``data:`` URI, which ``render.print.write_pdf`` allows and which needs
no file beside ``print.html``. Error correction « M » (15 %), raised by segno when the symbol
has room, so a smudge or a fold does not stop a reader; a quiet zone of 4 modules, as the
standard asks, so the code reads even when printed against other text.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup

#: Modules of white around the symbol (ISO/IEC 18004 asks for 4).
QUIET_ZONE = 4


def qr_code(data: str) -> segno.QRCode:
    """Return the QR code of ``data`` (never a Micro QR: many phone readers skip them)."""
    return segno.make(data, error="m", boost_error=True, micro=False)


@lru_cache(maxsize=512)
def qr_data_uri(data: str) -> str:
    """Return the QR code of ``data`` as an SVG ``data:`` URI, sized by CSS (no width/height).

    Black on white whatever the page's colours: low-contrast codes fail on cheap phones.
    """
    uri = qr_code(data).svg_data_uri(border=QUIET_ZONE, omitsize=True, dark="#000",
                                     light="#fff", encode_minimal=True)
    # Minimal encoding leaves spaces and single quotes, which a double-quoted attribute
    # holds as is (segno percent-encodes « < », « > », « " », « & », « # »; the tests read
    # the attribute back whole). Markup spares each quote five bytes of HTML escaping.
    return Markup(uri)

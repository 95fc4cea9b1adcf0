"""Reading WeasyPrint's page layout back, to correct what CSS alone cannot decide.

Agenda and funding notices are kept whole on a page (``break-inside: avoid``): a notice that
does not fit moves to the next page and leaves the rest of this one empty. For a notice of a
few lines that space is small; for a notice taller than a third of a page it is not, and
nothing in CSS can say « avoid breaking, unless the block is tall ». So ``write_pdf`` lays the
edition out once, measures every notice here, and marks the tall ones ``long``: those may
continue on the next page between two paragraphs, their date, title and first lines kept
together (print.css). Short notices, nearly all of them, stay whole.

The layout is read through WeasyPrint's boxes (``page._page_box``): sizes are in CSS pixels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: A notice taller than this part of the page's text area may continue on the next page.
TALL = 1 / 3
LONG_CLASS = "long"


def boxes(box) -> Iterator:
    """Yield ``box`` and every box inside it, depth first."""
    yield box
    for child in getattr(box, "children", ()):
        yield from boxes(child)


def classes(box) -> list[str]:
    """The HTML classes of the element a box was made for (none for anonymous boxes)."""
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", None) is None:
        return []
    return (element.get("class") or "").split()


def tall_notices(document) -> list[str]:
    """Return the ids of the notices taller than ``TALL`` of a page's text area."""
    heights: dict[str, float] = {}
    limit = None
    for page in document.pages:
        page_box = page._page_box
        limit = limit or page_box.height * TALL
        for box in boxes(page_box):
            if getattr(box, "element_tag", None) == "article" and "notice" in classes(box):
                ident = box.element.get("id")
                heights[ident] = heights.get(ident, 0) + box.margin_height()
    return [ident for ident, height in heights.items() if limit and height > limit]


def mark_long(html: str, idents: list[str]) -> str:
    """Add the ``long`` class to the notices whose id is in ``idents``."""
    for ident in idents:
        html = re.sub(rf'(<article class="[^"]*\bnotice\b[^"]*)(" id="{re.escape(ident)}")',
                      rf"\1 {LONG_CLASS}\2", html, count=1)
    return html

"""Links to an item's documents, pointed at where they are published.

An item's body links its attached documents by file name, relative to the item's file
(« Pièce jointe : [rapport.pdf](rapport.pdf) »). Beside the Markdown file that works; in a
message or a web page it must point at the published copy (``permalinks.document``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from urllib.parse import quote

from ..content.documents import LINK, is_document, plain_name
from ..models import Item

_HREF = re.compile(r'href="([^"]*)"')


def rewrite_document_links(body_html: str, item: Item, base: str, *,
                           published: Collection[str] | None = None) -> str:
    """Point the relative links of ``body_html`` (sanitized HTML of ``item``'s body) at
    ``base`` + name, e.g. ``absolute(site, permalinks.document(item.month, ""))``.

    Only a plain file name is rewritten (« ../x », « /etc/passwd », a scheme, an anchor are
    left as they are: the sanitizer already dropped dangerous schemes; so are an item file
    and the item's image, never documents). With ``published``
    (the names actually published for the item's month), a name not in it loses its link
    (the text stays) rather than lead nowhere.
    """
    def point(match: re.Match) -> str:
        name = plain_name(html.unescape(match.group(1)))
        if name is None or not is_document(name, item):
            return match.group(0)
        if published is not None and name not in published:
            return ""
        return f'href="{html.escape(base + quote(name), quote=True)}"'

    return _HREF.sub(point, body_html)


def rewrite_document_markdown(source: str, item: Item, base: str) -> str:
    """The same for the Markdown source (the text part, which writes links out): the
    target of ``[texte](nom)`` or ``[texte](<nom>)`` naming a document becomes base + name.
    """
    def point(match: re.Match) -> str:
        target = match.group(1) or match.group(2)
        name = plain_name(target)
        if name is None or not is_document(name, item):
            return match.group(0)
        return f"]({base}{quote(name)}"

    return LINK.sub(point, source)

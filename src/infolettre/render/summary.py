"""What of an item's text an edition shows, and where the rest is: the one rule of cuts.

The email and its text part agree on it (both call ``summary``):

- news (« complet » sections): whole, unless the web archive is configured (``[infolettre]
  site``) and the text is over ``NEWS_WORDS`` words by a third (120): then its opening of
  about ``NEWS_WORDS`` words, and « Lire la suite » on its page of the site. About 90
  words is what a phone shows on one screen (16 px type at 375 px wide: ~6 words a line,
  15 lines) and enough to say what, who and when; what goes beyond is for those who want
  it, one tap away. It also keeps the heaviest editions (the complete one: every
  territory's news) well under Gmail's 102 KB clip: a long item costs its opening, not its
  whole text;
- agenda and calls for projects: the opening ``SHORT_WORDS`` words when the rest can be read
  somewhere: the item's page of the site, else its own ``lien`` (as before the site);
- else the whole text (with no link, nothing may be left out).

With the site, a link of the text to a document that came with the item
(« [rapport](rapport.pdf) », relative to the item's file) is pointed at its published copy
(``render.documents``): in a message, a relative link leads nowhere.

A cut never stops mid-phrase (``excerpt``); the templates write the link right after it. A
text only a little over its budget (by less than a third) is shown whole: sending the reader
to the site for one last sentence would cost more than it saves.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import permalinks
from ..models import Item, SectionKind
from .documents import rewrite_document_markdown
from .markdown import safe_link
from .text import excerpt_markdown, markdown_to_text

#: News bodies longer than this are cut in the emails when the site has the rest.
NEWS_WORDS = 90
#: Agenda and funding items show at most this many words when they link to more.
SHORT_WORDS = 45


@dataclass(frozen=True)
class Summary:
    """The Markdown an edition shows of an item, and the address of the rest when cut."""

    body: str
    more: str | None = None  # the rest: the item's page, or its ``lien`` (None: not cut)

    @property
    def cut(self) -> bool:
        return self.more is not None


def item_url(item: Item, site: str | None) -> str | None:
    """The item's page on the site (absolute: for messages), None without a site."""
    return permalinks.absolute(site, permalinks.item_page(item.month, item.slug)) \
        if site else None


def summary(item: Item, kind: SectionKind, site: str | None) -> Summary:
    """Return what of ``item`` a section of ``kind`` shows (see the module's text)."""
    page = item_url(item, site)
    if kind in (SectionKind.AGENDA, SectionKind.FUNDING):
        rest, words = page or (item.lien if safe_link(item.lien) else None), SHORT_WORDS
    else:
        rest, words = page, NEWS_WORDS
    long = rest and len(markdown_to_text(item.corps, None, False).split()) > words * 4 // 3
    cut = excerpt_markdown(item.corps, words) if long else None
    body = (item.corps or "") if cut is None else cut
    if site:
        body = rewrite_document_markdown(body, item, permalinks.absolute(
            site, permalinks.document(item.month, "")))
    return Summary(body, None if cut is None else rest)

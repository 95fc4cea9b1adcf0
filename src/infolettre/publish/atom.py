"""The Atom feeds of the site (RFC 4287): the whole network's, and one per territory.

A feed is read by programs that remember what they saw: a municipal site's news block, a
reader's feed application, another network's aggregator. So it is a pure function of the
``Site``: ids never change (``entries.entry_id``), ``<updated>`` is the newest entry's own
time and never the clock, and publishing again with nothing changed gives the same bytes,
which readers and caches see as « nothing new ». The tree is built with ElementTree, so any
text (« & », « < », a stray control character dropped by ``entries.clean``) leaves the file
well formed. Bodies are the one sanitized HTML of ``render.markdown``; links that only make
sense beside the item's page (an attached document) are made absolute, since a feed is read
far from the site.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime

import nh3

from .. import permalinks
from ..dates import event_when, long_date
from ..i18n import _
from ..models import AGENDA, FUNDING, Item, safe_link
from ..render.markdown import (ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES,
                               markdown_to_html)
from ..settings import Settings
from . import entries
from .model import PublishedItem, Site

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: How many entries a feed holds: readers poll monthly issues, 50 is years of a territory.
LIMIT = 50
#: An address with a scheme (« https: », « mailto: »): already absolute.
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
#: A plain file name (« rapport%20annuel.pdf »): an attached document of the item.
_FILE_NAME = re.compile(r"(?!\.\.?$)[^/\\:?#\s]+")


def atom_feed(site: Site, settings: Settings, territory: str | None = None) -> bytes:
    """Return the Atom feed of the network (``territory`` None) or of one territory, as UTF-8.

    Entries: every item still published (own and regional ones for a territory), newest
    first, at most ``LIMIT``.
    """
    entries.check_territory(settings, territory)
    chosen = entries.selection(site, territory)[:LIMIT]
    feed = ET.Element("feed", {"xmlns": ATOM,
                               XML_LANG: settings.identity.langue.replace("_", "-")})
    _add(feed, "id", _feed_id(site, territory))
    _add(feed, "title", entries.feed_title(settings, territory))
    _add(feed, "updated", _stamp(_feed_updated(site, chosen)))
    _add(feed, "link", rel="self", type="application/atom+xml",
         href=permalinks.absolute(site.url, permalinks.atom_feed(territory)))
    _add(feed, "link", rel="alternate", type="text/html",
         href=entries.home_url(site, territory))
    author = _add(feed, "author")
    _add(author, "name", settings.identity.nom)
    _add(author, "uri", site.url)
    for published in chosen:
        _entry(feed, site, settings, published)
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _feed_id(site: Site, territory: str | None) -> str:
    """The feed's id: dated from the site's first issue, named for what it covers."""
    specific = "reseau" if territory is None else f"territoire/{territory}"
    return entries.tag_uri(site, entries.feed_year(site), specific)


def _feed_updated(site: Site, chosen: list[PublishedItem]) -> datetime:
    """The newest entry's time; without entries, the last publication (else generation)."""
    return (entries.newest(p.updated_at for p in chosen)
            or entries.newest(i.last_published_at for i in site.issues)
            or site.generated_at)


def _entry(feed: ET.Element, site: Site, settings: Settings, published: PublishedItem) -> None:
    """Add one item: stable id, its page, its dates, its organisme, its rubrique, its text."""
    item = published.item
    entry = _add(feed, "entry")
    _add(entry, "id", entries.entry_id(site, published))
    _add(entry, "title", item.titre)
    _add(entry, "link", rel="alternate", type="text/html", href=entries.item_url(site, published))
    _add(entry, "published", _stamp(published.published_at))
    _add(entry, "updated", _stamp(published.updated_at))
    author = _add(entry, "author")
    _add(author, "name", item.organisme)
    _add(entry, "category", term=item.rubrique,
         label=settings.rubriques.get(item.rubrique, item.rubrique))
    summary = item_summary(item, settings)
    if summary:
        _add(entry, "summary", summary, type="text")
    _add(entry, "content", content_html(site, published, summary), type="html")


def item_summary(item: Item, settings: Settings) -> str | None:
    """When and where an event happens, or a call's deadline; None for other items."""
    zone = settings.identity.timezone
    if item.rubrique == AGENDA and item.evenement:
        event = item.evenement
        when = event_when(event.debut.astimezone(zone),
                          event.fin.astimezone(zone) if event.fin else None)
        return f"{when} — {event.lieu}" if event.lieu else when
    if item.rubrique == FUNDING and item.echeance:
        return _("Date limite : %(date)s") % {"date": long_date(item.echeance)}
    return None


def content_html(site: Site, published: PublishedItem, summary: str | None) -> str:
    """The entry's full text as HTML: when/deadline, the body, the image, « En savoir plus ».

    The body is ``markdown_to_html`` (the one sanitized rendering), its relative links made
    absolute; what is added around it is escaped here.
    """
    item = published.item
    month = item.month
    parts = [f"<p><strong>{html.escape(summary)}</strong></p>"] if summary else []
    base = permalinks.absolute(site.url, permalinks.document(month, ""))
    parts.append(absolute_links(markdown_to_html(item.corps), base))
    if item.image:
        src = permalinks.absolute(site.url, permalinks.image(month, item.image))
        parts.append(f'<p><img src="{html.escape(src)}" '
                     f'alt="{html.escape(item.image_alt or "")}"></p>')
    link = safe_link(item.lien)
    if link:
        parts.append(f'<p><a href="{html.escape(link)}">{html.escape(_("En savoir plus"))}</a>'
                     "</p>")
    return "\n".join(p for p in parts if p)


def absolute_links(body: str, base: str) -> str:
    """Make the relative links of a sanitized body absolute, or drop their address.

    A plain file name is an attached document, published beside the item's issue: it gets
    ``base`` (the issue's documents folder). Any other relative address (« ../x », « #note »)
    means nothing away from a page: the words stay, the address goes. The body is cleaned
    again with the same allow-list, so nothing the first cleaning refused comes back.
    """
    def rebase(element: str, attribute: str, value: str) -> str | None:
        if element != "a" or attribute != "href" or _SCHEME.match(value):
            return value
        return base + value if _FILE_NAME.fullmatch(value) else None

    return nh3.clean(body, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                     attribute_filter=rebase, strip_comments=True)


def _add(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    """Add an Atom element; text and attributes lose the characters XML cannot hold.

    Names are unqualified under the root's ``xmlns`` (ElementTree's ``default_namespace``
    refuses unqualified attributes such as ``rel``).
    """
    element = ET.SubElement(parent, name,
                            {key: entries.clean(value) for key, value in attributes.items()})
    if text is not None:
        element.text = entries.clean(text)
    return element


def _stamp(moment: datetime) -> str:
    """An RFC 3339 time in UTC, to the second: « 2026-12-01T14:00:00Z »."""
    return entries.utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")

"""The pages of the published archive: one function per kind of page, each a template.

Pure: a ``Site`` (what was published), the settings, and what the pipeline copied beside
the pages (the images with their size, the documents' names) in; HTML text out. Pages
link each other with relative addresses (``permalinks.relative``): the site opens from a
folder as well as from its host; only the canonical link and the embeds are absolute.
Only the items' public fields reach a page: no address of a reader, of a sender, no
token, nothing of a file's comments.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jinja2
from markupsafe import Markup

from .. import dates, permalinks
from ..models import COMPLETE, REGIONAL, Item, SectionKind
from ..render.documents import rewrite_document_links
from ..render.environment import render_template
from ..render.markdown import markdown_to_html, safe_link
from ..render.text import upfirst
from ..settings import Settings
from .directory import Listing, groups, listings
from .model import PublishedIssue, PublishedItem, Site

#: How many items an embed lists (the territory's own and the regional ones, newest first).
EMBED_ITEMS = 10


@dataclass(frozen=True)
class Assets:
    """What the pipeline published beside the pages: images (path → width and height, or
    None when unknown) and each month's documents (month → names)."""

    images: Mapping[str, tuple[int, int] | None] = field(default_factory=dict)
    documents: Mapping[str, Collection[str]] = field(default_factory=dict)


class Pages:
    """Render every page of one site (one environment, one set of assets)."""

    def __init__(self, env: jinja2.Environment, site: Site, settings: Settings,
                 assets: Assets, available: Collection[str] = ()):
        self.env, self.site, self.settings, self.assets = env, site, settings, assets
        self.available = set(available)  # feeds and calendars actually in the site
        self.listings = listings(site, settings)  # the directory of organizations
        self._pages = {e.organization.nom: e.path for e in self.listings}

    def context(self, path: str, **values: Any) -> dict[str, Any]:
        """Return what every page's template sees, for the page at ``path``."""
        def href(to: str) -> str:
            return permalinks.relative(path, to)

        return {
            "path": path, "href": href, "P": permalinks, "site": self.site,
            "identity": self.settings.identity, "settings": self.settings,
            "territory_name": self.territory_name, "known_territory": self.known_territory,
            "rubrique_title": lambda slug: self.settings.rubriques.get(slug, slug),
            "safe_link": safe_link, "upfirst": upfirst, "event_when": dates.event_when,
            "SectionKind": SectionKind, "COMPLETE": COMPLETE, "REGIONAL": REGIONAL,
            "local": self.local, "organization_page": self.organization_page, "body": lambda item: self.body(item, href),
            "image": lambda item: self.image(item, href),
            "absolute": lambda to: permalinks.absolute(self.site.url, to),
            "available": lambda to: to in self.available,
            "ordered": lambda editions: sorted(editions, key=lambda e: e.slug != COMPLETE),
            **values,
        }

    def known_territory(self, slug: str) -> bool:
        """Tell whether a territory has its page (one removed from the settings since an
        issue was published keeps its items, named by their slug, without a page)."""
        return slug == REGIONAL or slug in self.settings.territories

    def territory_name(self, slug: str) -> str:
        return self.settings.territory_name(slug) if self.known_territory(slug) else slug

    def organization_page(self, name: str) -> str | None:
        """The directory page of the organization an item names, or None when the register
        does not have it (matched as the intake does: case and spaces ignored)."""
        organization = self.settings.organization(name or "")
        return self._pages.get(organization.nom) if organization else None

    def local(self, moment: datetime) -> datetime:
        """A stored time (UTC) in the bulletin's time zone, for « Publié le … »."""
        return moment.astimezone(self.settings.identity.timezone)

    def body(self, item: Item, href: Callable[[str], str]) -> Markup:
        """The item's body as safe HTML, its documents pointed at their published copy."""
        html = rewrite_document_links(
            markdown_to_html(item.corps), item, href(permalinks.document(item.month, "")),
            published=self.assets.documents.get(item.month, ()))
        return Markup(html)

    def image(self, item: Item, href: Callable[[str], str]) -> dict[str, Any] | None:
        """The item's published image (src, alt, size), or None when none was published."""
        if not item.image:
            return None
        path = permalinks.image(item.month, item.image)
        if path not in self.assets.images:
            return None
        size = self.assets.images[path]
        return {"src": href(path), "alt": item.image_alt or "",
                "width": size[0] if size else None, "height": size[1] if size else None}

    def render(self, template: str, path: str, **values: Any) -> str:
        return render_template(self.env, f"site/{template}", **self.context(path, **values))

    # --- one method per kind of page ---

    def home(self) -> str:
        return self.render("accueil.html.j2", permalinks.HOME,
                           territories=list(self.settings.territories))

    def edition(self, issue: PublishedIssue, slug: str) -> str:
        edition = issue.issue.edition(slug)
        return self.render("edition.html.j2", permalinks.edition_page(issue.month, slug),
                           published_issue=issue, issue=issue.issue, edition=edition,
                           )

    def item(self, issue: PublishedIssue, published: PublishedItem) -> str:
        item = published.item
        path = permalinks.item_page(item.month, item.slug)
        in_editions = any(item.slug == i.slug for i in issue.issue.edition(COMPLETE).items)
        return self.render("nouvelle.html.j2", path, published_issue=issue, p=published,
                           item=item, in_edition=in_editions,
                           canonical=permalinks.absolute(self.site.url, path))

    def listing(self, path: str, title: str, kind: str,
                keep: Callable[[Item], bool]) -> str:
        """A rubrique's or a territory's page: its items across issues, newest first."""
        months = [(issue, [p for p in issue.items if p.withdrawn_at is None and keep(p.item)])
                  for issue in self.site.issues]
        return self.render("liste.html.j2", path, title=title, kind=kind,
                           months=[(i, ps) for i, ps in months if ps])

    def rubrique(self, slug: str) -> str:
        title = self.settings.rubriques[slug]
        return self.listing(permalinks.rubrique_page(slug), title,
                            "rubrique", lambda item: item.rubrique == slug)

    def territory(self, slug: str) -> str:
        return self.listing(permalinks.territory_page(slug), self.territory_name(slug),
                            "territoire", lambda item: item.territoire == slug)

    def embed(self, territory: str) -> str:
        """The list a municipal site puts in an iframe: self-contained, absolute links."""
        items = [p for p in self.site.items if p.item.territoire in (territory, REGIONAL)]
        items.sort(key=lambda p: (p.item.month, p.published_at), reverse=True)
        return self.render("integrer.html.j2", permalinks.embed(territory),
                           territory=territory, items=items[:EMBED_ITEMS])

    def directory(self) -> str:
        """The directory's index: every registered organization by territory and table."""
        return self.render("organismes.html.j2", permalinks.DIRECTORY,
                           groups=groups(self.listings, self.settings))

    def organization(self, listing: Listing) -> str:
        """One organization: its public contact and its items across issues."""
        return self.render("organisme.html.j2", listing.path, entry=listing,
                           organization=listing.organization)

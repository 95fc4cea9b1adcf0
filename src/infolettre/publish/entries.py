"""What the Atom feeds and the calendars share: which items, in what order, under which ids.

A feed reader or a calendar application identifies a thing by its id only, for years: an id
that changed would show an old item again as new, or an event twice. So every id here is
made from what never changes about an item (its issue's month and its file name, the
``PublishedItem.key`` the permalinks use too) and the site's host, never from a title or a
time. A territory's feed and calendar hold what its edition holds: its own items and the
regional ones (organize's rule for a territorial edition).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .. import permalinks
from ..errors import BuildError
from ..i18n import _
from ..models import REGIONAL
from ..settings import Settings
from .model import PublishedItem, Site

#: Characters XML 1.0 and iCalendar TEXT cannot hold (C0 controls but tab and line breaks,
#: C1 controls, lone surrogates, U+FFFE/U+FFFF): a pasted text may carry them, a reader
#: rejects the whole file for one of them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: str | None) -> str:
    """Drop the characters no XML or iCalendar file may contain, keep everything else."""
    return _FORBIDDEN.sub("", text or "")


def in_territory(published: PublishedItem, territory: str | None) -> bool:
    """Tell whether an item belongs to a territory's feed: its own or regional (or all)."""
    return territory is None or published.item.territoire in (territory, REGIONAL)


def selection(site: Site, territory: str | None) -> list[PublishedItem]:
    """Every item still published for ``territory`` (None: the whole network).

    Newest first by first publication, then by month (newest first) and file name, so two
    items published in the same run always come in the same order.
    """
    chosen = sorted((p for p in site.items if in_territory(p, territory)),
                    key=lambda p: p.item.slug)
    return sorted(chosen, key=lambda p: (p.published_at, p.item.month), reverse=True)


def check_territory(settings: Settings, territory: str | None) -> None:
    """Refuse a territory the configuration does not name, before any file is made of it."""
    if territory is not None and territory not in settings.territories:
        raise BuildError(
            _("le territoire « {slug} » n'existe pas.").format(slug=territory),
            where="[territoires]",
            fix=_("Choisissez un des territoires de infolettre.toml : {names}.").format(
                names=", ".join(settings.territories)))


def authority(site: Site) -> tuple[str, str]:
    """Return the site's host and its path (« infolettre.example.org », « » or « fil »).

    The path keeps two bulletins published on the same host apart in every id.
    """
    parts = urlsplit(site.url)
    if not parts.hostname:
        raise BuildError(
            _("l'adresse du site « {url} » n'a pas de nom d'hôte : les flux et les "
              "calendriers ne peuvent pas y renvoyer.").format(url=site.url),
            where="[infolettre] site",
            fix=_("Écrivez l'adresse publique complète, par exemple "
                  "https://infolettre.example.org."))
    return parts.hostname.lower(), parts.path.strip("/")


def tag_uri(site: Site, date: str, specific: str) -> str:
    """A tag: URI (RFC 4151) of the site's host, dated ``date`` (« 2026 » or « 2026-12-01 »)."""
    host, path = authority(site)
    return f"tag:{host},{date}:{path + '/' if path else ''}{specific}"


def entry_id(site: Site, published: PublishedItem) -> str:
    """The id of an item in every feed, forever: its month and file name, nothing else."""
    month, slug = published.key
    return tag_uri(site, f"{month}-01", f"{month}/{slug}")


def feed_year(site: Site) -> str:
    """The year the site's ids are dated from: its oldest issue's (stable once published)."""
    if site.issues:
        return min(i.month for i in site.issues)[:4]
    return f"{site.generated_at.year:04d}"


def event_uid(site: Site, published: PublishedItem, suffix: str = "") -> str:
    """The UID of an item's calendar event, forever: « 2026-12-frigo@infolettre.example.org »."""
    host, path = authority(site)
    month, slug = published.key
    return f"{month}-{slug}{suffix}@{host}{'/' + path if path else ''}"


def item_url(site: Site, published: PublishedItem) -> str:
    """The absolute address of an item's page (its permalink)."""
    return permalinks.absolute(site.url, permalinks.item_page(*published.key))


def feed_title(settings: Settings, territory: str | None) -> str:
    """« Le Fil régional » or « Le Fil régional — Lotbinière »."""
    if territory is None:
        return settings.identity.nom
    return _("{nom} — {territoire}").format(nom=settings.identity.nom,
                                            territoire=settings.territory_name(territory))


def territory_label(settings: Settings, slug: str) -> str:
    """A territory's name; its slug when the configuration no longer names it (an old item
    keeps its place in feeds after a territory is renamed)."""
    if slug == REGIONAL or slug in settings.territories:
        return settings.territory_name(slug)
    return slug


def home_url(site: Site, territory: str | None) -> str:
    """The page a feed stands for: the home page, or the territory's page."""
    path = permalinks.HOME if territory is None else permalinks.territory_page(territory)
    return permalinks.absolute(site.url, path)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC, to the second: what feeds and calendars write."""
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def newest(moments: Iterable[datetime]) -> datetime | None:
    """The latest of ``moments``, or None when there is none."""
    return max(moments, default=None)

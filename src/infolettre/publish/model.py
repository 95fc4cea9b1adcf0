"""What the site is made of: the issues as they were published, each item with its dates.

The site is regenerated whole from the publication records (``state.publications``): each
item as it was when its issue was last published (a snapshot, so a file edited since, and
not approved again, changes nothing online), with the day it was first published and the
day of its last correction (« corrigé le … »). Pages, feeds, calendars and embeds are
functions of a ``Site``; nothing in ``publish`` reads ``content/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ..models import Issue, Item


@dataclass(frozen=True)
class PublishedItem:
    """One item as published. Times are aware (UTC); ``updated_at`` is ``published_at``
    until a correction is published, ``withdrawn_at`` set when a republished issue no longer
    carries it (its permalink stays, saying so, without the text)."""

    item: Item
    published_at: datetime
    updated_at: datetime
    withdrawn_at: datetime | None = None

    @property
    def corrected(self) -> bool:
        """Tell whether a correction was published after the first publication."""
        return self.updated_at > self.published_at

    @property
    def key(self) -> tuple[str, str]:
        """(month, slug): what never changes about an item, so its permalink and ids."""
        return self.item.month, self.item.slug


@dataclass(frozen=True)
class PublishedIssue:
    """One published issue: its items as published, organized again into editions."""

    month: str
    parution: date
    issue: Issue  # organize(items as published, parution): the editions of the pages
    items: tuple[PublishedItem, ...]  # every item ever published in it, withdrawn ones too
    first_published_at: datetime
    last_published_at: datetime

    def published(self, slug: str) -> PublishedItem:
        return next(p for p in self.items if p.item.slug == slug)


@dataclass(frozen=True)
class Site:
    """Everything published, newest issue first, and the site's public address."""

    issues: tuple[PublishedIssue, ...]
    url: str  # [infolettre] site, without a trailing slash
    generated_at: datetime  # aware: « now » for « upcoming events » and feeds' <updated>

    @property
    def items(self) -> tuple[PublishedItem, ...]:
        """Every item still published (not withdrawn), newest issue first."""
        return tuple(p for i in self.issues for p in i.items if p.withdrawn_at is None)

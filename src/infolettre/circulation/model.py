"""The figures of the circulation report, as frozen dataclasses (the page, the command and
the CSV read the same ones)."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Issue, Item, Month


@dataclass(frozen=True)
class MonthItems:
    """One issue's month as read from ``content/``: every item of it, whatever its status,
    and the issue organize made of it (None when it was not organized: only the silences
    are asked of it)."""

    month: Month
    items: tuple[Item, ...]
    issue: Issue | None = None


@dataclass(frozen=True)
class Silence:
    """A registered organization that has said nothing for ``issues`` issues in a row.

    ``since`` is the first issue of the silence (the oldest month read when it never spoke
    in the months read, then ``last_heard`` is None).
    """

    organisme: str
    territoire: str
    table: str | None
    issues: int
    since: Month
    last_heard: Month | None


@dataclass(frozen=True)
class TerritoryFigures:
    """One territory (or « regional ») over the report's issues.

    ``items`` are the counted items (see ``count.counted``); ``by_month`` follows
    ``Report.months``. ``share_items`` and ``share_organizations`` are fractions (0 to 1) of
    the whole network; a territory is ``under_represented`` when its share of the items is
    below ``count.UNDER`` of its share of the registered organizations.
    """

    slug: str
    name: str
    items: int
    by_month: tuple[int, ...]
    by_rubrique: dict[str, int]
    by_source: dict[str, int]
    organizations: int           # registered in this territory
    organizations_heard: int     # of which at least one counted item
    share_items: float
    share_organizations: float
    under_represented: bool
    elsewhere_items: int         # its items shown in « Ailleurs dans la région »
    elsewhere_appearances: int   # each time one appeared in another edition (3 editions: 3)


@dataclass(frozen=True)
class OrganizationFigures:
    """One organization: registered (even with nothing), or named by a counted item."""

    nom: str
    territoire: str
    table: str | None
    registered: bool
    items: int
    by_month: tuple[int, ...]
    by_rubrique: dict[str, int]
    by_source: dict[str, int]
    last_heard: Month | None
    silence: Silence | None


@dataclass(frozen=True)
class TableFigures:
    """A concertation table: the registered organizations that name it, and their items."""

    table: str
    territoire: str
    organizations: int
    items: int
    by_month: tuple[int, ...]
    by_rubrique: dict[str, int]
    by_source: dict[str, int]


@dataclass(frozen=True)
class Report:
    """The circulation of the last issues (``months``, oldest first)."""

    months: tuple[Month, ...]
    total: int                   # counted items
    left_out: dict[str, int]     # items not counted, by status (soumis, refuse, retenu)
    by_rubrique: dict[str, int]
    by_source: dict[str, int]
    territories: tuple[TerritoryFigures, ...]   # « regional » first, then the config's order
    organizations: tuple[OrganizationFigures, ...]
    tables: tuple[TableFigures, ...]
    silent: tuple[Silence, ...]  # silent for ``silence_after`` issues or more, longest first
    silence_after: int
    regional_items: int          # regional items carried by the territorial editions
    regional_appearances: int    # each time one appeared in a territorial edition

    @property
    def elsewhere_items(self) -> int:
        """Local items that reached at least one other territory's edition."""
        return sum(t.elsewhere_items for t in self.territories)

    @property
    def local_items(self) -> int:
        return sum(t.items for t in self.territories if t.slug != "regional")

    @property
    def under_represented(self) -> tuple[TerritoryFigures, ...]:
        return tuple(t for t in self.territories if t.under_represented)

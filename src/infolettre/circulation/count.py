"""The figures of the last issues: which items count, per territory, organization, table,
rubrique and source, and how far each territory's news travelled.

Which items count: the **approved** ones (``statut: approuve``), the ones readers got (or
will get, for the issue in preparation): a report on circulation counts what circulated.
Refused items certainly not; items still « soumis » (never approved: an old month's
leftover, or the issue in preparation not reviewed yet) and held mail (« retenu », from an
unknown address) are not counted either, but their number is given (``Report.left_out``)
so the pivot sees what the figures leave aside. Silence is another question (did the
organization write at all?): see ``silence``.

How far news travelled is read from the issues organize made (its rule, not a copy of it):
an item of territory X in the « Ailleurs dans la région » section of territory Y's edition
reached Y; a regional item reached each territorial edition that carries it. An event that
had ended, or a call that had closed, before the issue came out reached nobody.

Under-representation compares a territory's share of the counted items with its share of
the registered organizations (``[[organismes]]``): below two thirds of it (``UNDER``) is
flagged. The threshold is a conversation starter at a table meeting, not a verdict.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from ..models import COMPLETE, REGIONAL, Item, Source, Status
from ..settings import Settings
from .model import (MonthItems, OrganizationFigures, Report, Silence, TableFigures,
                    TerritoryFigures)
from .silence import silences, spoke

#: A territory whose share of the items is below this fraction of its share of the
#: registered organizations is under-represented.
UNDER = 2 / 3
#: The section of a territorial edition with the headlines of the other territories.
ELSEWHERE = "ailleurs"


def counted(item: Item) -> bool:
    """Tell whether ``item`` counts in the figures: approved, so readers got it."""
    return item.statut is Status.APPROVED


def report(history: Sequence[MonthItems], settings: Settings, *, window: int = 6,
           silence_after: int = 3) -> Report:
    """Count the last ``window`` issues of ``history`` (oldest first).

    ``history`` may reach further back than the window: the silences are counted over all
    of it, so « silencieux depuis » can name a month older than the figures.
    """
    shown = list(history)[-window:] if window > 0 else []
    months = tuple(m.month for m in shown)
    items = [(index, i) for index, m in enumerate(shown) for i in m.items if counted(i)]
    left_out = Counter(i.statut.value for m in shown for i in m.items if not counted(i))
    all_silences = {s.organisme: s for s in silences(history, settings, at_least=1)}
    reach, appearances = _reach(shown)
    regional = (reach.pop(REGIONAL, set()), appearances.pop(REGIONAL, 0))
    territories = _territories(items, months, settings, reach, appearances)
    organizations = _organizations(items, months, history, settings, all_silences,
                                   silence_after)
    return Report(
        months=months, total=len(items),
        left_out={s.value: left_out[s.value] for s in Status if left_out[s.value]},
        by_rubrique=_by_rubrique((i for _n, i in items), settings),
        by_source=_by_source(i for _n, i in items),
        territories=territories, organizations=organizations,
        tables=_tables(organizations),
        silent=tuple(s for s in all_silences.values() if s.issues >= silence_after),
        silence_after=silence_after,
        regional_items=len(regional[0]), regional_appearances=regional[1])


def _by_rubrique(items, settings: Settings) -> dict[str, int]:
    found = Counter(i.rubrique for i in items)
    return {r: found[r] for r in settings.rubriques}


def _by_source(items) -> dict[str, int]:
    found = Counter(i.source.value for i in items)
    return {s.value: found[s.value] for s in Source}


def _reach(shown: Sequence[MonthItems]) -> tuple[dict[str, set], Counter]:
    """Per territory of origin: the items that reached another edition, and how often.

    Local items are read in the « Ailleurs » sections, regional ones anywhere in a
    territorial edition (the « Régional » section, the agenda, the calls).
    """
    reached: dict[str, set] = defaultdict(set)
    appearances: Counter = Counter()
    for month in shown:
        for edition in (month.issue.editions if month.issue else ()):
            if edition.slug == COMPLETE:
                continue
            for section in edition.sections:
                for item in section.items:
                    local = section.key == ELSEWHERE and item.territoire != edition.slug
                    if local or item.territoire == REGIONAL:
                        reached[item.territoire].add((month.month, item.slug))
                        appearances[item.territoire] += 1
    return reached, appearances


def _territories(items, months, settings: Settings, reach, appearances
                 ) -> tuple[TerritoryFigures, ...]:
    total, registered = len(items), len(settings.organizations)
    rows = []
    for slug in (REGIONAL, *settings.territories):
        mine = [(n, i) for n, i in items if i.territoire == slug]
        orgs = [o for o in settings.organizations if o.territoire == slug]
        heard = {i.organisme.strip().casefold() for _n, i in mine}
        share_items = len(mine) / total if total else 0.0
        share_orgs = len(orgs) / registered if registered else 0.0
        by_month = Counter(n for n, _i in mine)
        rows.append(TerritoryFigures(
            slug=slug, name=settings.territory_name(slug), items=len(mine),
            by_month=tuple(by_month[n] for n in range(len(months))),
            by_rubrique=_by_rubrique((i for _n, i in mine), settings),
            by_source=_by_source(i for _n, i in mine),
            organizations=len(orgs),
            organizations_heard=sum(o.nom.strip().casefold() in heard for o in orgs),
            share_items=share_items, share_organizations=share_orgs,
            under_represented=bool(total and share_orgs and share_items < UNDER * share_orgs),
            elsewhere_items=len(reach.get(slug, ())),
            elsewhere_appearances=appearances.get(slug, 0)))
    return tuple(rows)


def _organizations(items, months, history, settings: Settings, all_silences, silence_after
                   ) -> tuple[OrganizationFigures, ...]:
    names: dict[str, tuple[str, str, str | None, bool]] = {}
    for org in settings.organizations:
        names[org.nom.strip().casefold()] = (org.nom, org.territoire, org.table, True)
    for _n, item in items:
        names.setdefault(item.organisme.strip().casefold(),
                         (item.organisme.strip(), item.territoire, None, False))
    last_heard = {}
    for month in history:
        for item in month.items:
            if spoke(item):
                last_heard[item.organisme.strip().casefold()] = month.month
    rows = []
    for key, (nom, territoire, table, registered) in names.items():
        mine = [(n, i) for n, i in items if i.organisme.strip().casefold() == key]
        by_month = Counter(n for n, _i in mine)
        silence: Silence | None = all_silences.get(nom) if registered else None
        rows.append(OrganizationFigures(
            nom=nom, territoire=territoire, table=table, registered=registered,
            items=len(mine), by_month=tuple(by_month[n] for n in range(len(months))),
            by_rubrique=_by_rubrique((i for _n, i in mine), settings),
            by_source=_by_source(i for _n, i in mine), last_heard=last_heard.get(key),
            silence=silence if silence and silence.issues >= silence_after else None))
    order = {slug: n for n, slug in enumerate((REGIONAL, *settings.territories))}
    return tuple(sorted(rows, key=lambda o: (order.get(o.territoire, len(order)),
                                             o.nom.casefold())))


def _tables(organizations: Sequence[OrganizationFigures]) -> tuple[TableFigures, ...]:
    grouped: dict[str, list[OrganizationFigures]] = defaultdict(list)
    for org in organizations:
        if org.registered and org.table:
            grouped[org.table].append(org)
    return tuple(TableFigures(table=name, territoire=orgs[0].territoire,
                              organizations=len(orgs), items=sum(o.items for o in orgs),
                              by_month=tuple(map(sum, zip(*(o.by_month for o in orgs)))),
                              by_rubrique=_sum(o.by_rubrique for o in orgs),
                              by_source=_sum(o.by_source for o in orgs))
                 for name, orgs in grouped.items())


def _sum(counts) -> dict[str, int]:
    total: Counter = Counter()
    for one in counts:
        total.update(one)
    return {key: total[key] for key in total}

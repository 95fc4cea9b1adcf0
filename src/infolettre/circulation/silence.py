"""Who has said nothing, for how many issues: the report's « silencieux » and the
scheduler's « relance des silencieux » ask the same question here.

An organization *speaks* in an issue when an item of that month names it and is submitted
or approved: it wrote to the bulletin, even if the item was not approved in time. A refused
item is the pivot's « no », and a held one (« retenu ») came from an address nobody knows,
so neither is the organization's voice. Names are compared without case or surrounding
spaces (the registry's rule, ``Settings.organization``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Item, Status
from ..settings import Settings
from .model import MonthItems, Silence

VOICE = (Status.SUBMITTED, Status.APPROVED)


def spoke(item: Item) -> bool:
    """Tell whether ``item`` is its organization's voice (submitted or approved)."""
    return item.statut in VOICE


def _key(name: str) -> str:
    return name.strip().casefold()


def silences(history: Sequence[MonthItems], settings: Settings, *,
             at_least: int = 1) -> list[Silence]:
    """Return the registered organizations silent in the last ``at_least`` issues of
    ``history`` (oldest first) or more, the longest silence first.

    The silence is counted back from the newest month of ``history`` until the last issue
    the organization spoke in; an organization never heard in ``history`` is silent for all
    of it (``last_heard`` None). Nothing is said with fewer than ``at_least`` issues read.
    """
    if at_least < 1 or len(history) < at_least:
        return []
    heard: dict[str, int] = {}  # organization → index of the newest issue it spoke in
    for index, month in enumerate(history):
        for item in month.items:
            if spoke(item):
                heard[_key(item.organisme)] = index
    found = []
    newest = len(history) - 1
    for org in settings.organizations:
        last = heard.get(_key(org.nom))
        issues = newest - last if last is not None else len(history)
        if issues >= at_least:
            found.append(Silence(
                organisme=org.nom, territoire=org.territoire, table=org.table, issues=issues,
                since=history[newest - issues + 1].month,
                last_heard=history[last].month if last is not None else None))
    order = {slug: n for n, slug in enumerate(settings.territories)}
    return sorted(found, key=lambda s: (-s.issues, order.get(s.territoire, -1),
                                        s.organisme.casefold()))


def to_remind(history: Sequence[MonthItems], current: Sequence[Item], settings: Settings, *,
              after: int) -> list[Silence]:
    """Return who gets the « relance des silencieux » of the issue in preparation.

    The registered organizations that asked for it (``relance = true``), silent in the last
    ``after`` issues of ``history`` (the issues before this one, oldest first) and not heard
    yet in this one (``current``: its items so far). With fewer than ``after`` issues read,
    nobody: a new bulletin does not remind everyone at once.
    """
    if after < 1:
        return []
    wanted = {o.nom for o in settings.organizations if o.relance}
    heard_now = {_key(i.organisme) for i in current if spoke(i)}
    return [s for s in silences(history, settings, at_least=after)
            if s.organisme in wanted and _key(s.organisme) not in heard_now]

"""« Le numéro »: what the review app's home page shows about one month, gathered once.

The view renders a ``Dashboard`` and computes nothing; the command line may call it too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import Problem
from ..settings import Settings
from .issue import check
from .review import Entry, list_items

STATUSES = ("soumis", "approuve", "refuse", "retenu")


@dataclass
class Dashboard:
    """The figures of one month, restricted to a territory when ``territoire`` is set."""

    month: str
    territoire: str | None
    by_status: dict[str, int]
    by_territory: dict[str, int]
    by_rubrique: dict[str, int]
    problems: list[tuple[Problem, str | None]]  # each problem with its item's slug, if any
    held: list[Entry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def issue_dashboard(settings: Settings, month: str, clock: Clock = SYSTEM_CLOCK, *,
                    territoire: str | None = None) -> Dashboard:
    """Gather the month's counts, problems and held items, so the home page only renders."""
    entries = [e for _key, _title, found in list_items(settings, month, only_territory=territoire)
               for e in found]
    by_status = {s: 0 for s in STATUSES}
    by_status.update(Counter(e.statut for e in entries))
    slugs = {e.path.resolve(): e.slug for e in entries}
    problems = []
    for problem in check(settings, month).problems:
        slug = slugs.get(problem.path.resolve()) if problem.path else None
        if territoire is None or slug is not None:
            problems.append((problem, slug))
    return Dashboard(month=str(month), territoire=territoire, by_status=by_status,
                     by_territory=dict(Counter(e.territoire for e in entries)),
                     by_rubrique=dict(Counter(e.rubrique for e in entries)),
                     problems=problems, held=[e for e in entries if e.statut == "retenu"])

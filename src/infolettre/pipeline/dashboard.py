"""« Le numéro »: what the review app's home page shows about one month, gathered once.

The view renders a ``Dashboard`` and computes nothing; the command line may call it too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from datetime import date

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError, Problem
from ..gather.feeds.store import FeedStatus
from ..models import AGENDA, Item, Month, Status
from ..organize import CLASH, expired, same_day_events
from ..review.attention import silent_organizations, silent_territories
from ..settings import FeedSource, Settings
from .gather import feeds_health
from .previews import Preview, preview
from .review import Entry, list_items
from .sending import SignoffState, signoff_state
from .timeline import IssueDates, Timeline, issue_dates, timeline

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
    parution: date | None = None
    signoff: SignoffState | None = None
    clashes: list[tuple[str, date, list[Item]]] = field(default_factory=list)  # same day
    silent_territories: list[str] = field(default_factory=list)
    silent_organizations: list[str] = field(default_factory=list)
    failing_feeds: list[tuple[FeedSource, FeedStatus]] = field(default_factory=list)
    weights: Preview | None = None  # the preview's editions (every item of the month)
    weights_error: str | None = None  # why the preview could not be built, as said
    dates: IssueDates | None = None  # the month's deadline and send ([calendrier])
    timeline: Timeline | None = None  # the scheduler's next steps and last runs (pivot only)

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def issue_dashboard(settings: Settings, month: str, clock: Clock = SYSTEM_CLOCK, *,
                    territoire: str | None = None) -> Dashboard:
    """Gather what the home page shows about a month, so the page only renders.

    One ``check`` (through ``signoff_state``) gives the problems and the sign-off; the
    items' files give the counts; the feeds' health and the scheduler's runs come from the
    state database, the deadline and the next steps from ``[calendrier]``.
    """
    entries = [e for _key, _title, found in list_items(settings, month, only_territory=territoire)
               for e in found]
    by_status = {s: 0 for s in STATUSES}
    by_status.update(Counter(e.statut for e in entries))
    state = signoff_state(settings, month, clock=clock)
    items = [e.item for e in entries if e.item is not None]
    weights, weights_error = _weights(settings, month)
    return Dashboard(
        month=str(month), territoire=territoire, by_status=by_status,
        by_territory=dict(Counter(e.territoire for e in entries)),
        by_rubrique=dict(Counter(e.rubrique for e in entries)),
        problems=_problems_by_item(state.problems, entries, settings, territoire),
        held=[e for e in entries if e.statut == "retenu"],
        parution=Month(month).first_day, signoff=state,
        clashes=same_day_events([i for i in items if i.rubrique == AGENDA and i.evenement
                                 and i.statut is not Status.REFUSED
                                 and not expired(i, Month(month).first_day)]),
        silent_territories=[] if territoire else silent_territories(items, settings),
        silent_organizations=silent_organizations(items, settings, territoire=territoire),
        failing_feeds=[] if territoire else [
            (feed, health) for feed, health in feeds_health(settings)
            if health.echecs_consecutifs],
        weights=weights, weights_error=weights_error, dates=issue_dates(settings, month),
        timeline=None if territoire else timeline(settings, clock=clock))


def _weights(settings: Settings, month: str) -> tuple[Preview | None, str | None]:
    """Weigh the editions on the month's preview (built again only when an input changed):
    every item is in it, so it is what the issue weighs at most once all are approved."""
    try:
        return preview(settings, month), None
    except InfolettreError as exc:
        return None, str(exc)


def _problems_by_item(problems: list[Problem], entries: list[Entry], settings: Settings,
                      territoire: str | None) -> list[tuple[Problem, str | None]]:
    """Pair each problem with its item's slug; a relecteur sees only their items' problems."""
    slugs = {e.path.resolve(): e.slug for e in entries}
    paired = []
    for problem in problems:
        if problem.kind == CLASH:  # shown in their own list, over every event not refused
            continue
        slug = slugs.get(problem.path.resolve()) if problem.path else None
        if territoire is None or slug is not None:
            paired.append((problem, slug))
    return paired


def where(problem: Problem, settings: Settings) -> str:
    """Name a problem's place relative to the project folder (« content/2026-12/x.md:4 »)."""
    if problem.path is None:
        return problem.where
    root = settings.paths.contenu.parent
    try:
        name = problem.path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return problem.where
    return f"{name}:{problem.line}" if problem.line else name

"""What the scheduler will do and what it did, read only: ``--prochaines``, the review app.

Split from ``schedule`` (which re-exports these names) so the home page's dashboard can
read the calendar without importing the steps' actions (the deadline step reads the
dashboard: importing them back would make a cycle).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

from .. import calendar
from ..calendar.steps import SERIES, STEPS, Occurrence
from ..clock import SYSTEM_CLOCK, Clock
from ..dates import month_title
from ..errors import InfolettreError
from ..i18n import _
from ..settings import Settings
from ..state import connect, state_file
from ..state.steps import DONE, WAITING, StepRecord, StepStore


def describe(occurrence: Occurrence) -> str:
    """Name an occurrence in French: « envoi du numéro (janvier 2027) »."""
    label = STEPS[occurrence.step].label
    if occurrence.attempt:
        label = _("nouvel essai d'envoi")
    if occurrence.key == SERIES:
        return label
    return _("{label} (numéro de {mois})").format(label=label,
                                                   mois=month_title(occurrence.key))



@dataclass(frozen=True)
class Overview:
    """What the review app shows: the next steps of the issues, and the last runs."""

    upcoming: list[Occurrence]
    records: list[StepRecord]


def upcoming(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, count: int = 10,
             steps: Iterable[str] | None = None) -> list[Occurrence]:
    """Return the next ``count`` occurrences of the enabled steps (``--prochaines``).

    A step already done for its issue is left out, and so are a send's daily retries
    unless its first try is waiting for the approval.
    """
    records = {(r.step, r.key): r for r in _records(settings, clock)}

    def ahead(o: Occurrence) -> bool:
        record = records.get((o.step, o.key))
        if o.attempt:
            return record is not None and record.status == WAITING
        return record is None or record.status != DONE or o.key == SERIES

    found = calendar.upcoming(settings, clock.now(), count + 20, steps)
    return [o for o in found if ahead(o)][:count]


def _records(settings: Settings, clock: Clock) -> list[StepRecord]:
    """Read the scheduler's records (none when no scheduler ever ran here)."""
    try:
        with closing(connect(state_file(settings.paths.donnees), readonly=True)) as conn:
            return StepStore(conn, clock=clock).all()
    except InfolettreError:
        return []


def overview(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, count: int = 6) -> Overview:
    """Return the next steps of the issues (call, reminder, deadline, send) and the records."""
    per_issue = [s for s in calendar.enabled_steps(settings) if STEPS[s].per_issue]
    return Overview(upcoming(settings, clock=clock, count=count, steps=per_issue),
                    _records(settings, clock))


__all__ = ["Overview", "describe", "overview", "upcoming"]

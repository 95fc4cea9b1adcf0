"""The calendar on the home page: the issue's deadline, the next steps, the last runs.

``issue_dates`` says when the month's issue closes and leaves (or that the month has no
issue, in a bimonthly calendar); ``timeline`` turns ``schedule_view.overview`` into lines the
page only prints, in the bulletin's time zone, in French. Nothing here runs a step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .. import calendar
from ..calendar.steps import SERIES, STEPS
from ..clock import SYSTEM_CLOCK, Clock
from ..i18n import _
from ..models import Month
from ..settings import Settings
from ..state.steps import BUSY, DONE, FAILED, OK, RUNNING, WAITING
from .schedule_view import describe, overview

RUNS_SHOWN = 15  # the last runs listed; older ones stay in the state database


@dataclass(frozen=True)
class IssueDates:
    """The month's deadline and send, local; for a month without an issue, the next issue."""

    month: Month
    deadline: datetime | None = None
    send: datetime | None = None
    next_issue: Month | None = None  # set when ``month`` has no issue (bimonthly)


@dataclass(frozen=True)
class NextStep:
    """One step to come: when (local) and what, in French."""

    at: datetime
    what: str


@dataclass(frozen=True)
class LastRun:
    """How a step last ran: its French name, its issue, its status in words, when it ended."""

    step: str
    label: str
    issue: Month | None
    status: str
    said: str  # the status in words (« en attente d'approbation »)
    ended: datetime | None  # local
    message: str

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True)
class Timeline:
    """What the pivot's home page shows of the scheduler."""

    upcoming: list[NextStep]
    runs: list[LastRun]


def issue_dates(settings: Settings, month: str) -> IssueDates:
    """Compute the month's deadline and send from ``[calendrier]``, in the bulletin's zone."""
    month, tz = Month(month), settings.identity.timezone
    if not settings.calendar.is_issue_month(month):
        return IssueDates(month, next_issue=calendar.issue_for(settings.calendar, month))
    dates = calendar.cycle(settings.calendar, month, tz)
    return IssueDates(month, deadline=dates.deadline.astimezone(tz),
                      send=dates.send.astimezone(tz))


def timeline(settings: Settings, *, clock: Clock = SYSTEM_CLOCK, count: int = 6) -> Timeline:
    """Gather the next steps of the issues and the last runs of every step, latest first."""
    tz = settings.identity.timezone
    seen = overview(settings, clock=clock, count=count)
    return Timeline(
        upcoming=[NextStep(o.at.astimezone(tz), describe(o)) for o in seen.upcoming],
        runs=[LastRun(r.step, step_label(r.step),
                      None if r.key == SERIES else Month(r.key), r.status,
                      status_words(r.status), r.ended.astimezone(tz) if r.ended else None,
                      r.message)
              for r in seen.records[:RUNS_SHOWN]])


def step_label(step: str) -> str:
    """Name a recorded step in French (the send's report is recorded as « rapport »)."""
    if step in STEPS:
        return STEPS[step].label
    return {"rapport": _("rapport d'envoi")}.get(step, step)


def status_words(status: str) -> str:
    """Say a recorded status in words, as the pivot reads it."""
    return {
        DONE: _("fait"), OK: _("réussi"), WAITING: _("en attente d'approbation"),
        FAILED: _("échec"), RUNNING: _("en cours"),
        BUSY: _("reporté : dossier de données occupé"),
    }.get(status, status)

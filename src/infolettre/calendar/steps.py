"""The steps the scheduler runs, and when: occurrences computed from ``[calendrier]``.

Each step has a grace: how long after its time it may still run (a machine that was off
at 9 h and starts at 11 h still sends; one that starts three days later does not send an
issue from three days ago without a person, it waits for the next try). Within its grace
an occurrence runs once: the state database records each (step, occurrence)
(``state.steps``).

Steps of one issue (``par_numero``) have the issue's month as key; the recurring ones
(mail, feeds and bounces readings, retries, backup) have one key for the whole series, and the
record keeps the time of the last occurrence run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..i18n import _
from ..models import Month
from ..settings import Settings
from .cycle import cycle, issue_months, local_moment

SERIES = "continu"  # the key of a recurring step's single record
INTERVAL_STEPS = ("courriel", "reprise")  # every few minutes, not at a time of day
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    """A step of the calendar: its name in the state and the logs, and its grace."""

    id: str
    grace: timedelta
    per_issue: bool

    @property
    def label(self) -> str:
        """Name the step in French (« relevé du courriel »)."""
        return {
            "courriel": _("relevé du courriel"), "flux": _("relevé des flux"),
            "appel": _("appel de nouvelles"), "rappel": _("rappel aux organismes"),
            "tombee": _("date de tombée"), "envoi": _("envoi du numéro"),
            "reprise": _("reprise des envois différés"), "sauvegarde": _("sauvegarde"),
            "rebonds": _("relevé des rebonds"), "relance": _("relance des silencieux"),
        }[self.id]


STEPS: dict[str, Step] = {s.id: s for s in (
    Step("courriel", timedelta(minutes=15), False),
    Step("flux", timedelta(hours=12), False),
    Step("appel", timedelta(days=3), True),
    Step("relance", timedelta(days=3), True),
    Step("rappel", timedelta(days=1), True),
    Step("tombee", timedelta(days=2), True),
    Step("envoi", timedelta(days=1), True),
    Step("reprise", timedelta(minutes=10), False),
    Step("sauvegarde", timedelta(hours=12), False),
    Step("rebonds", timedelta(hours=12), False),
)}


@dataclass(frozen=True, order=True)
class Occurrence:
    """One time a step is due: ``key`` is the issue's month, or ``SERIES``."""

    at: datetime          # UTC
    step: str
    key: str
    attempt: int = 0      # the send: 0, then each daily retry within the window

    @property
    def month(self) -> Month | None:
        return None if self.key == SERIES else Month(self.key)


def enabled_steps(settings: Settings) -> list[str]:
    """Return the steps this configuration runs (a reading needs its mailbox or feeds)."""
    cal, intake = settings.calendar, settings.mail_intake
    wanted = {
        "courriel": bool(cal.releve_courriel and (intake.maildir or intake.imap_hote)),
        "flux": bool(cal.releve_flux and settings.feeds),
        "appel": bool(cal.appel and settings.organizations),
        "rappel": bool(cal.appel and cal.rappel and settings.organizations),
        "relance": bool(cal.relance_apres and any(o.relance for o in settings.organizations)),
        "tombee": True, "envoi": True, "reprise": True,
        "sauvegarde": cal.sauvegarde is not None,
        "rebonds": bool(cal.releve_rebonds and settings.bounces
                        and settings.bounces.has_mailbox),
    }
    return [step for step in STEPS if wanted[step]]


def grace(settings: Settings, step: str) -> timedelta:
    """Return how late a step may still run; a recurring one, until its next time."""
    cal = settings.calendar
    if step == "courriel":
        return timedelta(minutes=cal.releve_courriel)
    if step == "reprise":
        return timedelta(minutes=cal.reprises)
    return STEPS[step].grace


def occurrences(settings: Settings, step: str, start: datetime,
                end: datetime) -> Iterator[Occurrence]:
    """Yield the step's occurrences at or after ``start`` and before ``end``, in order."""
    cal, tz = settings.calendar, settings.identity.timezone
    if step in ("courriel", "reprise"):
        minutes = cal.releve_courriel if step == "courriel" else cal.reprises
        yield from _every(step, timedelta(minutes=minutes), start, end)
    elif step in ("flux", "sauvegarde", "rebonds"):
        hour = {"flux": cal.releve_flux, "sauvegarde": cal.sauvegarde,
                "rebonds": cal.releve_rebonds}[step]
        if hour is not None:
            yield from _daily(step, hour, tz, start, end)
    else:
        yield from _of_issues(settings, step, start, end)


def _every(step: str, period: timedelta, start: datetime, end: datetime) -> Iterator[Occurrence]:
    """Every ``period``, counted from a fixed origin (so 9 h 00, 9 h 15… in any zone)."""
    n = -((_EPOCH - start) // period)  # ceiling division: the first one at or after start
    at = _EPOCH + n * period
    while at < end:
        yield Occurrence(at, step, SERIES)
        at += period


def _daily(step: str, hour: time, tz: ZoneInfo, start: datetime,
           end: datetime) -> Iterator[Occurrence]:
    day = start.astimezone(tz).date() - timedelta(days=1)
    while True:
        at = local_moment(day, hour, tz)
        if at >= end:
            return
        if at >= start:
            yield Occurrence(at, step, SERIES)
        day += timedelta(days=1)


def _of_issues(settings: Settings, step: str, start: datetime,
               end: datetime) -> Iterator[Occurrence]:
    """The step's times in the cycles that may touch [start, end) (a cycle spans 3 months)."""
    cal, tz = settings.calendar, settings.identity.timezone
    first = Month.of(start.astimezone(tz).date())
    for _ in range(3):
        first = first.previous()
    found: list[Occurrence] = []
    for month in issue_months(cal, first):
        dates = cycle(cal, month, tz)
        if dates.opens > end.astimezone(tz).date():
            break
        times = {"appel": [dates.call], "rappel": [dates.reminder],
                 "tombee": [dates.deadline], "envoi": list(dates.attempts),
                 "relance": [dates.relance]}[step]
        found += [Occurrence(at, step, str(month), n) for n, at in enumerate(times)
                  if at is not None and start <= at < end]
    yield from sorted(found)


def next_after(settings: Settings, step: str, moment: datetime) -> Occurrence | None:
    """Return the step's first occurrence strictly after ``moment`` (within 400 days)."""
    later = moment + timedelta(microseconds=1)
    return next(occurrences(settings, step, later, later + timedelta(days=400)), None)


def due(settings: Settings, step: str, now: datetime) -> list[Occurrence]:
    """Return the step's occurrences whose time has come and whose grace is not over,
    the latest first (a step that missed several times runs once: the latest)."""
    late = grace(settings, step)
    return sorted(occurrences(settings, step, now - late, now + timedelta(microseconds=1)),
                  reverse=True)


def upcoming(settings: Settings, now: datetime, count: int,
             steps: Iterable[str] | None = None) -> list[Occurrence]:
    """Return the next ``count`` occurrences of the enabled steps after ``now``, in order.

    A send's daily retries are left out until the send's first time has passed: they
    happen only when the issue was not signed off by then. The steps that run every few
    minutes (``INTERVAL_STEPS``) are left out unless asked for: they would fill the list.
    """
    found: list[Occurrence] = []
    horizon = now + timedelta(days=400)
    if steps is None:
        steps = [s for s in enabled_steps(settings) if s not in INTERVAL_STEPS]
    for step in steps:
        taken = 0
        for occurrence in occurrences(settings, step, now, horizon):
            if occurrence.attempt and occurrence.at - timedelta(days=occurrence.attempt) > now:
                continue
            found.append(occurrence)
            taken += 1
            if taken >= count:
                break
    return sorted(found)[:count]

"""One issue's dates: the call for news, the reminder, the deadline, the send.

The cycle of an issue opens on the first day of the previous issue's month (the month
before for a monthly bulletin, two months before for a bimonthly one): news received
after the previous issue was sent go to this one. The call for news goes out on day
``appel`` of the cycle; the send is on the n-th weekday of the issue's month
(« premier mardi »); the deadline is ``tombee`` days before the send, the reminder
``rappel`` days before the deadline. A send not signed off is tried again each day for
``envoi_fenetre`` days. The « relance des silencieux » (``relance_apres`` set) falls
midway between the call (or the opening of the cycle, without a call) and the reminder (or
the deadline, without a reminder): after the call everybody got, with time left to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from ..models import Month
from ..settings import Calendar


@dataclass(frozen=True)
class Cycle:
    """The dates of one issue, each an aware datetime in UTC."""

    month: Month
    opens: date                   # first day of the cycle, local
    call: datetime | None         # appel de nouvelles (None: no call)
    reminder: datetime | None     # rappel (None: no reminder)
    deadline: datetime            # date de tombée
    attempts: tuple[datetime, ...]  # the send, then one retry a day within the window
    relance: datetime | None = None  # relance des silencieux (None: relance_apres = 0)

    @property
    def send(self) -> datetime:
        return self.attempts[0]


def local_moment(day: date, hour: time, tz: tzinfo) -> datetime:
    """Return ``day`` at ``hour`` in ``tz``, in UTC.

    An hour that happens twice (the night of November's change) is its first occurrence;
    an hour that does not exist (the night of March's) is read with the offset before the
    change, so 2 h 30 becomes 3 h 30: a daily step still runs once that day.
    """
    return datetime.combine(day, hour, tzinfo=tz).astimezone(UTC)


def send_day(calendar: Calendar, month: str) -> date:
    """Return the day of the send: the n-th ``envoi_jour`` of ``month`` (« premier mardi »)."""
    first = Month(month).first_day
    offset = (calendar.weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (calendar.envoi_semaine - 1))


def cycle(calendar: Calendar, month: str, tz: tzinfo) -> Cycle:
    """Compute the dates of the issue of ``month`` (which must be an issue month)."""
    month = Month(month)
    opens = month
    for _ in range(calendar.months_per_issue):
        opens = opens.previous()
    send = send_day(calendar, month)
    deadline_day = send - timedelta(days=calendar.tombee)
    reminder_day = deadline_day - timedelta(days=calendar.rappel)
    call_day = opens.first_day + timedelta(days=calendar.appel - 1)
    start = call_day if calendar.appel else opens.first_day
    end = reminder_day if calendar.rappel and calendar.appel else deadline_day
    relance_day = start + timedelta(days=(end - start).days // 2) if end > start else None
    return Cycle(
        month=month, opens=opens.first_day,
        call=local_moment(call_day, calendar.heure, tz) if calendar.appel else None,
        reminder=(local_moment(reminder_day, calendar.heure, tz)
                  if calendar.rappel and calendar.appel else None),
        deadline=local_moment(deadline_day, calendar.heure, tz),
        attempts=tuple(local_moment(send + timedelta(days=n), calendar.envoi_heure, tz)
                       for n in range(calendar.envoi_fenetre + 1)),
        relance=(local_moment(relance_day, calendar.heure, tz)
                 if calendar.relance_apres and relance_day else None))


def issue_months(calendar: Calendar, start: str) -> Iterator[Month]:
    """Yield the issue months from ``start`` on (included when it is one), without end."""
    month = Month(start)
    while True:
        if calendar.is_issue_month(month):
            yield month
        month = month.next()


def issue_for(calendar: Calendar, month: str) -> Month:
    """Return the first issue month from ``month`` on (itself in a monthly calendar)."""
    return next(issue_months(calendar, month))

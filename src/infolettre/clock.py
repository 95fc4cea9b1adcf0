"""The one clock: every reading of the current date and time goes through a ``Clock``.

Time is an input like any other. The front doors (command line, scheduler, review app)
create the system clock once and pass it down; every stage that needs « now » receives it,
so a test sets the date by handing in a ``FixedClock`` and the suite never depends on the
day it runs (``.ci/run`` also runs it under Debian's ``faketime`` at far-off dates). A test
(``tests/test_clock.py``) checks that no other module reads the system clock.

Durations (timeouts, rate limits) use ``time.monotonic`` directly: they measure intervals,
not dates, and nothing a person reads depends on them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo


class Clock:
    """The system clock: aware datetimes in UTC, converted to a zone on request."""

    def now(self) -> datetime:
        """Return the current moment, aware, in UTC."""
        return datetime.now(UTC)

    def local(self, tz: tzinfo) -> datetime:
        """Return the current moment in ``tz`` (the bulletin's zone, usually)."""
        return self.now().astimezone(tz)

    def today(self, tz: tzinfo) -> date:
        """Return today's date in ``tz`` (a day starts at midnight in Québec, not in UTC)."""
        return self.local(tz).date()


class FixedClock(Clock):
    """A clock that shows a chosen moment until told to move (tests, replays)."""

    def __init__(self, moment: datetime):
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime (with its time zone)")
        self.moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward (``advance(days=1)``); return the new moment."""
        self.moment += timedelta(**delta)
        return self.moment


#: The clock of the real world, created once; front doors pass it down explicitly.
SYSTEM_CLOCK = Clock()

"""Which issue a submission goes to: the earliest one not signed off yet.

An item received by mail or from a feed joins the issue still being prepared: the month of
reception itself while that issue is not signed off (mail of 4 December, December not
approved yet: December), else the first later month not signed off (December approved on
3 December: mail of the 4th goes to January). Once signed off, an issue only changes by a
new approval, so new items wait for the next one; and an issue whose month has not come
yet is never skipped for a later one.

``target_month`` is the rule, pure (tests and callers give the signed-off months);
``open_issue`` reads those months from the state database. Mail intake and the feed watch
both call ``open_issue``: one rule, one place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from datetime import date, datetime, tzinfo


def month_of(day: date) -> str:
    """``date(2026, 12, 4)`` → ``2026-12``."""
    return f"{day.year:04d}-{day.month:02d}"


def next_month(month: str) -> str:
    """``2026-12`` → ``2027-01``."""
    year, mon = (int(p) for p in month.split("-"))
    return f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"


def month_before(month: str) -> str:
    """``2027-01`` → ``2026-12``."""
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"


def target_month(received: date, signed: Collection[str]) -> str:
    """Return the issue an item received on ``received`` goes to.

    The earliest month from the month of reception on that is not in ``signed`` (the months
    whose issue has been signed off): the issue still open for new items.
    """
    month = month_of(received)
    while month in signed:
        month = next_month(month)
    return month


def open_issue(conn: sqlite3.Connection, received: datetime, tz: tzinfo) -> str:
    """Return the issue an item received at ``received`` goes to (``target_month``).

    The day of reception is taken in the bulletin's time zone ``tz``: mail of 31 December
    at 23:30 in Québec belongs to December, whatever the UTC date.
    """
    from .signoff import SignoffStore  # signoff renders dates: import it only when needed

    day = received.astimezone(tz).date() if received.tzinfo else received.date()
    return target_month(day, SignoffStore(conn).signed_months(since=month_of(day)))

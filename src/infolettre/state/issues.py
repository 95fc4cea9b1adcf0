"""Which issue a submission goes to: the earliest one not signed off yet.

An item received by mail or from a feed joins the issue still being prepared: the month of
reception itself while that issue is not signed off and has its folder in ``content/``
(mail of 4 December, December not approved yet: December), else the first later month not
signed off (December approved on 3 December: mail of the 4th goes to January). Once signed
off, an issue only changes by a new approval, so new items wait for the next one; and an
issue whose month has not come yet is never skipped for a later one.

``target_month`` is the rule, pure (tests and callers give the signed-off months);
``open_issue`` reads those months from the state (sign-offs and send records). Mail intake
and the feed watch both call ``open_issue``: one rule, one place. ``previous_cutoff`` says
from when an entry is news for an issue (the feed watch skips older ones).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from ..models import Month
from .sendrecords import started_months
from .signatures import SignoffStore

if TYPE_CHECKING:
    from ..settings import Settings


def target_month(received: date, closed: Collection[str], *,
                 prepared: Callable[[str], bool] = lambda month: True,
                 is_issue: Callable[[str], bool] = lambda month: True) -> Month:
    """Return the issue an item received on ``received`` goes to.

    ``closed`` are the months whose issue was signed off or whose sending started. The month
    of reception itself is taken only while it is open *and* being prepared (``prepared``:
    its folder exists in ``content/``): on a new installation, mail of 24 November goes to
    December, not to a November issue nobody is making. Later months are taken as soon as
    they are open: an issue whose month has not come yet is never skipped for a later one.
    Months without an issue (``is_issue``: every other month in a bimonthly calendar) are
    skipped: news of February go to March.
    """
    month = Month.of(received)
    if month in closed or not prepared(month) or not is_issue(month):
        month = month.next()
    while month in closed or not is_issue(month):
        month = month.next()
    return month


def open_issue(conn: sqlite3.Connection, received: datetime, settings: Settings) -> Month:
    """Return the issue an item received at ``received`` goes to (``target_month``).

    The day of reception is taken in the bulletin's time zone: mail of 31 December at 23:30
    in Québec belongs to December, whatever the UTC date. Closed months come from the
    sign-offs and from the records of sendings started (``deliver.started``), which survive
    the loss of the database: an item never joins an issue already (partly) sent.
    """
    tz = settings.identity.timezone
    day = received.astimezone(tz).date() if received.tzinfo else received.date()
    closed = SignoffStore(conn).signed_months(since=Month.of(day)) | started_months(
        settings.paths.donnees)
    content = settings.paths.contenu
    return target_month(day, closed, prepared=lambda month: (content / month).is_dir(),
                        is_issue=settings.calendar.is_issue_month)


def previous_cutoff(conn: sqlite3.Connection, month: str, settings: Settings) -> datetime:
    """Return the moment before which an entry belongs to an earlier issue than ``month``.

    The first approval of the previous issue (what was published by then was gathered for
    it), else that issue's first day: entries from before are old news, not proposed.
    """
    previous = Month(month).previous()
    history = SignoffStore(conn).history(previous)
    if history:
        return history[0].signed_at.astimezone(UTC)
    first = datetime(previous.year, previous.number, 1, tzinfo=settings.identity.timezone)
    return first.astimezone(UTC)

"""The iCalendar files of the site (RFC 5545): upcoming events, whole or per territory.

People subscribe to these from their calendar application, which fetches them again every
day and matches events by UID. So, like the feeds, a calendar is a pure function of the
``Site``: a UID is made of the item's month and file name only, DTSTAMP and LAST-MODIFIED
are the item's own times (not the clock), and a file generated twice from the same items
holds the same bytes. The only use of « now » (``site.generated_at``) is to leave out what
is over, by the same rule as an issue's agenda (organize's ``expired``: an event stays
through the day it ends).

Choices a reader of the file should know:

* Times are written with the bulletin's zone (``[infolettre] fuseau``) and a VTIMEZONE for
  it, so an application abroad or with another zone shows the right hour.
* An all-day event (no time, no end) is a DATE, its DTEND the next day (exclusive); an event
  given as days only (« du 5 au 7 ») covers those days whole.
* A timed event without an end gets no DTEND: RFC 5545 then says it takes no time, which is
  what the organizer told us. Inventing « one hour » would put a false end in people's
  calendars.
* Calls for projects still open are there too, as all-day events on their deadline
  (« Date limite : … », free time, UID suffix « -echeance »): a deadline is a date a team
  plans for, and the calendar is where it plans.
* SEQUENCE is 0 until a correction is published, then the minutes between the first
  publication and the last correction: it grows with every correction, as RFC 5545 asks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Calendar, Event, Timezone, vDuration

from ..i18n import _
from ..models import AGENDA, FUNDING, safe_link
from ..organize import expired
from ..render.text import markdown_to_text
from ..settings import Settings
from . import entries
from .model import PublishedItem, Site

PRODID = "-//infolettre//Agenda du bulletin//FR"
#: How often subscribed applications should fetch again (RFC 7986 and its older X- name).
REFRESH = timedelta(days=1)
#: The UID suffix of a call's deadline, so it never takes an event's UID.
DEADLINE = "-echeance"


def calendar_file(site: Site, settings: Settings, territory: str | None = None) -> bytes:
    """Return the calendar of upcoming events and open calls (one territory's, or all)."""
    entries.check_territory(settings, territory)
    zone = settings.identity.timezone
    today = site.generated_at.astimezone(zone).date()
    chosen = [p for p in entries.selection(site, territory)
              if p.item.rubrique in (AGENDA, FUNDING) and not expired(p.item, today)]
    events = [_agenda_event(site, settings, p) for p in chosen
              if p.item.rubrique == AGENDA and p.item.evenement]
    events += [_deadline_event(site, settings, p) for p in chosen
               if p.item.rubrique == FUNDING and p.item.echeance]
    events.sort(key=_order)
    calendar = _calendar(settings, territory)
    calendar.add_component(_timezone(settings, site, events))
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def _calendar(settings: Settings, territory: str | None) -> Calendar:
    """The VCALENDAR itself: no random UID (``Calendar.new`` would draw one each time)."""
    calendar = Calendar()
    name = entries.feed_title(settings, territory)
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", entries.clean(name))
    calendar.add("x-wr-calname", entries.clean(name))
    calendar.add("x-wr-timezone", settings.identity.fuseau)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _timezone(settings: Settings, site: Site, events: list[Event]) -> Timezone:
    """The VTIMEZONE of the bulletin's zone, over the years the file needs.

    Always present (X-WR-TIMEZONE names it); its range comes from the events, or from the
    newest issue when there is none (an empty site: its generation), never from the clock
    otherwise, so it stays the same bytes.
    """
    days = [_day(e.get("dtstart").dt) for e in events]
    days += [_day(e.get("dtend").dt) for e in events if e.get("dtend")]
    anchor = (date.fromisoformat(f"{site.issues[0].month}-01") if site.issues
              else site.generated_at.date())
    first = min(days, default=anchor)
    last = max(days, default=anchor)
    return Timezone.from_tzid(settings.identity.fuseau, first_date=date(first.year, 1, 1),
                              last_date=date(last.year + 2, 1, 1))


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _agenda_event(site: Site, settings: Settings, published: PublishedItem) -> Event:
    """One agenda item as a VEVENT: its times, its place, its text and its page."""
    item = published.item
    event = _event(site, settings, published, "", item.titre)
    start, end = _times(published, settings)
    event.add("dtstart", start)
    if end is not None:
        event.add("dtend", end)
    if item.evenement.lieu:
        event.add("location", entries.clean(item.evenement.lieu))
    return event


def _deadline_event(site: Site, settings: Settings, published: PublishedItem) -> Event:
    """A call's deadline as an all-day VEVENT that leaves the day free (TRANSPARENT)."""
    item = published.item
    title = _("Date limite : {titre}").format(titre=item.titre)
    event = _event(site, settings, published, DEADLINE, title)
    event.add("dtstart", item.echeance)
    event.add("dtend", item.echeance + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    return event


def _times(published: PublishedItem, settings: Settings) -> tuple[date | datetime,
                                                                   date | datetime | None]:
    """DTSTART and DTEND of an agenda item (see the module's choices)."""
    zone = settings.identity.timezone
    happening = published.item.evenement
    start = happening.debut.astimezone(zone)
    end = happening.fin.astimezone(zone) if happening.fin else None
    if happening.all_day:
        return start.date(), start.date() + timedelta(days=1)
    if _midnight(start) and end is not None and _midnight(end):
        return start.date(), end.date() + timedelta(days=1)  # « du 5 au 7 »: days whole
    return start, end


def _midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second) == (0, 0, 0)


def _event(site: Site, settings: Settings, published: PublishedItem, suffix: str,
           summary: str) -> Event:
    """What every VEVENT has: UID, stamps, sequence, title, text, page, categories."""
    item = published.item
    event = Event()
    event.add("uid", entries.event_uid(site, published, suffix))
    event.add("dtstamp", entries.utc(published.updated_at))
    event.add("created", entries.utc(published.published_at))
    event.add("last-modified", entries.utc(published.updated_at))
    event.add("sequence", sequence(published))
    event.add("summary", entries.clean(summary))
    event.add("description", entries.clean(description(site, published)))
    event.add("url", entries.item_url(site, published), parameters={"VALUE": "URI"})
    event.add("categories", [entries.clean(settings.rubriques.get(item.rubrique, item.rubrique)),
                             entries.clean(entries.territory_label(settings, item.territoire))])
    return event


def sequence(published: PublishedItem) -> int:
    """0 until corrected, then the minutes from first publication to the last correction."""
    if not published.corrected:
        return 0
    minutes = int((published.updated_at - published.published_at).total_seconds() // 60)
    return max(minutes, 1)


def description(site: Site, published: PublishedItem) -> str:
    """The event's text: who, the body as plain text, the item's link and its page."""
    item = published.item
    parts = [item.organisme, markdown_to_text(item.corps, None)]
    link = safe_link(item.lien)
    if link:
        parts.append(f"{_('En savoir plus :')} {link}")
    parts.append(_("Dans le bulletin : {url}").format(url=entries.item_url(site, published)))
    return "\n\n".join(p for p in parts if p)


def _order(event: Event) -> tuple:
    """Start first (a date as its midnight), then title and UID: a stable file."""
    start = event.get("dtstart").dt
    key = start.replace(tzinfo=None) if isinstance(start, datetime) else \
        datetime(start.year, start.month, start.day)
    return key, str(event.get("summary")).casefold(), str(event.get("uid"))

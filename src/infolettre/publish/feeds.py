"""Every feed and calendar file of the site, by its path: what ``publish`` writes beside pages.

One Atom feed and one calendar for the whole network, and one of each per territory of the
configuration (even a territory with nothing yet: a municipal site that subscribed before
its first item must find the file, not a 404). Paths come from ``permalinks``, as the pages
that link to them.
"""

from __future__ import annotations

from .. import permalinks
from ..settings import Settings
from .atom import atom_feed
from .ical import calendar_file
from .model import Site


def feed_files(site: Site, settings: Settings) -> dict[str, bytes]:
    """Return {path in the site: bytes} for every Atom feed and iCalendar file."""
    files = {permalinks.atom_feed(None): atom_feed(site, settings),
             permalinks.calendar(None): calendar_file(site, settings)}
    for territory in settings.territories:
        files[permalinks.atom_feed(territory)] = atom_feed(site, settings, territory)
        files[permalinks.calendar(territory)] = calendar_file(site, settings, territory)
    return files

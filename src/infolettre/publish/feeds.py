"""The site's feeds and calendars (Atom, iCalendar), network-wide and per territory.

Placeholder of the « site » branch: the feeds helper writes the real module (same
signature); the integrator takes that file at the merge. Until then the site has no feed,
and its pages link none (``publish.site`` links a feed only when this returns it).
"""

from __future__ import annotations

from ..settings import Settings
from .model import Site


def feed_files(site: Site, settings: Settings) -> dict[str, bytes]:
    """Return {permalinks path: file bytes} for atom.xml, agenda.ics and each territory's
    feed and calendar. Replaced by the feeds helper's module: returns none here."""
    del site, settings
    return {}

"""What the fetching loop must not spend its time on (the feed watch is bound by CPU)."""

from __future__ import annotations

import importlib.abc
import sys

from infolettre.gather.feeds.fetch import fetch_many
from infolettre.gather.feeds.model import FetchPolicy, FetchRequest

from . import feedserver
from .feedserver import feed, rss

feed_server = feedserver.feed_server

POLICY = FetchPolicy(user_agent="infolettre-tests/1.0", connect_timeout=2, read_timeout=2,
                     total_timeout=5)


class _Searches(importlib.abc.MetaPathFinder):
    """Record every module the import system has to look for (it finds none itself)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name, path, target=None):
        self.names.append(name)
        return None


def test_no_module_is_searched_for_while_fetching(feed_server):
    """httpcore imports sniffio for every lock it sets up (~6 per request): when it is not
    installed, each of those imports searches all of sys.path again (~25 % of the loop's
    CPU). The project depends on sniffio for that: reinstall the dependencies
    (scripts/setup) if this fails."""
    urls = [feed_server.route(f"/c{n}.xml", feed(rss(1), etag=f'"{n}"')) for n in range(6)]
    fetch_many([FetchRequest(urls[0])], POLICY)  # what is imported once is imported now
    searches = _Searches()
    sys.meta_path.insert(0, searches)
    try:
        results = fetch_many([FetchRequest(u) for u in urls], POLICY)
    finally:
        sys.meta_path.remove(searches)
    assert all(r.ok for r in results)
    assert searches.names == []

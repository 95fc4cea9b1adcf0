"""Many feeds: fetched on a real loopback server and parsed in worker processes as they
arrive (``gather/feeds/read``), in the order asked, even when a worker dies."""

from __future__ import annotations

import os

from infolettre.gather.feeds import read
from infolettre.gather.feeds.model import FetchPolicy, FetchRequest
from infolettre.gather.feeds.read import PARALLEL_FROM, read_feeds

from . import feedserver
from .feedserver import feed, rss, status

feed_server = feedserver.feed_server

POLICY = FetchPolicy(user_agent="infolettre-tests/1.0", connect_timeout=2, read_timeout=2,
                     total_timeout=5)
COUNT = PARALLEL_FROM + 5  # enough for the worker processes


def _routes(server) -> list[str]:
    urls = []
    for n in range(COUNT):
        if n == 3:
            urls.append(server.route(f"/f{n}.xml", status(500)))
        else:
            urls.append(server.route(f"/f{n}.xml", feed(rss(2, title=f"Organisme {n}"),
                                                        etag=f'"{n}"')))
    return urls


def test_many_feeds_are_parsed_in_workers_in_the_order_asked(feed_server):
    urls = _routes(feed_server)
    results = read_feeds([FetchRequest(u) for u in urls], POLICY)
    assert [answer.url for answer, _ in results] == urls
    for n, (answer, parsed) in enumerate(results):
        if n == 3:
            assert not answer.ok and parsed is None and "500" in answer.error
            continue
        assert parsed is not None and not parsed.problem, parsed
        assert [e.titre for e in parsed.entries][0].startswith(f"Organisme {n} — ")


PARENT, REAL_PARSE = os.getpid(), read.parse_feed


def _dying_in_a_worker(body, headers, url):
    """Kill the worker process that runs it; parse normally in the test's own process."""
    if os.getpid() != PARENT:
        os._exit(1)
    return REAL_PARSE(body, headers, url)


def test_a_dead_worker_loses_no_feed(feed_server, monkeypatch):
    """A worker killed mid-run (out of memory, a crash in a C library): its feeds and all
    those after it are parsed in the main process instead."""
    urls = _routes(feed_server)
    monkeypatch.setattr(read, "parse_feed", _dying_in_a_worker)
    results = read_feeds([FetchRequest(u) for u in urls], POLICY)
    parsed = [p for _, p in results if p is not None]
    assert len(parsed) == COUNT - 1
    assert all(p.entries and not p.problem for p in parsed)


def test_without_workers_parsing_stays_here(feed_server, monkeypatch):
    monkeypatch.setattr(read, "_workers", lambda: None)
    urls = _routes(feed_server)
    results = read_feeds([FetchRequest(u) for u in urls], POLICY)
    assert sum(p is not None and len(p.entries) == 2 for _, p in results) == COUNT - 1

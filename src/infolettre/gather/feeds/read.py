"""Fetch every feed and parse each answer, with both cores busy when there are many.

Parsing is pure Python (``parse_feed``: ~7.5 ms of CPU for a 15 KB feed of 20 entries,
half feedparser, half our cleaning; the loop spends ~2 ms per request): parsing on the event
loop that fetches would stall the fetches, and a thread would not help (the GIL). So with
many feeds each answer goes, as soon as it arrives, to a pool of worker processes (one per
core) that parse it while the loop keeps fetching; with a few feeds, starting processes
costs more than it saves and answers are parsed after the fetch. Either way the result is
the same list, in the order asked. Sending a feed there and its entries back costs ~0.1 ms
(pickling); the rest is CPU the loop and the workers share, which bounds the whole.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .fetch import fetch_many
from .model import Fetched, FetchPolicy, FetchRequest, ParsedFeed
from .parse import parse_feed

#: From this many feeds on, answers are parsed in a worker process while fetching goes on.
PARALLEL_FROM = 20


def _cores() -> int:
    """Cores this process may run on (a container or ``taskset`` may allow fewer than exist)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


#: Worker processes parsing answers (the fetching loop itself needs little CPU).
WORKERS = max(1, min(4, _cores()))

Fetch = Callable[..., list[Fetched]]


def read_feeds(requests: Sequence[FetchRequest], policy: FetchPolicy, *,
               fetch: Fetch = fetch_many) -> list[tuple[Fetched, ParsedFeed | None]]:
    """Return each request's answer with its parsed feed (None when there is no body)."""
    pool = _workers() if len(requests) >= PARALLEL_FROM else None
    if pool is None:
        return [(answer, _parse(answer) if answer.ok else None)
                for answer in fetch(requests, policy)]
    with pool:
        parsing: dict[str, Future] = {}

        def on_result(answer: Fetched) -> None:
            if answer.ok:
                try:
                    parsing[answer.url] = pool.submit(parse_feed, answer.body, answer.headers,
                                                      answer.final_url or answer.url)
                except BrokenProcessPool:  # a worker died: this one is parsed here, later
                    pass

        answers = fetch(requests, policy, on_result=on_result)
        return [(answer, _collect(parsing.get(answer.url), answer) if answer.ok else None)
                for answer in answers]


def _workers() -> ProcessPoolExecutor | None:
    """Start the parsing processes, or return None (parse in this process) if they cannot.

    They are forked now, before the fetch starts any thread (DNS lookups run in threads),
    and fork needs no import-safe main module (a user's script, the scheduler). Where fork
    does not exist, or the workers fail to start, parsing simply stays here.
    """
    try:
        pool = ProcessPoolExecutor(max_workers=WORKERS,
                                   mp_context=multiprocessing.get_context("fork"))
    except ValueError:  # no fork on this system
        return None
    try:
        pool.submit(int).result()  # every worker is started (fork starts them all at once)
    except (BrokenProcessPool, OSError):
        pool.shutdown(wait=False, cancel_futures=True)
        return None
    return pool


def _parse(answer: Fetched) -> ParsedFeed:
    return parse_feed(answer.body, answer.headers, answer.final_url or answer.url)


def _collect(future: Future | None, answer: Fetched) -> ParsedFeed:
    """Take the worker's result; parse here if the worker died (never lose a feed).

    ``parse_feed`` itself never raises: an exception here is the pool's (a dead worker, a
    result that could not travel back), so parsing again in this process is the answer.
    """
    if future is None:
        return _parse(answer)
    try:
        return future.result()
    except Exception:  # noqa: BLE001 - BrokenProcessPool, pickling errors: parse here
        return _parse(answer)

"""Benchmark: the feed watch's fetch (+ parse) against a sequential ``feedparser.parse(url)``.

Run from the repository root:

    .venv/bin/python bench/feeds.py                    # or /tmp/probe/bin/python bench/feeds.py
    .venv/bin/python bench/feeds.py --feeds 200 --delay 0.2 --addresses 100

``--feeds`` realistic RSS 2.0 feeds (20 entries, about 15 KB, French text, HTML bodies,
an enclosure each: a real 800×450 JPEG on the same site; ``tests.feedserver.serve_feeds``)
are served by ``tests/feedserver.py`` in a
CHILD process (so the server's threads do not share our GIL), spread over ``--addresses``
loopback addresses 127.0.0.2… (on Linux all of 127.0.0.0/8 is loopback): with 200 feeds
over 100 addresses, two feeds per « site », so the per-host limit of 2 is the real one.
Every feed answers after ``--delay`` seconds (a sleep before the status line), as a small
organization's shared hosting does.

In one run, one after the other, over the same URLs:

(a) **ours**: ``ours(urls)`` — our fetch and parse stages, ``read_feeds`` with the default
    ``FetchPolicy`` (50 requests in flight, 2 per host; ``--concurrent`` overrides the
    first): answers parsed by ``parse_feed`` (feedparser, then nh3 and Markdown for every
    entry) in worker processes (one per core) as they arrive;
(b) **sequential**: ``feedparser.parse(url)`` in a loop (urllib, one connection per feed),
    what a simple script does.

(c) the whole ``infolettre gather feeds`` (``gather_feeds``) in a throwaway project watching
    the same feeds: the first run writes every entry as an item (4,000 for 200 feeds, each
    file fsynced, with its image fetched once per URL, checked and resized by Pillow), the
    second finds every feed unchanged (304) — for the record, not part of the ratio (the
    loop (b) writes nothing).

(a) and (b) must read every feed with all its entries, or the run says so. With ``N`` feeds at
``d`` seconds each and ``C`` requests in flight, (a) cannot take less than about
``ceil(N / C) × d`` and (b) not less than ``N × d``: the ratio is bounded by about ``C``.
Nothing here asserts a duration; the ratio is the result.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO / "src"), str(REPO)):  # runnable without an editable install
    if entry not in sys.path:
        sys.path.insert(0, entry)

import feedparser
import httpx

from infolettre.gather.feeds.model import FetchPolicy, FetchRequest
from infolettre.gather.feeds.read import read_feeds

USER_AGENT = "infolettre-bench/1.0 (+https://example.org)"
ENTRIES = 20


# --- the contenders ---------------------------------------------------------------------

def ours(urls: Sequence[str], policy: FetchPolicy | None = None) -> int:
    """Our fetch and parse stages (``read_feeds``): entries read and cleaned.

    The same work as the sequential loop — every feed fetched and parsed — with our parse
    stage (feedparser, then nh3 and Markdown for each entry), parsing in a worker process
    as answers arrive.
    """
    policy = policy or FetchPolicy(user_agent=USER_AGENT)
    total = 0
    for answer, parsed in read_feeds([FetchRequest(url) for url in urls], policy):
        if parsed is None or parsed.problem:
            print(f"  échec : {answer.url} — {answer.error or parsed.problem}", file=sys.stderr)
            continue
        total += len(parsed.entries)
    return total


def whole_run(urls: Sequence[str], concurrent: int) -> tuple[float, int, float, int]:
    """``gather_feeds`` in a throwaway project watching every URL: first run, then again.

    The first run writes every entry as an item (durably: fsync per file); the second finds
    every feed unchanged (304). Returns (seconds, items) for each.
    """
    from infolettre.clock import FixedClock
    from infolettre.pipeline import gather_feeds
    from infolettre.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        text = (REPO / "infolettre.toml").read_text(encoding="utf-8").replace(
            'gabarits = "templates"', f'gabarits = "{(REPO / "templates").as_posix()}"')
        text += "".join(f'\n[[flux]]\nurl = "{url}"\nnom = "Organisme {n}"\n'
                        f'rubrique = "nouvelles"\n' for n, url in enumerate(urls))
        # the images are served on loopback, which feeds may not point at by default
        text += f"\n[veille]\nsimultanes = {concurrent}\nimages_reseau_local = true\n"
        (root / "infolettre.toml").write_text(text, encoding="utf-8")
        settings = load_settings(root / "infolettre.toml")
        # the feeds' entries are of October 2026
        clock = FixedClock(datetime(2026, 10, 15, tzinfo=UTC))
        first_s, first = timed(lambda: sum(len(o.written) for o in
                                           gather_feeds(settings, clock=clock).outcomes))
        again_s, again = timed(lambda: sum(o.status == "inchange" for o in
                                           gather_feeds(settings, clock=clock).outcomes))
    return first_s, first, again_s, again


def sequential(urls: Sequence[str]) -> int:
    """``feedparser.parse(url)`` one URL after the other; entries read."""
    total = 0
    for url in urls:
        document = feedparser.parse(url, agent=USER_AGENT)
        if document.get("status") != 200 or document.bozo:
            print("  échec : {} — {}".format(url, document.get("bozo_exception")),
                  file=sys.stderr)
            continue
        total += len(document.entries)
    return total


# --- the server ------------------------------------------------------------------------

class Server:
    """``tests/feedserver.py`` in a child process: the URLs, then its counters at the end."""

    def __init__(self, feeds: int, delay: float, addresses: int) -> None:
        command = [sys.executable, "-m", "tests.feedserver", "--feeds", str(feeds),
                   "--delay", str(delay), "--addresses", str(addresses),
                   "--entries", str(ENTRIES)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
        self.process = subprocess.Popen(command, cwd=REPO, env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit("le serveur de flux n'a pas démarré")
        info = json.loads(line)
        self.urls: list[str] = info["urls"]
        self.feed_bytes: int = info["bytes"]

    def stop(self) -> dict[str, int]:
        """End the child (closing its stdin); return its request counters."""
        self.process.stdin.close()
        line = self.process.stdout.readline()
        self.process.wait(timeout=30)
        return json.loads(line) if line else {}


# --- run -------------------------------------------------------------------------------

def timed(function, *args) -> tuple[float, int]:
    started = time.perf_counter()
    entries = function(*args)
    return time.perf_counter() - started, entries


def warm_up(urls: Sequence[str]) -> None:
    """One feed each way (imports, first connection, feedparser's first parse)."""
    ours(urls[:1])
    sequential(urls[:1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.2, help="s before each answer")
    parser.add_argument("--addresses", type=int, default=100,
                        help="loopback addresses 127.0.0.2… the feeds are spread over")
    parser.add_argument("--concurrent", type=int, default=FetchPolicy("").max_concurrent,
                        help="requests in flight for (a) (FetchPolicy.max_concurrent)")
    args = parser.parse_args(argv)
    policy = FetchPolicy(user_agent=USER_AGENT, max_concurrent=args.concurrent)

    server = Server(args.feeds, args.delay, args.addresses)
    try:
        warm_up(server.urls)
        ours_s, ours_entries = timed(ours, server.urls, policy)
        seq_s, seq_entries = timed(sequential, server.urls)
        first_s, first, again_s, again = whole_run(server.urls, policy.max_concurrent)
    finally:
        stats = server.stop()

    expected = args.feeds * ENTRIES
    warm = 2  # the warm-up's requests
    floor_ours = math.ceil(args.feeds / policy.max_concurrent) * args.delay
    print(f"Veille des flux — {args.feeds} flux RSS de {server.feed_bytes / 1024:.1f} Ko "
          f"({ENTRIES} entrées), réponse après {args.delay * 1000:.0f} ms, "
          f"sur {args.addresses} adresses de bouclage")
    print(f"Python {platform.python_version()}, httpx {httpx.__version__}, "
          f"feedparser {feedparser.__version__}, {os.cpu_count()} cœurs")
    print()
    print(f"  (a) nôtre   fetch_many + analyse : {ours_s:7.2f} s   "
          f"{ours_entries:5d}/{expected} entrées   (plancher ≈ {floor_ours:.1f} s : "
          f"{policy.max_concurrent} en vol, {policy.per_host} par site)")
    print(f"  (b) simple  feedparser.parse(url) : {seq_s:7.2f} s   "
          f"{seq_entries:5d}/{expected} entrées   (plancher ≈ {args.feeds * args.delay:.1f} s)")
    print()
    print(f"  rapport (b)/(a) : {seq_s / ours_s:.1f}×   "
          f"(borne ≈ {(args.feeds * args.delay) / floor_ours:.0f}×, objectif ≥ 30×)")
    print()
    print(f"  (c) infolettre gather feeds, 1er passage : {first_s:7.2f} s   "
          f"{first} nouvelles écrites ({first_s / max(first, 1) * 1000:.1f} ms chacune, "
          f"fetch et analyse compris)")
    print(f"      2e passage (flux inchangés)          : {again_s:7.2f} s   "
          f"{again}/{args.feeds} réponses 304")
    if stats:
        print("  serveur : {} requêtes (dont {} d'échauffement), au plus {} en même temps, "
              "au plus {} par site".format(stats["requests"], warm, stats["max_in_flight"],
                                           stats["max_per_host"]))
    complete = ours_entries == expected and seq_entries == expected
    if not complete:
        print("  ATTENTION : des flux n'ont pas été lus en entier (voir ci-dessus)")
    print(f"RATIO feeds_sequential_over_ours {seq_s / ours_s:.1f}")
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())

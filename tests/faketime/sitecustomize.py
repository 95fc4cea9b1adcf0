"""Loaded only when ``scripts/test`` runs the suite under Debian's ``faketime``.

libfaketime 0.9.10 (Debian 12) has two bugs that have nothing to do with our code:
- with the monotonic clock faked too (its default), a timed wait on a lock or condition
  (``threading.Event.wait(timeout)``) computes its deadline years ahead and never returns;
- with ``FAKETIME_DONT_FAKE_MONOTONIC=1`` (what ``scripts/test`` sets), its wrapper of
  ``clock_nanosleep(TIMER_ABSTIME)`` shifts the deadline by the fake offset and Python's
  ``time.sleep`` fails with EINVAL.
So the wall clock alone is faked, and ``time.sleep`` waits with ``select`` instead, in every
Python process of the run (tests start some: killed senders, the CLI).
"""

import select
import time


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep

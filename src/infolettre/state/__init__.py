"""The operational state: everything the pipeline must remember between runs, and the lock.

The foundation every stage stands on, importing no stage:
- ``database``: the one way to open the SQLite state (WAL, 0600, read-only for readers,
  corruption named) and each component's migrations;
- ``journal``: append-only, fsynced journals beside it (unsubscribes), which outlive it;
- ``sendrecords``: the record, beside it too, that an issue's sending started;
- ``signatures``: the table of sign-offs (the review stage decides; this keeps the rows);
- ``publications``: what the web archive published (each item's snapshot and dates);
- ``issues``: which issue is open for new items, from the sign-offs and the send records;
- ``runlock``: one run at a time per data folder.
"""

from .database import (FILE_NAME, MissingState, StateConnection, component_version, connect,
                       corruption_error, is_corruption, migrate, state_file)

__all__ = ["FILE_NAME", "MissingState", "StateConnection", "component_version", "connect",
           "corruption_error", "is_corruption", "migrate", "state_file"]

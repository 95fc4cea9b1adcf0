"""When each step of the monthly cycle happens: dates computed from ``[calendrier]``, pure.

- ``cycle``: one issue's dates (call for news, reminder, deadline, send and its retries),
  and which months have an issue (monthly or every other month);
- ``steps``: the steps the scheduler runs, their grace after a missed time, and their
  occurrences between two moments (the scheduler's triggers, ``--prochaines``, the review
  app's « Prochaines étapes »).

Nothing here reads a clock or a file: the moment is always given. Times are computed in
the bulletin's zone (America/Toronto) and returned in UTC, so a step set at 9 h stays at
9 h across the changes of time, and a time that happens twice (1 h 30 in November) runs
once.
"""

from .cycle import Cycle, cycle, issue_for, issue_months, local_moment, send_day
from .steps import STEPS, Occurrence, Step, due, enabled_steps, next_after, occurrences, upcoming

__all__ = ["Cycle", "cycle", "issue_for", "issue_months", "local_moment", "send_day", "STEPS",
           "Occurrence", "Step", "due", "enabled_steps", "next_after", "occurrences", "upcoming"]

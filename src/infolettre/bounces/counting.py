"""The rules that suspend an address, per issue and never per day (pure).

Mailman forgets a bounce after a week, so on a monthly list its score never reaches the
threshold; counting per day would suspend someone for a server down one weekend. Here an
address's history is its issues in order, each one:

- with a hard bounce (``definitif``: 5.x.x but 5.7.x, or a 5xx answer in the ledger): the
  address is suspended at once;
- with a soft bounce only (``temporaire``): one more issue in a row; ``in_a_row`` of them
  (``[rebonds] temporaires_de_suite``, 3) suspend it;
- delivered (the ledger says sent) with no counted bounce: the count starts again at 0;
- with only bounces « à vérifier » (5.7.x policy, spam, unknown): neither counts nor resets.

Cancelled records (the address was reactivated) do not count: after a reactivation the
count starts from the next issue. The whole history is read again at each run, so a bounce
that arrives days after its issue still counts for that issue, in its place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .model import Kind

HARD, SOFT = Kind.HARD.value, Kind.SOFT.value
ACTIVE = "actif"


@dataclass(frozen=True)
class Decision:
    """Why an address is suspended: ``definitif`` or ``temporaires``, the issue that decided
    it, and the server's words."""

    reason: str
    month: str
    diagnostic: str = ""


def decide(delivered: Iterable[str], records: Iterable[Any], in_a_row: int) -> Decision | None:
    """Return the suspension an address's history calls for, or None.

    ``delivered``: the issues (« AAAA-MM ») the ledger says were delivered to it;
    ``records``: its bounce records (``state.bounces.BounceRecord``: month, kind, status).
    """
    counted: dict[str, list[Any]] = {}
    reviewed: set[str] = set()  # refused for a policy: not delivered, not counted either
    for record in records:
        if getattr(record, "status", ACTIVE) != ACTIVE:
            continue
        if record.kind in (HARD, SOFT):
            counted.setdefault(record.month, []).append(record)
        else:
            reviewed.add(record.month)
    delivered = set(delivered)
    streak = 0
    for month in sorted(delivered | set(counted)):
        found = counted.get(month, [])
        hard = [r for r in found if r.kind == HARD]
        if hard:
            return Decision(HARD, month, hard[0].diagnostic)
        if found:
            streak += 1
            if streak >= in_a_row:
                return Decision("temporaires", month, found[0].diagnostic)
        elif month in delivered and month not in reviewed:
            streak = 0
    return None

"""What happened during a run, as signals: side effects subscribe instead of being called.

A source says what it did (an item was written) and knows nothing of what follows; whatever
must follow (the acknowledgment to the sender, and whatever comes next) subscribes to the
signal (blinker, as Pelican does). A subscription is made for one run and one project —
``signal.connected_to(receiver, sender=settings)`` in a ``with`` — so nothing stays
connected after the run, and two projects in one process never hear each other.

Each signal is sent with the project's ``Settings`` as its sender and keyword arguments
named in its doc. A receiver may return a mapping of fields of the result to set (what it
did, for the report); the sender of the signal merges them (``changes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from blinker import Namespace

_signals = Namespace()

item_written = _signals.signal("item-written", doc="""An emailed submission became an item file.

Sent by the mail intake (``gather.intake``) once the item is written and the message
recorded as seen, before the message is filed. Keyword arguments: ``raw`` (the message's
bytes), ``result`` (its ``IntakeResult``: path, title, held, late dates), ``conn`` (the state
database of the run), ``clock``. Receivers may return changes of the result (the
acknowledgment: ``ack_sent``, ``ack_problem``).""")

item_reviewed = _signals.signal("item-reviewed", doc="""A reviewer acted on an item.

Sent by ``pipeline.review`` once the item file is written and the action recorded in the
review journal (``state.audit``). Keyword arguments: ``month``, ``slug``, ``action``
(« approuve », « refuse », « modifie », « deplace »), ``by`` (the account's address),
``detail`` (the journal's detail: the reason, the fields changed, the months).""")


def changes(answers: Iterable[tuple[Any, Any]]) -> dict[str, Any]:
    """Merge the mappings the receivers of a signal returned (None and others ignored)."""
    merged: dict[str, Any] = {}
    for _receiver, answer in answers:
        if isinstance(answer, Mapping):
            merged.update(answer)
    return merged

"""Who may do what, asked in one place (every view calls ``require`` or ``can``).

A *pivot* may do everything. A *relecteur* (a local delegate) sees the issue, reads and
edits the items of their own territory and approves or refuses them; they cannot touch
another territory's items or the regional ones, nor held mail, nor sign off or send.
"""

from __future__ import annotations

from flask import abort, g

from ..state.users import User

#: Actions on one item: allowed to a relecteur for the items of their territory.
ITEM_ACTIONS = frozenset({"voir_nouvelle", "modifier_nouvelle", "approuver_nouvelle"})
#: Actions anyone signed in may do.
READING = frozenset({"voir_numero", "voir_apercus", "envoyer_test", "voir_circulation"})
#: Everything else is the pivot's: « approuver_numero », « envoyer », « courriels_retenus »,
#: « deplacer_nouvelle », « reactiver », …


def can(user: User | None, action: str, *, territoire: str | None = None) -> bool:
    """Tell whether ``user`` may do ``action`` (on an item of ``territoire``)."""
    if user is None:
        return False
    if user.is_pivot:
        return True
    if action in READING:
        return True
    return action in ITEM_ACTIONS and territoire is not None and territoire == user.territoire


def require(action: str, *, territoire: str | None = None) -> None:
    """Stop the request with 403 (a French page) unless the signed-in user may do it."""
    if not can(g.get("user"), action, territoire=territoire):
        abort(403)

"""Who said nothing this month: what the pivot sees on « Le numéro » beyond the checks.

No single item can tell it, and it is why the network wanted a bulletin (« l'information ne
circule pas »): the territories and registered organizations without news this month. Pure
functions over the items and the config; the dashboard gathers, the page shows.
"""

from __future__ import annotations

from ..models import Item, Status
from ..settings import Settings


def silent_territories(items: list[Item], settings: Settings) -> list[str]:
    """Name the territories (slugs, in the config's order) with no item this month."""
    heard = {i.territoire for i in items if i.statut is not Status.REFUSED}
    return [slug for slug in settings.territories if slug not in heard]


def silent_organizations(items: list[Item], settings: Settings, *,
                         territoire: str | None = None) -> list[str]:
    """Name the registered organizations (of ``territoire`` if set) with no item this month.

    Compared without case or surrounding spaces: « Table de concertation » written by hand
    and by the registry are the same voice.
    """
    heard = {i.organisme.strip().casefold() for i in items if i.statut is not Status.REFUSED}
    return [o.nom for o in settings.organizations
            if (territoire is None or o.territoire == territoire)
            and o.nom.strip().casefold() not in heard]

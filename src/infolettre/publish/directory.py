"""The directory of the registered organizations (« le lieu commun » the network asked for).

The network's regional bodies do not hear from each MRC, and a small organization does not
know who else works on its territory: one page lists every organization of the register
(``[[organismes]]``) by territory and concertation table, and each has its page with its
public contact and what it published in the bulletin, across issues.

Pure like the rest of ``publish``: the items come from the ``Site`` (the published
snapshots, never ``content/``), matched to the register by name as the intake matches them
(``Settings.organization``: case and surrounding spaces ignored); an item whose organization
is not in the register, or a withdrawn one, is listed nowhere here. Of an organization, only
the keys the register marks public reach a page (``site_web``, ``courriel_public``,
``telephone_public``, ``description``): never ``courriels``, the addresses that submit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .. import permalinks
from ..models import REGIONAL
from ..settings import Organization, Settings
from .model import PublishedItem, Site

#: A phone number a ``tel:`` link can dial as written (« 418 555-0142 », « +1 418… »).
_DIALABLE = re.compile(r"^\+?[0-9(][0-9 .()\-]{5,}$")


@dataclass(frozen=True)
class Listing:
    """One organization of the directory: its public keys, its page, its items."""

    organization: Organization
    slug: str
    items: tuple[PublishedItem, ...]  # still published, newest issue first

    @property
    def path(self) -> str:
        return permalinks.organization_page(self.slug)

    @property
    def phone_href(self) -> str | None:
        """A ``tel:`` address for the public phone, when it is only a number."""
        phone = self.organization.telephone_public
        if not phone or not _DIALABLE.match(phone):
            return None
        digits = re.sub(r"[^0-9+]", "", phone)
        if len(digits) == 10 and not digits.startswith("+"):
            digits = "+1" + digits  # a North American number written without its 1
        return f"tel:{digits}"


@dataclass(frozen=True)
class Group:
    """The organizations of one territory: one list per table, then those without one."""

    territory: str
    tables: tuple[tuple[str | None, tuple[Listing, ...]], ...]  # (table or None, listings)


def sort_key(text: str) -> str:
    """Alphabetical order as a reader expects it: accents and case ignored (« École » with E)."""
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c)).casefold()


def listings(site: Site, settings: Settings) -> tuple[Listing, ...]:
    """Every registered organization with its items, in the register's order."""
    slugs = permalinks.organization_slugs(o.nom for o in settings.organizations)
    found: dict[str, list[PublishedItem]] = {o.nom: [] for o in settings.organizations}
    for published in sorted(site.items, key=lambda p: p.item.slug):
        organization = settings.organization(published.item.organisme or "")
        if organization is not None:
            found[organization.nom].append(published)
    result = []
    for organization in settings.organizations:
        items = sorted(found[organization.nom],
                       key=lambda p: (p.item.month, p.published_at), reverse=True)
        result.append(Listing(organization, slugs[organization.nom], tuple(items)))
    return tuple(result)


def groups(entries: tuple[Listing, ...], settings: Settings) -> list[Group]:
    """The directory's index: the regional organizations first, then each territory in the
    configuration's order; in each, the tables by name, then the organizations without a
    table; organizations by name. A territory with no organization is left out."""
    result = []
    for territory in (REGIONAL, *settings.territories):
        mine = sorted((e for e in entries if e.organization.territoire == territory),
                      key=lambda e: sort_key(e.organization.nom))
        if not mine:
            continue
        tables = sorted({e.organization.table for e in mine if e.organization.table},
                        key=sort_key)
        grouped: list[tuple[str | None, tuple[Listing, ...]]] = [
            (table, tuple(e for e in mine if e.organization.table == table))
            for table in tables]
        alone = tuple(e for e in mine if not e.organization.table)
        if alone:
            grouped.append((None, alone))
        result.append(Group(territory, tuple(grouped)))
    return result

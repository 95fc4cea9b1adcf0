"""Where everything lives in the published site: the one list of its addresses.

The site (``infolettre publish``, written to ``[chemins] site``) and the emails that link to it
(« voir dans le navigateur », « Lire la suite », the titles of « Ailleurs dans la région »,
photos and attached documents) must agree on every address, and an address, once published,
never changes: a municipal site links to it, a reader bookmarks it. So the paths are made
here only, from what never changes about a thing (its issue's month, its file name, a
territory's or a rubrique's slug), and every page, feed and message asks this module.

Every function returns a path relative to the site's root, with ``/`` separators and no
leading slash: pages of the site link to each other with relative addresses (the site then
opens from a folder as well as from a host), messages and feeds with ``absolute``.
Pages are ``.html`` files, not folders: ``file://`` and every static host serve them as is.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

#: The home page: the list of issues.
HOME = "index.html"
#: The site's one stylesheet.
STYLESHEET = "site.css"


def issue_page(month: str) -> str:
    """The complete edition of ``month`` as a web page: « 2026-12/index.html »."""
    return f"{month}/index.html"


def edition_page(month: str, edition: str) -> str:
    """The page of one edition: a territory's, or the complete one (``issue_page``)."""
    return issue_page(month) if edition == "complete" else f"{month}/{edition}.html"


def item_page(month: str, slug: str) -> str:
    """The page of one item (its permalink): « 2026-12/nouvelles/frigo-communautaire.html »."""
    return f"{month}/nouvelles/{slug}.html"


def image(month: str, name: str) -> str:
    """A published image of an item: « 2026-12/images/frigo.jpg »."""
    return f"{month}/images/{quote(name)}"


def document(month: str, name: str) -> str:
    """A document that came with an item (an emailed PDF): « 2026-12/documents/a.pdf »."""
    return f"{month}/documents/{quote(name)}"


def rubrique_page(rubrique: str) -> str:
    """Every item of a rubrique, across issues: « rubriques/bons-coups.html »."""
    return f"rubriques/{rubrique}.html"


def territory_page(territory: str) -> str:
    """Every item of a territory (or « regional »), across issues."""
    return f"territoires/{territory}.html"


#: The directory of the registered organizations (« le lieu commun »): by territory and table.
DIRECTORY = "organismes/index.html"
#: The longest slug of an organization's page (a long name is cut at a word).
ORGANIZATION_SLUG_MAX = 70


def organization_page(slug: str) -> str:
    """The page of one registered organization: « organismes/cdc-de-bellechasse.html ».

    ``slug`` comes from ``organization_slugs``, never from a name directly."""
    return f"organismes/{slug}.html"


def organization_slugs(names: Iterable[str]) -> dict[str, str]:
    """The slug of each organization's page, by name, in the register's order.

    Made from the name alone, accents folded (« CDC de Lotbinière » → « cdc-de-lotbiniere »),
    so the page keeps its address as long as the name does. Two names that fold the same
    (« Écho » and « Echo ») or a name that would take the index's place (« Index »): the
    first in the register keeps the plain slug, the others get a suffix made from their own
    name (not from their rank), so an organization added at the end of the register never
    moves another's page.
    """
    slugs: dict[str, str] = {}
    taken = {DIRECTORY.rsplit("/", 1)[1].removesuffix(".html")}
    for name in names:
        slug = base = _fold(name)
        digest = hashlib.sha256(name.strip().casefold().encode("utf-8")).hexdigest()
        length = 6
        while not slug or slug in taken:  # longer suffixes in the unlikely tie of two
            slug = f"{base or 'organisme'}-{digest[:length]}"
            length += 2
        taken.add(slug)
        slugs[name] = slug
    return slugs


def _fold(name: str) -> str:
    """Lower-case ASCII words joined by « - », at most ``ORGANIZATION_SLUG_MAX`` long."""
    text = unicodedata.normalize("NFKD", name.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    slug = re.sub(r"[^a-z0-9]+", "-", text.replace("œ", "oe").replace("æ", "ae")).strip("-")
    if len(slug) > ORGANIZATION_SLUG_MAX:
        slug = slug[:ORGANIZATION_SLUG_MAX].rsplit("-", 1)[0]
    return slug


def atom_feed(territory: str | None = None) -> str:
    """The Atom feed of the whole network (« atom.xml ») or of one territory."""
    return "atom.xml" if territory is None else f"territoires/{territory}.xml"


def calendar(territory: str | None = None) -> str:
    """The iCalendar file of upcoming events: whole (« agenda.ics ») or of one territory."""
    return "agenda.ics" if territory is None else f"territoires/{territory}.ics"


def embed(territory: str) -> str:
    """The small HTML list a municipal or MRC site puts in an iframe."""
    return f"integrer/{territory}.html"


def logo(name: str) -> str:
    """The bulletin's logo (``[infolettre] logo``), kept under its own file name."""
    return f"logo/{quote(name)}"


def absolute(site: str, path: str) -> str:
    """Join the site's public address (``[infolettre] site``) and a path of this module."""
    return f"{site.rstrip('/')}/{path}"


def relative(from_path: str, to_path: str) -> str:
    """The address of ``to_path`` as written in the page ``from_path`` (both from the root).

    Up to the root, then down: « 2026-12/index.html » → « 2026-12/nouvelles/a.html » gives
    « ../2026-12/nouvelles/a.html »; « 2026-12/nouvelles/a.html » → « site.css » gives
    « ../../site.css ».
    """
    depth = from_path.count("/")
    return "../" * depth + to_path

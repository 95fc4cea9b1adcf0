"""The whole published site as files: {path relative to the site's root: bytes}.

Pure like the rest of ``publish``: every page of every published issue, the rubrique and
territory pages, the directory of organizations (``directory``), the embeds, the stylesheet and the feeds (``feeds.feed_files``) are
functions of the ``Site`` and of what the pipeline copied beside them (``Assets``). The
pipeline writes the files; nothing here reads ``content/``.
"""

from __future__ import annotations

from .. import permalinks
from ..errors import BuildError
from ..i18n import _
from ..models import REGIONAL
from ..render.environment import make_environment
from ..settings import Settings
from .feeds import feed_files
from .model import Site
from .pages import Assets, Pages

#: The stylesheet's source, in the templates folder (``[chemins] gabarits``).
STYLESHEET_SOURCE = "site/site.css"


def site_files(site: Site, settings: Settings, assets: Assets | None = None) -> dict[str, bytes]:
    """Return every file of the site: pages, stylesheet, feeds."""
    files = dict(feed_files(site, settings))
    pages = Pages(make_environment(settings.paths.gabarits), site, settings,
                  assets or Assets(), available=files)
    html: dict[str, str] = {permalinks.HOME: pages.home()}
    for issue in site.issues:
        for edition in issue.issue.editions:
            html[permalinks.edition_page(issue.month, edition.slug)] = pages.edition(
                issue, edition.slug)
        for published in issue.items:
            html[permalinks.item_page(issue.month, published.item.slug)] = pages.item(
                issue, published)
    for rubrique in settings.rubriques:
        html[permalinks.rubrique_page(rubrique)] = pages.rubrique(rubrique)
    for territory in (*settings.territories, REGIONAL):
        html[permalinks.territory_page(territory)] = pages.territory(territory)
    for territory in settings.territories:
        html[permalinks.embed(territory)] = pages.embed(territory)
    html[permalinks.DIRECTORY] = pages.directory()
    for listing in pages.listings:
        html[listing.path] = pages.organization(listing)
    files.update({path: text.encode("utf-8") for path, text in html.items()})
    files[permalinks.STYLESHEET] = stylesheet(settings)
    return files


def stylesheet(settings: Settings) -> bytes:
    """Return the site's one stylesheet (``templates/site/site.css``)."""
    path = settings.paths.gabarits / STYLESHEET_SOURCE
    try:
        return path.read_bytes()
    except OSError:
        raise BuildError(_("feuille de style du site introuvable : {path}.").format(path=path),
                         where=str(path),
                         fix=_("Vérifiez le chemin [chemins] gabarits dans infolettre.toml "
                               "(il doit contenir site/site.css).")) from None

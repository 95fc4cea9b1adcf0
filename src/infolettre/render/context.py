"""What every template sees: the issue, the bulletin's identity and a few helpers.

Built once per issue; an edition's templates add ``edition``. Per-recipient values appear
only as placeholders (``placeholder('salutation')``), filled in at delivery.
"""

from __future__ import annotations

from typing import Any

from ..models import COMPLETE, Edition, Issue, Item, SectionKind
from ..settings import Settings
from .. import dates, permalinks
from .images import email_size, fit, pixel_size
from .markdown import safe_link
from .personalize import Placeholders
from .summary import item_url, summary

#: Where images are copied next to the rendered files (build/<YYYY-MM>/images/).
IMAGES_DIR = "images"


def image_src(item: Item) -> str:
    """Return the relative URL of an item's image in the build folder (print, preview)."""
    return f"{IMAGES_DIR}/{item.image}"


def published_images(settings: Settings, month: str) -> str:
    """Return where a sent message loads images from: the archive published at ``site``."""
    return f"{settings.identity.site}/{month}/{IMAGES_DIR}/" if settings.identity.site else ""


#: The box the logo fits in, at the top of the email (never enlarged: a small logo stays sharp).
LOGO_BOX = (240, 64)


def logo(settings: Settings) -> dict[str, Any] | None:
    """Return the email's logo (``src``, ``width``, ``height``, ``alt``), None without one.

    Loaded from the site (``permalinks.logo``): a message carries no attachment, and there
    is nothing to load without ``[infolettre] site``.
    """
    path, site = settings.identity.logo, settings.identity.site
    size = pixel_size(path) if path and site else None
    if size is None:
        return None
    width, height = fit(size, *LOGO_BOX)
    return {"src": permalinks.absolute(site, permalinks.logo(path.name)), "width": width,
            "height": height, "alt": settings.identity.nom}


def subject(issue: Issue, edition: Edition, settings: Settings) -> str:
    """« Le Fil régional — décembre 2026 · Les Etchemins » (no territory for the complete one)."""
    head = f"{settings.identity.nom} — {dates.month_title(issue.month)}"
    if edition.slug != COMPLETE:
        head += f" · {settings.territories[edition.slug]}"
    return head


def base_context(issue: Issue, settings: Settings, placeholders: Placeholders) -> dict[str, Any]:
    """Return the context shared by every template of one issue."""
    return {
        "issue": issue,
        "settings": settings,
        "identity": settings.identity,
        "month_title": dates.month_title(issue.month),
        "preview": issue.preview,
        "placeholder": placeholders.token,
        "territory_name": settings.territory_name,
        "rubrique_title": lambda slug: settings.rubriques.get(slug, slug),
        "image_src": image_src,
        # Email images load from the published archive: none without [infolettre] site.
        "email_image_src": (lambda item: placeholders.token("images") + item.image)
        if settings.identity.site else None,
        "image_size": email_size,
        # Links to the site: only with [infolettre] site (None without: the email as before).
        "item_url": lambda item: item_url(item, settings.identity.site),
        "summary": lambda item, kind: summary(item, kind, settings.identity.site),
        "logo": logo(settings),
        "safe_link": safe_link,
        "SectionKind": SectionKind,
        "COMPLETE": COMPLETE,
        "paper": settings.paper,
    }


def edition_context(base: dict[str, Any], issue: Issue, edition: Edition,
                    settings: Settings) -> dict[str, Any]:
    """Add one edition (and its subject line) to the shared context."""
    site = settings.identity.site
    return {**base, "edition": edition, "subject": subject(issue, edition, settings),
            "edition_url": permalinks.absolute(site, permalinks.edition_page(
                issue.month, edition.slug)) if site else None}

"""Templates of the app: ``templates/web/`` of the project, in French through gettext, with
the same date filters as the bulletin; everything a person or a feed wrote is escaped."""

from __future__ import annotations

import jinja2
from flask import Flask, current_app, g
from markupsafe import Markup

from .. import dates, i18n
from ..i18n import _
from ..render.markdown import markdown_to_html
from ..settings import Settings


def install_templates(app: Flask, settings: Settings) -> None:
    """Load templates from the project's ``templates/web`` with gettext and French filters."""
    app.jinja_loader = jinja2.FileSystemLoader(str(settings.paths.gabarits / "web"))
    app.jinja_env.undefined = jinja2.StrictUndefined
    # Flask escapes only templates named .html, .xml…; ours end in .html.j2: escape them all.
    app.jinja_env.autoescape = True
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_translations(i18n.translations(), newstyle=True)
    app.jinja_env.filters.update(
        long_date=dates.long_date, short_date=dates.short_date, month_title=dates.month_title,
        time_of_day=dates.time_of_day, event_when=lambda e: dates.event_when(e.debut, e.fin),
        markdown=lambda text: Markup(markdown_to_html(text)),
        statut=status_label, territory_name=settings.territory_name)
    app.context_processor(_globals)


def status_label(value: str) -> str:
    """Name a review status as the pivot says it (« approuvée », not ``approuve``)."""
    labels = {"soumis": _("soumise"), "approuve": _("approuvée"), "refuse": _("refusée"),
              "retenu": _("retenue")}
    return labels.get(str(value), str(value))


def _globals() -> dict:
    settings = current_app.config["INFOLETTRE_SETTINGS"]
    return {"bulletin": settings.identity.nom, "user": g.get("user")}

"""« Le numéro »: the open issue at a glance (the pivot's home page)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template, request

from .. import pipeline
from ..content import latest_month
from ..models import Month
from .permissions import require

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def issue():
    """Show the issue: counts by status, territory and rubrique, and every problem."""
    require("voir_numero")
    settings = current_app.config["INFOLETTRE_SETTINGS"]
    numero = request.args.get("numero") or latest_month(settings)
    if not Month.is_valid(numero):
        abort(404)
    territoire = None if g.user.is_pivot else g.user.territoire
    board = pipeline.dashboard.issue_dashboard(settings, Month(numero),
                                               current_app.config["INFOLETTRE_CLOCK"],
                                               territoire=territoire)
    return render_template("accueil.html.j2", month=Month(numero), board=board,
                           territory_name=settings.territory_name,
                           where=lambda problem: pipeline.dashboard.where(problem, settings),
                           max_kb=settings.max_email_bytes // 1024,
                           tz=settings.identity.timezone)

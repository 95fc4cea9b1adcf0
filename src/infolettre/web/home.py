"""« Le numéro »: the open issue at a glance (the pivot's home page)."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, render_template, request

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
    month = Month(request.args.get("numero") or latest_month(settings))
    result = pipeline.check(settings, month)
    by_status = Counter(item.statut.value for item in result.items)
    return render_template("accueil.html.j2", month=month, result=result, by_status=by_status,
                           territories=settings.territories)

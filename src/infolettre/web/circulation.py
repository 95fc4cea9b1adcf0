"""« Circulation »: the report of the last issues, printable for a table meeting.

Anyone signed in may read it (action « voir_circulation »: the pivot, and a relecteur, whose
table meeting is where it is read). The view calls ``pipeline.circulation`` and gives each
territory its chart (``circulation.chart``: same scale for all), drawn by the template as
plain SVG, no script; ``circulation.css`` lays it out for US Letter paper without the
menu. The figures download as the CSV ``infolettre circulation --csv`` writes.
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, render_template, request, send_file

from ..circulation import source_label, territory_chart
from ..circulation.text import (counted_sentence, elsewhere_sentence, percent, period,
                                regional_sentence, silence_sentence)
from ..errors import InfolettreError
from ..i18n import _
from ..pipeline.circulation import DEFAULT_ISSUES, check_issues, circulation_report, csv_text
from .permissions import require

blueprint = Blueprint("circulation", __name__)
ACTION = "voir_circulation"
#: The choices of the page's form (any number from 1 to 120 works in the address).
CHOICES = (3, 6, 12, 24)


def _settings():
    return current_app.config["INFOLETTRE_SETTINGS"]


def _issues() -> int:
    return check_issues(request.args.get("mois", str(DEFAULT_ISSUES)))


@blueprint.get("/circulation")
def page():
    """Show the report of the last ``?mois=`` issues (6 by default)."""
    require(ACTION)
    settings = _settings()
    try:
        issues = _issues()
        result = circulation_report(settings, issues=issues)
    except InfolettreError as error:
        return render_template("circulation.html.j2", report=None, error=error,
                               issues=DEFAULT_ISSUES, choices=CHOICES), 400 if \
            "mois" in request.args else 200
    top = max((n for t in result.territories for n in t.by_month), default=0) or 1
    charts = {t.slug: territory_chart(t, result.months, top=top) for t in result.territories}
    return render_template(
        "circulation.html.j2", report=result, error=None, issues=issues, choices=CHOICES,
        charts=charts, period=period(result), counted=counted_sentence(result),
        silence_sentence=silence_sentence, source_label=source_label, percent=percent,
        elsewhere_sentence=elsewhere_sentence, regional_sentence=regional_sentence,
        rubriques=settings.rubriques)


@blueprint.get("/circulation.csv")
def export():
    """Download the figures as CSV (UTF-8 with BOM, for Excel)."""
    require(ACTION)
    settings = _settings()
    result = circulation_report(settings, issues=_issues())
    return send_file(BytesIO(csv_text(result, settings).encode("utf-8-sig")),
                     mimetype="text/csv", as_attachment=True,
                     download_name=_("{bulletin} — circulation.csv").format(
                         bulletin=settings.identity.nom))

"""« Adresses suspendues »: the addresses bounces suspended, why, and « Réactiver ».

The pivot only (action « rebonds »): a relecteur gets 403 before anything is read. The page
lists each suspended address with its reason, since when, the issue that decided it and the
server's own words (the excerpt of each bounce: kind, issue, date), so the pivot can tell a
dead address from a full mailbox or a spam filter. « Réactiver » (a POST, CSRF-checked) lifts
the suspension through ``pipeline.suppressions.reactivate``; the list downloads as CSV, as
``infolettre suppressions --csv`` writes it. Reading never creates the state.
"""

from __future__ import annotations

import tempfile
from io import BytesIO
from pathlib import Path

from flask import (Blueprint, current_app, flash, g, redirect, render_template, request,
                   send_file, url_for)

from ..errors import InfolettreError
from ..i18n import _
from ..pipeline import suppressions
from .permissions import require
from .signoff import refusal

blueprint = Blueprint("bounces", __name__)
ACTION = "rebonds"


def _settings():
    return current_app.config["INFOLETTRE_SETTINGS"]


@blueprint.get("/rebonds")
def index():
    """List the suspended addresses with their bounces, newest suspension first."""
    require(ACTION)
    settings = _settings()
    rows = [(s, suppressions.reason_label(s, settings), suppressions.bounces_of(settings, s.email))
            for s in suppressions.list_suppressions(settings)]
    return render_template("rebonds.html.j2", rows=rows, kind_label=suppressions.kind_label,
                           configured=settings.bounces is not None,
                           tz=settings.identity.timezone)


@blueprint.post("/rebonds/reactiver")
def reactivate():
    """Lift one suspension; say so, or say why not (unknown, already reactivated)."""
    require(ACTION)
    address = request.form.get("adresse", "")
    try:
        suppressions.reactivate(_settings(), address, g.user.email,
                                clock=current_app.config["INFOLETTRE_CLOCK"])
    except InfolettreError as error:
        flash(refusal(error))
    else:
        flash(_("{address} est réactivée : elle recevra le prochain numéro.").format(
            address=address.strip().lower()))
    return redirect(url_for("bounces.index"))


@blueprint.get("/rebonds/adresses-suspendues.csv")
def export():
    """Download the list as CSV (French headers and dates, UTF-8 for Excel)."""
    require(ACTION)
    settings = _settings()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "suspendues.csv"
        suppressions.export_suppressions_csv(settings, path)
        data = path.read_bytes()
    return send_file(BytesIO(data), mimetype="text/csv", as_attachment=True,
                     download_name=_("{bulletin} — adresses suspendues.csv").format(
                         bulletin=settings.identity.nom))

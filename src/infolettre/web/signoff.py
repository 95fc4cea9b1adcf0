"""« Approuver le numéro »: the sign-off as it stands, what changed since, and the button.

The pivot only. The button calls the same function as ``infolettre approve``
(``pipeline.approve``), signed with the account's address; a refusal (items in error, an
issue already partly sent and changed) is said in a flash message, as the command says it.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   url_for)

from .. import pipeline
from ..content import latest_month
from ..errors import InfolettreError, Severity
from ..i18n import _
from ..models import Month
from .permissions import require

blueprint = Blueprint("signoff", __name__)


@blueprint.app_context_processor
def _current_issue() -> dict:
    """Give the nav links a month: the page's own, else the latest of ``content/``."""
    def numero_courant(shown: str | None = None) -> str:
        if shown and Month.is_valid(str(shown)):
            return str(shown)
        try:
            return latest_month(current_app.config["INFOLETTRE_SETTINGS"])
        except InfolettreError:
            return "0000-01"  # no issue yet: the page says there is nothing
    return {"numero_courant": numero_courant}


def checked_month(text: str) -> Month:
    """Return the month of the address, or stop with 404 (nothing read for a bad one)."""
    if not Month.is_valid(text):
        abort(404)
    return Month(text)


def refusal(error: InfolettreError) -> str:
    """Say a refusal of the pipeline in one French flash message (what, then how to fix)."""
    return error.message[:1].upper() + error.message[1:] + (" " + error.fix if error.fix
                                                            else "")


@blueprint.get("/approbation/<month>")
def page(month: str):
    """Show the sign-off of the issue: by whom and when, what changed, what blocks it."""
    require("approuver_numero")
    month = checked_month(month)
    state = pipeline.signoff_state(current_app.config["INFOLETTRE_SETTINGS"], month,
                                   clock=current_app.config["INFOLETTRE_CLOCK"])
    return render_template("approbation.html.j2", month=month, state=state, Severity=Severity,
                           tz=current_app.config["INFOLETTRE_SETTINGS"].identity.timezone)


@blueprint.post("/approbation/<month>")
def approve(month: str):
    """Sign off the issue as it is now (``infolettre approve``), as the signed-in person."""
    require("approuver_numero")
    month = checked_month(month)
    try:
        signed, _problems = pipeline.approve(
            current_app.config["INFOLETTRE_SETTINGS"], month, g.user.email,
            despite_sent=request.form.get("malgre_envoi") == "oui",
            clock=current_app.config["INFOLETTRE_CLOCK"])
    except InfolettreError as error:
        flash(refusal(error))
    else:
        flash(_("Numéro {month} approuvé par {by} : {n} nouvelle(s).").format(
            month=month, by=signed.signed_by, n=signed.items_count))
    return redirect(url_for("signoff.page", month=month))

"""« Envoi »: start the send without waiting for it, follow it, decide on the uncertain ones.

The pivot only. « Lancer l'envoi » starts ``infolettre send`` in the background
(``pipeline.start_send``) and comes back at once; while the send runs the page refreshes
itself every 5 seconds (a meta refresh: no script) with the ledger's counts and the end of
the log. The « incertains » get the command line's decision (resend them) or the other one
(they arrived: count them as sent). The postal list, its mailing labels and the print PDF
are downloads.
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect,
                   render_template, send_file, url_for)

from .. import pipeline
from ..deliver.ledger import State
from ..errors import InfolettreError
from ..i18n import _
from ..models import COMPLETE
from .permissions import require
from .signoff import checked_month, refusal

blueprint = Blueprint("sending", __name__)


def _settings():
    return current_app.config["INFOLETTRE_SETTINGS"]


def _clock():
    return current_app.config["INFOLETTRE_CLOCK"]


@blueprint.get("/envoi/<month>")
def page(month: str):
    """Show whether the issue can go, to how many, and how far its sending went."""
    require("envoyer")
    month = checked_month(month)
    try:
        state = pipeline.send_state(_settings(), month, clock=_clock())
    except InfolettreError as error:  # the ledger lost a started send: say it, as status does
        flash(refusal(error))
        return render_template("envoi.html.j2", month=month, state=None, State=State), 409
    pdf = (_settings().paths.sortie / month / "print.pdf").is_file()
    names = dict(_settings().territories, **{COMPLETE: _("complète (régionale)")})
    response = make_response(render_template("envoi.html.j2", month=month, state=state,
                                             State=State, pdf=pdf, names=names))
    if state.running:  # the header too: a <meta> outside <head> is not read by every browser
        response.headers["Refresh"] = "5"
    return response


def _act(month: str, action, done: str):
    """Run one pipeline action for the page's POST; flash what it did or why not."""
    require("envoyer")
    month = checked_month(month)
    try:
        result = action(month)
    except InfolettreError as error:
        flash(refusal(error))
    else:
        flash(done.format(n=result))
    return redirect(url_for("sending.page", month=month))


@blueprint.post("/envoi/<month>")
def start(month: str):
    """Start the send in the background (``infolettre send``) and come back to the page."""
    return _act(month, lambda m: pipeline.start_send(_settings(), m, clock=_clock()),
                _("Envoi lancé : cette page se met à jour toute seule pendant l'envoi."))


@blueprint.post("/envoi/<month>/incertains/renvoyer")
def resend_uncertain(month: str):
    """Send the « incertain » messages again (``infolettre send --renvoyer-incertains``)."""
    return _act(month, lambda m: pipeline.start_send(_settings(), m, release_uncertain=True,
                                                     clock=_clock()),
                _("Envoi lancé, avec les messages incertains."))


@blueprint.post("/envoi/<month>/incertains/recus")
def confirm_uncertain(month: str):
    """Count the « incertain » messages as received: they are never sent again."""
    return _act(month, lambda m: pipeline.confirm_uncertain(_settings(), m, g.user.email,
                                                            clock=_clock()),
                _("{n} message(s) incertain(s) comptés comme envoyés."))


@blueprint.get("/envoi/<month>/liste-postale.csv")
def postal_list(month: str):
    """Download the postal list (written as ``infolettre postal`` writes it)."""
    require("envoyer")
    month = checked_month(month)
    path = pipeline.postal(_settings(), month).csv
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=_("{bulletin} {month} — envoi postal.csv").format(
                         bulletin=_settings().identity.nom, month=month))


@blueprint.get("/envoi/<month>/etiquettes.pdf")
def postal_labels(month: str):
    """Download the mailing labels (Avery 5160) of the same people; 404 when nobody gets
    the issue by mail (there is then no sheet to print)."""
    require("envoyer")
    month = checked_month(month)
    path = pipeline.postal(_settings(), month).labels
    if path is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=_("{bulletin} {month} — étiquettes Avery 5160.pdf").format(
                         bulletin=_settings().identity.nom, month=month))


@blueprint.get("/envoi/<month>/impression.pdf")
def print_pdf(month: str):
    """Download the print PDF of the built issue (404 until ``infolettre build``)."""
    require("envoyer")
    month = checked_month(month)
    path = _settings().paths.sortie / month / "print.pdf"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=_("{bulletin} {month} — impression.pdf").format(
                         bulletin=_settings().identity.nom, month=month))

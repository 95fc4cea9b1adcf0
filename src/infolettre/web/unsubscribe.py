"""The unsubscribe pages, open to anyone with a signed link (no account, no session).

GET shows a confirmation with one button (a mail program or a link checker that merely
opens the link unsubscribes nobody); POST unsubscribes — the button, or a mail program's
one-click request (RFC 8058: ``List-Unsubscribe=One-Click`` posted to the link of the
``List-Unsubscribe`` header). Only a genuine token acts; a forged one changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from .. import pipeline
from .security import csrf

blueprint = Blueprint("unsubscribe", __name__)


@blueprint.get("/desabonnement")
def confirm():
    """Ask for confirmation (nothing changes on a GET)."""
    token = request.args.get("t", "")
    return render_template("desabonnement.html.j2", token=token, done=None)


@blueprint.post("/desabonnement")
@csrf.exempt  # RFC 8058: mail programs post without a token; only a signed link acts
def one_click():
    """Unsubscribe the address the signed token names; say so (or that the link is bad)."""
    settings = current_app.config["INFOLETTRE_SETTINGS"]
    token = request.args.get("t") or request.form.get("t", "")
    email = pipeline.unsubscribe_link(settings, token,
                                      clock=current_app.config["INFOLETTRE_CLOCK"])
    status = 200 if email else 400
    return render_template("desabonnement.html.j2", token=token, done=email or ""), status

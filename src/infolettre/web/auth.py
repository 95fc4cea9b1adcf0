"""Signing in and out; the account of each request is loaded once into ``g.user``.

Every route needs a signed-in account except the ones ``require_sign_in`` is told are open
(sign-in, static files, the unsubscribe pages). The account is read again from the state
on each request: a removed account is signed out at its next click.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, flash, g, redirect, render_template, request,
                   session, url_for)

from .. import pipeline
from ..i18n import _
from ..state.users import AccountError

blueprint = Blueprint("auth", __name__)


def require_sign_in(app: Flask, *, open_endpoints: Iterable[str]) -> None:
    """Load ``g.user`` before each request; send anyone not signed in to the sign-in page."""
    allowed = set(open_endpoints)

    @app.before_request
    def load_user():
        settings = current_app.config["INFOLETTRE_SETTINGS"]
        email = session.get("courriel")
        g.user = pipeline.account(settings, email) if email else None
        if g.user is None and email:
            session.clear()
        if g.user is None and request.endpoint not in allowed:
            return redirect(url_for("auth.sign_in", suite=_local_path(request.full_path)))
        return None


@blueprint.route("/connexion", methods=["GET", "POST"])
def sign_in():
    """Show the sign-in form; on a right password, open the session and go on."""
    error = None
    if request.method == "POST":
        settings = current_app.config["INFOLETTRE_SETTINGS"]
        try:
            user = pipeline.sign_in(settings, request.form.get("courriel", ""),
                                    request.form.get("mot_de_passe", ""),
                                    clock=current_app.config["INFOLETTRE_CLOCK"])
        except AccountError as exc:
            error = exc.message
        else:
            session.clear()
            session.permanent = True
            session["courriel"] = user.email
            return redirect(_local_path(request.args.get("suite")) or url_for("home.issue"))
    return render_template("connexion.html.j2", error=error), (401 if error else 200)


@blueprint.post("/deconnexion")
def sign_out():
    """Close the session."""
    session.clear()
    flash(_("Vous êtes déconnecté·e."))
    return redirect(url_for("auth.sign_in"))


def _local_path(target: str | None) -> str | None:
    """Keep a « go on to » address only if it stays on this site (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target.rstrip("?") or None

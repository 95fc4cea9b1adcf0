"""« Aperçus »: each edition as the mail programs will show it, its text part, the print.

Anyone signed in. The page calls ``pipeline.previews.preview`` (which builds the month's
preview again only when its files changed) and shows the chosen edition (``?edition=``, a
name of the built list, never a path) in two sandboxed frames, 600 and 375 px wide. The
frames load the built HTML from this blueprint with a policy of their own: the email is
made of inline styles, which the app's policy forbids; it gets inline styles and images,
still no script, and may be framed by the app only. « Envoyer un test » sends every
edition to the signed-in person (``pipeline.send_test``, as ``infolettre send --test``).
"""

from __future__ import annotations

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   send_file, url_for)

from .. import pipeline
from ..errors import InfolettreError, Severity
from ..i18n import _
from .permissions import require
from .signoff import checked_month, refusal

blueprint = Blueprint("previews", __name__)

#: The policy of a built email or print page shown by the app: its inline styles and
#: images, no script, no form, framed by the app only; sandboxed even when opened alone.
FRAME_POLICY = ("default-src 'none'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data: https:; font-src 'self' data:; frame-ancestors 'self'; "
                "base-uri 'none'; form-action 'none'; "
                "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox")


def _settings():
    return current_app.config["INFOLETTRE_SETTINGS"]


def _preview(month: str):
    """Return the month's preview, or stop with 404 for an address that names no month."""
    require("voir_apercus")
    return pipeline.previews.preview(_settings(), checked_month(month))


def _edition(shown, slug: str | None):
    """Return the edition of the built list named ``slug``, or stop with 404."""
    edition = shown.edition(slug)
    if edition is None:
        abort(404)
    return edition


def _name(month: str, what: str) -> str:
    return _("{bulletin} {month} — {what}").format(bulletin=_settings().identity.nom,
                                                   month=month, what=what)


@blueprint.get("/apercus/<month>")
def index(month: str):
    """Show the chosen edition at 600 and 375 px, its text part, its weight, the problems."""
    require("voir_apercus")
    month = checked_month(month)
    try:
        shown = pipeline.previews.preview(_settings(), month)
    except InfolettreError as error:
        flash(refusal(error))
        return render_template("apercus.html.j2", month=month, shown=None), 409
    wanted = request.args.get("edition")
    edition = _edition(shown, wanted) if wanted is not None else shown.editions[0]
    return render_template("apercus.html.j2", month=month, shown=shown, edition=edition,
                           text=shown.text(edition).read_text(encoding="utf-8"),
                           Severity=Severity)


@blueprint.get("/apercus/<month>/<edition>.html")
def frame(month: str, edition: str):
    """Serve one edition's built HTML for the page's frames, with its own policy."""
    shown = _preview(month)
    response = send_file(shown.html(_edition(shown, edition)), mimetype="text/html")
    return _framed(response)


@blueprint.get("/apercus/<month>/images/<name>")
def image(month: str, name: str):
    """Serve an image of the preview (a name listed in its ``images/``, never a path)."""
    path = _preview(month).image(name)
    if path is None:
        abort(404)
    return send_file(path)


@blueprint.get("/apercus/<month>/<edition>.txt")
def text(month: str, edition: str):
    """Download one edition's text part (what mail programs without HTML show)."""
    shown = _preview(month)
    chosen = _edition(shown, edition)
    return send_file(shown.text(chosen), mimetype="text/plain",
                     as_attachment=True,
                     download_name=_name(month, _("{edition} — texte.txt").format(
                         edition=chosen.titre)))


@blueprint.get("/apercus/<month>/impression.pdf")
def print_pdf(month: str):
    """Download the print PDF of the preview (made now, the first time it is asked)."""
    require("voir_apercus")
    path = pipeline.previews.preview_pdf(_settings(), checked_month(month))
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=_name(month, _("aperçu impression.pdf")))


@blueprint.get("/apercus/<month>/impression.html")
def print_html(month: str):
    """Download the print version's HTML (to open in a browser or a layout program)."""
    shown = _preview(month)
    response = send_file(shown.print_html, mimetype="text/html", as_attachment=True,
                         download_name=_name(month, _("aperçu impression.html")))
    return _framed(response)


@blueprint.post("/apercus/<month>/essai")
def send_test(month: str):
    """Send every edition to the signed-in person, « [TEST] » in the subject."""
    require("envoyer_test")
    month = checked_month(month)
    try:
        report, _problems = pipeline.send_test(_settings(), month, g.user.email,
                                               clock=current_app.config["INFOLETTRE_CLOCK"])
    except InfolettreError as error:
        flash(refusal(error))
    else:
        flash(_("Essai envoyé : {n} édition(s) à {address}.").format(n=report.sent,
                                                                    address=g.user.email))
        for result in report.problems:
            flash(_("Édition {edition} non envoyée : {detail}").format(
                edition=result.envelope.edition, detail=result.detail))
    return redirect(url_for("previews.index", month=month,
                            edition=request.form.get("edition") or None))


def _framed(response):
    """Give a built page the preview's own policy (inline styles, no script)."""
    response.headers["Content-Security-Policy"] = FRAME_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response

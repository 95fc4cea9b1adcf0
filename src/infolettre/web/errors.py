"""French error pages: a refused action, a page that does not exist, an expired form.

A community worker reads these: each says what happened and what to do, never a trace.
Errors of the pipeline (``InfolettreError``) show their message and fix, like the CLI.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError

from ..errors import InfolettreError
from ..i18n import _


def install(app: Flask) -> None:
    """Register the French pages for 403, 404, 405, an expired form and pipeline errors."""

    @app.errorhandler(403)
    def forbidden(_error):
        return _page(_("Action non permise"), _("Votre compte ne permet pas cette action. "
                                                 "Demandez-la à l'équipe pivot."), 403)

    @app.errorhandler(404)
    def not_found(_error):
        return _page(_("Page introuvable"), _("Cette page n'existe pas (ou plus). Revenez au "
                                              "numéro et cherchez-la dans la liste."), 404)

    @app.errorhandler(405)
    def wrong_method(_error):
        return _page(_("Action impossible ici"), _("Utilisez les boutons de la page."), 405)

    @app.errorhandler(CSRFError)
    def expired(_error):
        return _page(_("Formulaire expiré"), _("Ce formulaire a expiré ou ne vient pas de "
                                               "l'application. Rechargez la page et "
                                               "recommencez : rien n'a été changé."), 400)

    @app.errorhandler(InfolettreError)
    def refused(error: InfolettreError):
        text = error.message + (" " + error.fix if error.fix else "")
        return _page(_("Action refusée"), text, 409)


def _page(title: str, message: str, status: int):
    return render_template("erreur.html.j2", title=title, message=message), status

"""The pivot's review app: a third front door over the same ``pipeline`` functions.

A small server-rendered Flask app (Jinja2 templates from ``templates/web/``, no JavaScript
needed for any action). ``create_app`` builds it for one project: every route needs a
signed-in account except sign-in, static files and the unsubscribe pages; CSRF guards every
POST (Flask-WTF); who may do what is asked in one place (``permissions``). Served in
production by waitress (``infolettre serve``), behind an HTTPS proxy.
"""

from __future__ import annotations

from flask import Flask

from ..clock import SYSTEM_CLOCK, Clock
from ..settings import Settings
from . import auth, errors, home, security, unsubscribe
from . import items, sending, signoff
from . import bounces, circulation, held, previews
from .templating import install_templates


def create_app(settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
               testing: bool = False) -> Flask:
    """Build the review app of the project ``settings`` describes; ``clock`` is the one
    clock of every action it runs (tests pass a fixed one)."""
    app = Flask(__name__, static_folder="static", static_url_path="/statique")
    app.config.update(INFOLETTRE_SETTINGS=settings, INFOLETTRE_CLOCK=clock, TESTING=testing)
    security.install(app, settings)
    install_templates(app, settings)
    errors.install(app)
    for blueprint in (auth.blueprint, home.blueprint, unsubscribe.blueprint):
        app.register_blueprint(blueprint)
    for blueprint in (items.blueprint, signoff.blueprint, sending.blueprint, held.blueprint,
                      previews.blueprint, bounces.blueprint, circulation.blueprint):
        app.register_blueprint(blueprint)
    auth.require_sign_in(app, open_endpoints={"static", "auth.sign_in", "unsubscribe.confirm",
                                              "unsubscribe.one_click"})
    return app

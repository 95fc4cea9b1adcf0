"""Commands of the review app: ``serve`` (waitress, a production server) and ``user`` (its
accounts: add, list, remove)."""

from __future__ import annotations

import getpass
import os
from typing import Optional

import click

from ..errors import InfolettreError
from ..i18n import _
from .frame import _settings, app, console, state

ENV_PASSWORD = "INFOLETTRE_PASSWORD"


@app.command("serve", help=_("Servir l'application de révision (à mettre derrière un serveur "
                             "HTTPS : voir le README)."))
@click.option("--hote", metavar="ADRESSE", help=_("Adresse d'écoute (défaut : [application] "
                                                  "hote, 127.0.0.1)."))
@click.option("--port", type=int, metavar="PORT", help=_("Port d'écoute (défaut : "
                                                        "[application] port, 8000)."))
def serve(hote: Optional[str], port: Optional[int]) -> None:
    import waitress

    from ..web import create_app

    settings = _settings()
    host, port = hote or settings.application.hote, port or settings.application.port
    console.print(_("Application de révision : http://{host}:{port}/ (Ctrl+C pour arrêter)")
                  .format(host=host, port=port), soft_wrap=True)
    waitress.serve(create_app(settings, clock=state.clock), host=host, port=port, threads=8,
                   ident="infolettre", trusted_proxy="127.0.0.1",
                   trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto",
                                          "x-forwarded-host"},
                   clear_untrusted_proxy_headers=True)


@app.group("user", help=_("Gérer les comptes de l'application de révision."))
def user() -> None:
    pass


@user.command("add", help=_("Créer un compte (ou changer son mot de passe) ; le mot de passe "
                            "est demandé, ou lu dans INFOLETTRE_PASSWORD."))
@click.argument("email", metavar="COURRIEL")
@click.option("--role", type=click.Choice(["pivot", "relecteur"]), default="pivot",
              show_default=True, help=_("pivot : tout ; relecteur : les nouvelles d'un "
                                        "territoire."))
@click.option("--territoire", metavar="ID", help=_("Le territoire d'un relecteur."))
def user_add(email: str, role: str, territoire: Optional[str]) -> None:
    from ..pipeline import user_add as add

    settings = _settings()
    account = add(settings, email, _password(), role=role, territoire=territoire,
                  clock=state.clock)
    console.print(_("Compte {email} ({role}) prêt.").format(email=account.email,
                                                            role=account.role), soft_wrap=True)


@user.command("list", help=_("Lister les comptes."))
def user_list() -> None:
    from ..pipeline import user_list as accounts

    found = accounts(_settings())
    for account in found:
        where = f" — {account.territoire}" if account.territoire else ""
        console.print(f"{account.email} ({account.role}){where}", soft_wrap=True)
    if not found:
        console.print(_("Aucun compte : créez-en un avec « infolettre user add COURRIEL »."))


@user.command("remove", help=_("Supprimer un compte."))
@click.argument("email", metavar="COURRIEL")
def user_remove(email: str) -> None:
    from ..pipeline import user_remove as remove

    if not remove(_settings(), email):
        raise InfolettreError(_("aucun compte pour {email}.").format(email=email),
                              fix=_("« infolettre user list » montre les comptes."))
    console.print(_("Compte {email} supprimé.").format(email=email), soft_wrap=True)


def _password() -> str:
    """Read the password from INFOLETTRE_PASSWORD, or ask for it twice on the terminal."""
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD]
    first = getpass.getpass(_("Mot de passe : "))
    if getpass.getpass(_("Encore une fois : ")) != first:
        raise InfolettreError(_("les deux mots de passe diffèrent."),
                              fix=_("Relancez la commande et tapez deux fois le même."))
    return first

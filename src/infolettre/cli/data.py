"""Commands about the people and the data folder: unsubscribe requests by mail, one
unsubscribe at a person's request, and the state backup."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import click

from ..i18n import _
from .frame import _settings, app, console, state


@app.command("desabonnements", help=_("Traiter les demandes de désabonnement reçues par "
                                      "courriel (dossier Maildir)."))
@click.option("--maildir", type=click.Path(path_type=Path, file_okay=False),
              help=_("Dossier Maildir à lire (défaut : [desabonnement] maildir)."))
def unsubscribe_requests(maildir: Optional[Path]) -> None:
    from ..pipeline import unsubscribe_requests as read_requests

    report = read_requests(_settings(), maildir=maildir, clock=state.clock)
    console.print(report.summary())
    for name, reason in [*report.to_review, *report.left]:
        console.print(f"  {name} : {reason}", markup=False, soft_wrap=True)
    raise click.exceptions.Exit(1 if report.to_review or report.left else 0)


@app.command("desabonner", help=_("Désabonner une adresse à la demande de la personne "
                                  "(par téléphone, en personne…)."))
@click.argument("address", metavar="ADRESSE")
def unsubscribe_one(address: str) -> None:
    from ..pipeline import unsubscribe

    address, new = unsubscribe(_settings(), address, clock=state.clock)
    console.print((_("L'adresse {address} est désabonnée : elle ne recevra plus rien.") if new
                   else _("L'adresse {address} était déjà désabonnée.")).format(address=address))


@app.command("sauvegarde", help=_("Copier l'état (base, journaux, relevés d'envoi, secret) "
                                  "dans un dossier, pour le restaurer après une perte."))
@click.argument("folder", required=False, metavar="[DOSSIER]",
                type=click.Path(path_type=Path, file_okay=False))
def backup(folder: Optional[Path]) -> None:
    from ..pipeline import backup as run_backup
    from ..state.secret import ENV_SECRET

    settings = _settings()
    folder, written = run_backup(settings, folder, clock=state.clock)
    for path in written:
        console.print(f"  {path}", markup=False, soft_wrap=True)
    console.print(_("{n} fichier(s) copié(s) dans {folder}.").format(n=len(written),
                                                                     folder=folder),
                  markup=False, soft_wrap=True)
    if os.environ.get(ENV_SECRET):
        console.print(_("Le secret des liens de désabonnement vient de la variable {name} : "
                        "gardez-en une copie à part, il n'est pas dans la sauvegarde.").format(
            name=ENV_SECRET), markup=False, soft_wrap=True)

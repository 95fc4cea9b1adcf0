"""Commands about bounces: read the bounce mailbox, list the suspended addresses, reactivate one."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..dates import long_date
from ..i18n import _
from .frame import _settings, app, console, login_name, state


@app.command("rebonds", help=_("Lire la boîte des rebonds ([rebonds]) : les adresses mortes "
                               "sont suspendues, les réponses automatiques ignorées."))
@click.option("--maildir", type=click.Path(path_type=Path, file_okay=False), metavar="DOSSIER",
              help=_("Dossier Maildir à lire (défaut : [rebonds] maildir ou sa boîte IMAP)."))
def bounces(maildir: Optional[Path]) -> None:
    from ..pipeline.bounces import process_bounces

    report = process_bounces(_settings(), maildir=maildir, clock=state.clock)
    console.print(report.summary(), soft_wrap=True)
    for email in report.suspended:
        console.print("  " + _("suspendue : {email}").format(email=email), soft_wrap=True)
    for name, reason in [*report.to_review, *report.left]:
        console.print(f"  {name} : {reason}", soft_wrap=True)
    raise click.exceptions.Exit(1 if report.to_review or report.left else 0)


@app.command("suppressions", help=_("Lister les adresses suspendues après des rebonds, avec "
                                    "la raison et la date."))
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FICHIER", help=_("Écrire la liste dans ce fichier CSV (pour Excel)."))
def suppressions(csv_path: Optional[Path]) -> None:
    from ..pipeline.suppressions import export_suppressions_csv, list_suppressions, reason_label

    settings = _settings()
    tz = settings.identity.timezone
    found = list_suppressions(settings)
    if not found:
        console.print(_("Aucune adresse suspendue."))
    for s in found:
        console.print(_("{email} : {reason}, depuis le {day} (numéro {month}) — {words}").format(
            email=s.email, reason=reason_label(s, settings), day=long_date(s.since.astimezone(tz)),
            month=s.month or "—", words=s.diagnostic or "—"), soft_wrap=True)
    if csv_path:
        n = export_suppressions_csv(settings, csv_path)
        console.print(_("{n} adresse(s) écrite(s) dans {path}.").format(n=n, path=csv_path),
                      soft_wrap=True)


@app.command("reactiver", help=_("Réactiver une adresse suspendue après des rebonds (la "
                                 "personne a réglé le problème) : elle recevra le prochain "
                                 "numéro."))
@click.argument("address", metavar="ADRESSE")
@click.option("--par", "by", metavar="NOM", default=login_name,
              help=_("Qui réactive (défaut : l'utilisateur de la session)."))
def reactivate(address: str, by: str) -> None:
    from ..pipeline.suppressions import reactivate as run_reactivate

    found = run_reactivate(_settings(), address, by, clock=state.clock)
    console.print(_("L'adresse {email} est réactivée : elle recevra le prochain numéro.")
                  .format(email=found.email), soft_wrap=True)


@app.command("suspendre", help=_("Suspendre une adresse à la main (un rebond « à vérifier » "
                                 "lu par une personne) : elle ne recevra plus l'infolettre "
                                 "jusqu'à « infolettre reactiver »."))
@click.argument("address", metavar="ADRESSE")
@click.option("--note", default="", metavar="TEXTE", help=_("Pourquoi (gardé avec l'adresse)."))
@click.option("--par", "by", metavar="NOM", default=login_name,
              help=_("Qui suspend (défaut : l'utilisateur de la session)."))
def suspend(address: str, note: str, by: str) -> None:
    from ..pipeline.suppressions import suspend as run_suspend

    new = run_suspend(_settings(), address, by, note, clock=state.clock)
    console.print((_("L'adresse {address} est suspendue : elle ne recevra plus l'infolettre.")
                   if new else _("L'adresse {address} était déjà suspendue.")).format(
        address=address.strip().lower()), soft_wrap=True)

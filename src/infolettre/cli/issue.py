"""Commands about one issue: check, build, send (and its test), status, approve, postal."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Optional

import click
from rich.table import Table
from rich.text import Text

from ..errors import InfolettreError, Severity
from ..i18n import _
from ..content import check_month, latest_month
from .frame import (MONTH, _month, _parse_day, _settings, app, console, login_name,
                    show_problems, state)


@app.command("check", help=_("Vérifier les nouvelles d'un numéro (défaut : le plus récent) et "
                             "la configuration, sans rien produire."))
@MONTH
def check(month: Optional[str]) -> None:
    from ..pipeline import check as run_check

    settings = _settings()
    result = run_check(settings, _month(settings, month))
    console.print(_("Numéro {month} : {n} nouvelle(s) lue(s), dont {a} approuvée(s) ; "
                    "{k} retenue(s) pour les éditions.").format(
        month=result.month, n=len(result.items), a=result.approved, k=len(result.issue.items)))
    raise click.exceptions.Exit(show_problems(result.problems))


@app.command("build", help=_("Produire toutes les éditions d'un numéro (défaut : le plus "
                             "récent) : courriel, texte, impression."))
@MONTH
@click.option("--out", "-o", type=click.Path(path_type=Path), metavar="DOSSIER",
              help=_("Dossier de sortie (défaut : build/AAAA-MM ; un aperçu : "
                     "apercu/AAAA-MM)."))
@click.option("--preview", is_flag=True,
              help=_("Inclure les nouvelles non approuvées, avec leur statut (dans "
                     "apercu/AAAA-MM : le numéro approuvé n'est jamais remplacé)."))
@click.option("--parution", metavar="AAAA-MM-JJ",
              help=_("Date de parution (défaut : le 1er du mois)."))
@click.option("--pdf/--sans-pdf", default=True, help=_("Produire aussi print.pdf."))
def build(month: Optional[str], out: Optional[Path], preview: bool, parution: Optional[str],
          pdf: bool) -> None:
    from . import early

    settings = _settings()
    # WeasyPrint loads in a second process while this one reads and renders (render.pdfjob);
    # started as the command began (cli.early), or now.
    job = early.pdf_job() if pdf else None
    with job or nullcontext():
        from ..pipeline import build as run_build
        from ..render.email import weight_label

        month = _month(settings, month)
        with console.status(Text(_("Production du numéro {month}…").format(month=month))):
            result = run_build(settings, month, out=out, parution=_parse_day(parution),
                               preview=preview, pdf=pdf, pdf_job=job)
    table = Table(title=Text(_("Numéro {month} produit dans {out}").format(
        month=month, out=result.out_dir)))
    table.add_column(_("Édition"))
    table.add_column(_("Éléments"), justify="right")
    table.add_column(_("Poids du courriel"), justify="right")
    for edition in result.rendered.editions:
        table.add_row(Text(edition.titre),
                      str(len(result.rendered.issue.edition(edition.slug).items)),
                      weight_label(edition.html, settings))
    console.print(table)
    console.print(_("Aperçu : {path}").format(path=result.out_dir / "index.html"))
    raise click.exceptions.Exit(show_problems(result.problems))


@app.command("send", help=_("Envoyer un numéro : à chaque personne l'édition de son "
                            "territoire. Le numéro est toujours à préciser."))
@click.argument("month", required=False, metavar="AAAA-MM")
@click.option("--outbox", type=click.Path(path_type=Path), metavar="DOSSIER",
              help=_("Écrire les messages (.eml) dans ce dossier au lieu de les envoyer "
                     "(défaut sans serveur SMTP : outbox/)."))
@click.option("--test", "test_address", metavar="ADRESSE",
              help=_("Envoyer chaque édition à cette seule adresse, avec « [TEST] » dans "
                     "l'objet (ni approbation ni registre des envois)."))
@click.option("--renvoyer-incertains", "resend_uncertain", is_flag=True,
              help=_("Renvoyer aussi les messages « incertains » (transmis au serveur par un "
                     "envoi interrompu avant sa réponse), après avoir vérifié qu'ils ne sont "
                     "pas arrivés : ceux qui sont arrivés le seraient deux fois."))
def send(month: Optional[str], outbox: Optional[Path], test_address: Optional[str],
         resend_uncertain: bool) -> None:
    from ..pipeline import send as run_send
    from ..pipeline import send_test

    settings = _settings()
    if month is None:
        raise InfolettreError(
            _("précisez le numéro à envoyer : un envoi ne se défait pas, il ne part donc "
              "jamais sans son numéro."),
            fix=_("Par exemple : infolettre send {month} (le plus récent de content/).")
            .format(month=latest_month(settings)))
    check_month(month)
    with console.status(Text(_("Envoi du numéro {month}…").format(month=month))):
        if test_address:
            report, problems = send_test(settings, month, test_address, outbox=outbox,
                                         clock=state.clock)
        else:
            report, problems = run_send(settings, month, outbox=outbox,
                                        release_uncertain=resend_uncertain, clock=state.clock)
    console.print(report.summary())
    for result in report.problems:
        console.print(f"  {result.envelope.recipient} ({result.envelope.edition}) : "
                      f"{result.outcome.value} {result.code or ''} {result.detail}",
                      markup=False, soft_wrap=True)
    from ..pipeline.publish import PUBLISHED

    for note in (p for p in problems if p.kind == PUBLISHED):
        console.print(note.message, markup=False, soft_wrap=True)
    # The pivot's notes (past events, clashes) were shown by check and build: not again here.
    shown = [p for p in problems if p.severity is not Severity.NOTICE]
    raise click.exceptions.Exit(max(show_problems(shown), 0 if report.complete else 1))


@app.command("status", help=_("Dire où en est l'envoi d'un numéro (défaut : le plus récent) : "
                              "envoyés, en attente, échecs."))
@MONTH
@click.option("--failed", is_flag=True,
              help=_("Lister les échecs et les envois incertains avec leur raison."))
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FICHIER", help=_("Écrire les échecs dans ce fichier CSV."))
def status(month: Optional[str], failed: bool, csv_path: Optional[Path]) -> None:
    from ..pipeline import status as run_status

    settings = _settings()
    # read-only: never creates the database; refuses (exit 2) if the ledger lost a send
    report = run_status(settings, _month(settings, month), csv=csv_path, clock=state.clock)
    if not report.sent:
        console.print(_("{month} : aucun envoi enregistré pour ce numéro (il n'a jamais été "
                        "envoyé).").format(month=report.month))
        raise click.exceptions.Exit(0)
    console.print(f"{report.month} : {report.summary}")
    if settings.bounces is not None:
        from ..pipeline.suppressions import issue_bounces

        console.print(f"{report.month} : {issue_bounces(settings, report.month).summary()}",
                      soft_wrap=True)
    if failed:
        for row in report.failures:
            console.print(f"{row.email} ({row.edition}) : {row.reason}", soft_wrap=True)
    if csv_path:
        console.print(_("{n} échec(s) écrit(s) dans {path}.").format(n=report.csv_rows,
                                                                     path=csv_path))
    raise click.exceptions.Exit(0 if report.done else 1)


@app.command("approve", help=_("Approuver un numéro après relecture (défaut : le plus "
                               "récent) : seul un numéro approuvé, et inchangé depuis, peut "
                               "être envoyé."))
@MONTH
@click.option("--par", "by", metavar="NOM", default=login_name,
              help=_("Qui approuve (défaut : l'utilisateur de la session)."))
@click.option("--malgre-envoi", "despite_sent", is_flag=True,
              help=_("Approuver une nouvelle version d'un numéro déjà envoyé à une partie des "
                     "personnes : seules celles pas encore jointes la recevront."))
def approve(month: Optional[str], by: str, despite_sent: bool) -> None:
    from ..pipeline import approve as run_approve

    settings = _settings()
    month = _month(settings, month)
    signed, problems = run_approve(settings, month, by, despite_sent=despite_sent,
                                   clock=state.clock)
    console.print(_("Numéro {month} approuvé par {by} : {n} nouvelle(s) (empreinte {digest}).")
                  .format(month=month, by=signed.signed_by, n=signed.items_count,
                          digest=signed.fingerprint[:12]))
    shown = [p for p in problems if p.severity is not Severity.NOTICE]
    raise click.exceptions.Exit(show_problems(shown))


@app.command("postal", help=_("Exporter les personnes qui reçoivent le numéro par la poste : "
                              "un CSV pour un publipostage et un PDF d'étiquettes Avery 5160 "
                              "(défaut : le plus récent)."))
@MONTH
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FICHIER", help=_("Fichier CSV à écrire (défaut : "
                                        "build/AAAA-MM/envoi-postal.csv) ; les étiquettes vont "
                                        "à côté, dans <nom>-etiquettes.pdf."))
def postal(month: Optional[str], out: Optional[Path]) -> None:
    from ..pipeline import postal as run_postal

    settings = _settings()
    month = _month(settings, month)
    result = run_postal(settings, month, out=out)
    console.print(_("{n} destinataire(s) par la poste : {path}").format(n=result.count,
                                                                       path=result.csv))
    if result.labels is None:
        console.print(_("Aucune étiquette à imprimer."))
    else:
        console.print(_("Étiquettes Avery 5160 (à imprimer à 100 %) : {path}").format(
            path=result.labels))
    raise click.exceptions.Exit(show_problems(result.problems))

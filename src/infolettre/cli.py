"""The ``infolettre`` command: one subcommand per stage, and the one place errors are caught.

Every error reaches the person as French sentences (what, where, how to fix); a traceback is
shown only with ``--debug``. Exit codes: 0 fine, 1 content problems, 2 an error that stopped
the command, 3 an unexpected failure (a bug: please report it with ``--debug``).
"""

from __future__ import annotations

import getpass
import os
import sys
import traceback
from datetime import date
from pathlib import Path
from typing import Optional

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import cli_french, i18n
from .clock import SYSTEM_CLOCK, Clock
from .errors import InfolettreError, Problem, Severity
from .i18n import _
from .settings import Settings, load_settings
from .store import check_month, latest_month

cli_french.install()  # before the options below: click names their types as it builds them
# Markup off: text from outside (titles, senders, organisme, file names, server replies) is
# never read as Rich markup (« [/] » would crash, « [link=…] » would forge a link). Styled
# output is built as ``Text`` (``Text.assemble``), which keeps the outside text literal.
console = Console(highlight=False, markup=False)
errors = Console(stderr=True, highlight=False, markup=False)


class _State:
    debug = False
    strict = False
    config: Optional[Path] = None
    clock: Clock = SYSTEM_CLOCK  # the one clock every command passes down (``main(clock=)``)


state = _State()


@click.group(cls=cli_french.Group,
             help=_("Infolettre mensuelle : vérifier, produire et envoyer un numéro."),
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", type=click.Path(path_type=Path), envvar="INFOLETTRE_CONFIG",
              metavar="FICHIER",
              help=_("Fichier de configuration (défaut : ./infolettre.toml)."))
@click.option("--debug", is_flag=True, help=_("Afficher le détail technique des erreurs."))
@click.option("--strict", is_flag=True, help=_("Traiter les avertissements comme des erreurs."))
def app(config: Optional[Path], debug: bool, strict: bool) -> None:
    state.config, state.debug, state.strict = config, debug, strict


def _settings() -> Settings:
    settings = load_settings(state.config)
    i18n.activate(settings.identity.langue)
    return settings


def _month(settings: Settings, month: Optional[str]) -> str:
    return check_month(month) if month else latest_month(settings)


def _parse_day(value: Optional[str]) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InfolettreError(_("date de parution invalide : {value}.").format(value=value),
                              fix=_("Écrivez-la ainsi : 2026-12-01.")) from None


def show_problems(problems: list[Problem]) -> int:
    """Print each problem (where, what, how to fix); return the exit code they call for."""
    if not problems:
        return 0
    styles = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}
    console.print(Text.assemble("\n", (_("À vérifier"), "bold")))
    for p in problems:
        where = f"{p.where} : " if p.where else ""
        console.print(Text.assemble((p.severity.value, styles[p.severity]), " ", where,
                                    p.message), soft_wrap=True)
        if p.fix:
            console.print(Text(f"    → {p.fix}"), soft_wrap=True)
    counts = {s: sum(p.severity is s for p in problems) for s in Severity}
    console.print(_("{e} erreur(s), {w} avertissement(s), {n} note(s).").format(
        e=counts[Severity.ERROR], w=counts[Severity.WARNING], n=counts[Severity.NOTICE]))
    if state.strict and counts[Severity.WARNING] and not counts[Severity.ERROR]:
        console.print(_("--strict : les avertissements font échouer la commande."))
    return 1 if counts[Severity.ERROR] or (state.strict and counts[Severity.WARNING]) else 0


MONTH = click.argument("month", required=False, metavar="[AAAA-MM]")


@app.command("check", help=_("Vérifier les nouvelles d'un numéro (défaut : le plus récent) et "
                             "la configuration, sans rien produire."))
@MONTH
def check(month: Optional[str]) -> None:
    from .pipeline import check as run_check

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
    from .pipeline import build as run_build
    from .render.email import weight_label

    settings = _settings()
    month = _month(settings, month)
    with console.status(Text(_("Production du numéro {month}…").format(month=month))):
        result = run_build(settings, month, out=out, parution=_parse_day(parution),
                           preview=preview, pdf=pdf)
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
    from .pipeline import send as run_send
    from .pipeline import send_test

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
    from .pipeline import status as run_status

    settings = _settings()
    # read-only: never creates the database; refuses (exit 2) if the ledger lost a send
    report = run_status(settings, _month(settings, month), csv=csv_path, clock=state.clock)
    if not report.sent:
        console.print(_("{month} : aucun envoi enregistré pour ce numéro (il n'a jamais été "
                        "envoyé).").format(month=report.month))
        raise click.exceptions.Exit(0)
    console.print(f"{report.month} : {report.summary}")
    if failed:
        for row in report.failures:
            console.print(f"{row.email} ({row.edition}) : {row.reason}", soft_wrap=True)
    if csv_path:
        console.print(_("{n} échec(s) écrit(s) dans {path}.").format(n=report.csv_rows,
                                                                     path=csv_path))
    raise click.exceptions.Exit(0 if report.done else 1)


@app.command("desabonnements", help=_("Traiter les demandes de désabonnement reçues par "
                                      "courriel (dossier Maildir)."))
@click.option("--maildir", type=click.Path(path_type=Path, file_okay=False),
              help=_("Dossier Maildir à lire (défaut : [desabonnement] maildir)."))
def unsubscribe_requests(maildir: Optional[Path]) -> None:
    from .pipeline import unsubscribe_requests as read_requests

    report = read_requests(_settings(), maildir=maildir, clock=state.clock)
    console.print(report.summary())
    for name, reason in [*report.to_review, *report.left]:
        console.print(f"  {name} : {reason}", markup=False, soft_wrap=True)
    raise click.exceptions.Exit(1 if report.to_review or report.left else 0)


@app.command("desabonner", help=_("Désabonner une adresse à la demande de la personne "
                                  "(par téléphone, en personne…)."))
@click.argument("address", metavar="ADRESSE")
def unsubscribe_one(address: str) -> None:
    from .pipeline import unsubscribe

    address, new = unsubscribe(_settings(), address, clock=state.clock)
    console.print((_("L'adresse {address} est désabonnée : elle ne recevra plus rien.") if new
                   else _("L'adresse {address} était déjà désabonnée.")).format(address=address))


@app.group("gather", help=_("Recueillir les nouvelles envoyées par courriel ou publiées dans "
                            "des flux RSS et Atom."))
def gather() -> None:
    pass


@gather.command("mail", help=_("Lire les courriels reçus et en faire des nouvelles à relire "
                               "(boîte IMAP ou dossier Maildir de [courriel_entrant])."))
@click.option("--maildir", type=click.Path(path_type=Path, file_okay=False),
              help=_("Dossier Maildir à lire (défaut : [courriel_entrant] de "
                     "infolettre.toml)."))
def gather_mail(maildir: Optional[Path]) -> None:
    from .gather.intake import IntakeResult
    from .pipeline import gather_mail as read_mail

    def progress(result: IntakeResult) -> None:
        if result.kind == "item" and result.path is not None:
            console.print(f"  {result.path}", markup=False, soft_wrap=True)

    report = read_mail(_settings(), maildir=maildir, clock=state.clock, progress=progress)
    console.print(report.summary(), markup=False, soft_wrap=True)
    for result in report.to_review:
        console.print(f"  {result.source} : {result.reason}", markup=False, soft_wrap=True)
    raise click.exceptions.Exit(1 if report.to_review else 0)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


@app.command("approve", help=_("Approuver un numéro après relecture (défaut : le plus "
                               "récent) : seul un numéro approuvé, et inchangé depuis, peut "
                               "être envoyé."))
@MONTH
@click.option("--par", "by", metavar="NOM", default=_login,
              help=_("Qui approuve (défaut : l'utilisateur de la session)."))
@click.option("--malgre-envoi", "despite_sent", is_flag=True,
              help=_("Approuver une nouvelle version d'un numéro déjà envoyé à une partie des "
                     "personnes : seules celles pas encore jointes la recevront."))
def approve(month: Optional[str], by: str, despite_sent: bool) -> None:
    from .pipeline import approve as run_approve

    settings = _settings()
    month = _month(settings, month)
    signed, problems = run_approve(settings, month, by, despite_sent=despite_sent,
                                   clock=state.clock)
    console.print(_("Numéro {month} approuvé par {by} : {n} nouvelle(s) (empreinte {digest}).")
                  .format(month=month, by=signed.signed_by, n=signed.items_count,
                          digest=signed.fingerprint[:12]))
    shown = [p for p in problems if p.severity is not Severity.NOTICE]
    raise click.exceptions.Exit(show_problems(shown))


@app.command("postal", help=_("Exporter en CSV, pour un publipostage, les personnes qui "
                              "reçoivent le numéro par la poste (défaut : le plus récent)."))
@MONTH
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FICHIER", help=_("Fichier CSV à écrire (défaut : "
                                        "build/AAAA-MM/envoi-postal.csv)."))
def postal(month: Optional[str], out: Optional[Path]) -> None:
    from .pipeline import postal as run_postal

    settings = _settings()
    month = _month(settings, month)
    path, count, problems = run_postal(settings, month, out=out)
    console.print(_("{n} destinataire(s) par la poste : {path}").format(n=count, path=path))
    raise click.exceptions.Exit(show_problems(problems))


@app.command("sauvegarde", help=_("Copier l'état (base, journaux, relevés d'envoi, secret) "
                                  "dans un dossier, pour le restaurer après une perte."))
@click.argument("folder", required=False, metavar="[DOSSIER]",
                type=click.Path(path_type=Path, file_okay=False))
def backup(folder: Optional[Path]) -> None:
    from .pipeline import backup as run_backup
    from .state.secret import ENV_SECRET

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


def _say(label: str, style: str, text: str) -> None:
    """Print « label : text » to stderr; the text is never read as Rich markup ([smtp]…)."""
    errors.print(Text.assemble((label, style), " : ", text), soft_wrap=True)


def _report(exc: BaseException) -> int:
    from .state import corruption_error, is_corruption

    if is_corruption(exc):  # a damaged state database, found in the middle of a command
        exc = corruption_error()
    if isinstance(exc, InfolettreError):
        _say(_("Erreur"), "bold red", f"{exc.where + ' : ' if exc.where else ''}{exc.message}")
        if exc.fix:
            _say(_("Pour corriger"), "bold", exc.fix)
        if state.debug:
            errors.print(traceback.format_exc(), markup=False)
        return 2
    _say(_("Erreur inattendue"), "bold red", f"{type(exc).__name__}: {exc}")
    errors.print(_("C'est probablement un défaut du programme. Relancez la commande avec "
                   "--debug et transmettez le message complet à l'équipe technique."))
    if state.debug:
        errors.print(traceback.format_exc(), markup=False)
    return 3


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run the CLI; every error is reported here, once, in French.

    ``clock`` is the one clock of the run (the system's by default; tests pass a fixed one).
    """
    i18n.activate()
    state.clock = clock or SYSTEM_CLOCK
    args = list(sys.argv[1:] if argv is None else argv)
    state.debug = "--debug" in args
    try:
        code = app.main(args=args, prog_name="infolettre", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        errors.print(_("Interrompu."))
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Exception as exc:  # the one place errors are caught
        return _report(exc)
    return code if isinstance(code, int) else 0


from . import cli_feeds  # noqa: E402,F401 - registers ``gather feeds`` and ``feeds``

if __name__ == "__main__":
    sys.exit(main())

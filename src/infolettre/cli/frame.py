"""The ``infolettre`` command's frame: the group, its options, the one clock, the consoles,
how problems and errors are shown — and ``main``, the one place errors are caught.

Every error reaches the person as French sentences (what, where, how to fix); a traceback is
shown only with ``--debug``. Exit codes: 0 fine, 1 content problems, 2 an error that stopped
the command, 3 an unexpected failure (a bug: please report it with ``--debug``). The
commands themselves (``issue``, ``gather``, ``data``) only parse, call ``pipeline`` and print.
"""

from __future__ import annotations

import getpass

import sys
import traceback
from datetime import date
from pathlib import Path
from typing import Optional

import click
from rich.console import Console
from rich.text import Text

from .. import i18n
from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError, Problem, Severity
from ..i18n import _
from ..settings import Settings, load_settings
from ..content import check_month, latest_month
from . import french

french.install()  # before the options below: click names their types as it builds them
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


@click.group(cls=french.Group,
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


def login_name() -> str:
    """The account running the command: the default « --par » of an approval or a
    (re)activation, so the journal says who, even when nobody typed a name."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def _say(label: str, style: str, text: str) -> None:
    """Print « label : text » to stderr; the text is never read as Rich markup ([smtp]…)."""
    errors.print(Text.assemble((label, style), " : ", text), soft_wrap=True)


def _report(exc: BaseException) -> int:
    from ..state import corruption_error, is_corruption

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
    return run_command(app, "infolettre", argv, clock=clock)


def run_command(command: click.Command, name: str, argv: list[str] | None = None, *,
                clock: Clock | None = None) -> int:
    """Run a front door's click command (``infolettre``, ``scheduler.py``): the one place
    errors are caught and said in French, with the exit codes of the module docstring."""
    i18n.activate()
    state.clock = clock or SYSTEM_CLOCK
    args = list(sys.argv[1:] if argv is None else argv)
    state.debug = "--debug" in args
    try:
        code = command.main(args=args, prog_name=name, standalone_mode=False)
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

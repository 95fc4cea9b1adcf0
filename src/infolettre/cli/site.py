"""The command of the web archive: ``infolettre publish [AAAA-MM]``."""

from __future__ import annotations

from typing import Optional

import click
from rich.text import Text

from ..errors import Severity
from ..i18n import _
from ..content import check_month
from .frame import MONTH, _settings, app, console, show_problems, state


@app.command("publish", help=_("Publier un numéro approuvé dans l'archive web ([chemins] "
                               "site), puis refaire tout le site ; sans numéro, refaire le "
                               "site de ce qui a déjà été publié."))
@MONTH
def publish(month: Optional[str]) -> None:
    from ..pipeline import publish as run_publish

    settings = _settings()
    if month is not None:
        check_month(month)
    label = (_("Publication du numéro {month}…").format(month=month) if month
             else _("Mise à jour du site…"))
    with console.status(Text(label)):
        result = run_publish(settings, month, clock=state.clock)
    if month:
        counts = result.counts
        console.print(_("Numéro {month} publié : {new} nouvelle(s) publiée(s), {fixed} "
                        "corrigée(s), {gone} retirée(s), {same} inchangée(s).").format(
            month=month, new=counts.new, fixed=counts.corrected, gone=counts.withdrawn,
            same=counts.unchanged), soft_wrap=True)
    console.print(_("Site : {pages} page(s), {written} fichier(s) écrit(s) ou mis à jour.")
                  .format(pages=result.pages, written=len(result.written)))
    console.print(_("Page d'accueil : {path}").format(path=result.index), soft_wrap=True)
    shown = [p for p in result.problems if p.severity is not Severity.NOTICE]
    raise click.exceptions.Exit(show_problems(shown))

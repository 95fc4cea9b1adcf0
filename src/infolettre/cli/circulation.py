"""``infolettre circulation``: who speaks in the bulletin, who is silent, how far news goes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..i18n import _
from .frame import _settings, app, console


@app.command("circulation", help=_("Rapport de circulation des derniers numéros : nouvelles "
                                   "par territoire, organisme, table, rubrique et source ; "
                                   "territoires sous-représentés ; organismes silencieux."))
@click.option("--mois", "issues", default="6", metavar="N", show_default=True,
              help=_("Nombre de derniers numéros comptés (de 1 à 120)."))
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FICHIER", help=_("Écrire aussi les chiffres dans ce fichier CSV "
                                        "(pour Excel : une ligne par territoire et par "
                                        "organisme)."))
def circulation(issues: str, csv_path: Optional[Path]) -> None:
    from ..circulation import report_lines
    from ..pipeline.circulation import check_issues, circulation_report, export_csv

    settings = _settings()
    result = circulation_report(settings, issues=check_issues(issues))
    for line in report_lines(result, settings):
        console.print(line, soft_wrap=True)
    if csv_path:
        n = export_csv(result, settings, csv_path)
        console.print("")
        console.print(_("{n} ligne(s) écrite(s) dans {path}.").format(n=n, path=csv_path),
                      soft_wrap=True)

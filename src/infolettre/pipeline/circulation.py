"""« Rapport de circulation »: read the last issues from ``content/``, organize them, and
count who speaks and how far news travels (``infolettre circulation``, the review app's
« Circulation » page).

The counting is pure (``infolettre.circulation``); this is the part that reads: each
month's items through the content store's reader (the same files ``check`` reads, with
their status), and each issue organized by ``organize`` (its rule for « Ailleurs dans la
région », never a copy). The silences are counted over up to ``HISTORY`` issues, so « silencieux
depuis » can name a month older than the figures. Nothing is written, except the CSV asked for.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..circulation import MonthItems, Report, report, source_label
from ..circulation.chart import month_label
from ..content import load_month, months as content_months
from ..dates import month_title
from ..errors import ContentError, InfolettreError
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..models import Month
from ..organize import organize
from ..settings import Settings

DEFAULT_ISSUES = 6
#: The most issues a report covers (ten years of a monthly bulletin).
MOST_ISSUES = 120
#: Issues read to count the silences, at least (two years of a monthly bulletin).
HISTORY = 24
#: An organization is « silencieuse » after this many issues without a word.
SILENCE_AFTER = 3


def check_issues(value: object) -> int:
    """Return ``value`` as a number of issues, or say clearly why it is not one."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MOST_ISSUES:
        raise InfolettreError(
            _("« {value} » n'est pas un nombre de numéros valide.").format(value=str(value)[:20]),
            where="--mois", fix=_("Donnez un nombre entier de 1 à {most}, par exemple "
                                  "--mois 6 pour les six derniers numéros.").format(
                most=MOST_ISSUES))
    return value


def read_history(settings: Settings, issues: int, *, until: str | None = None,
                 organized: int | None = None) -> list[MonthItems]:
    """Read the last ``issues`` months of ``content/`` (up to ``until``), oldest first; the
    newest ``organized`` of them (default: all) are organized into issues."""
    found = [Month(m) for m in content_months(settings)]
    if until is not None:
        found = [m for m in found if m <= Month(until)]
    chosen = found[-issues:]
    organized = len(chosen) if organized is None else organized
    history = []
    for n, month in enumerate(chosen):
        items, _problems = load_month(settings, month)  # a bad file is check's business
        issue = organize(items, settings, month) if n >= len(chosen) - organized else None
        history.append(MonthItems(month, tuple(items), issue))
    return history


def circulation_report(settings: Settings, *, issues: int = DEFAULT_ISSUES,
                       until: str | None = None,
                       silence_after: int = SILENCE_AFTER) -> Report:
    """Count the last ``issues`` issues (the month folders of ``content/``, up to ``until``).

    Raise a French error when ``issues`` is not a number from 1 to ``MOST_ISSUES``, or when
    there is no issue to count.
    """
    issues = check_issues(issues)
    history = read_history(settings, max(issues, HISTORY), until=until, organized=issues)
    if not history:
        raise ContentError(_("aucun numéro à compter : pas de dossier AAAA-MM dans {path}"
                             "{until}.").format(path=settings.paths.contenu, until=(
                                 _(" jusqu'à {month}").format(month=until) if until else "")),
                           fix=_("Le rapport compte les nouvelles des dossiers de numéros "
                                 "(content/2026-12/…) : lancez-le une fois un numéro préparé."))
    return report(history, settings, window=issues, silence_after=silence_after)


def csv_text(result: Report, settings: Settings) -> str:
    """The report as CSV: one row per territory, per concertation table, then per
    organization, with every figure (French headers; months, rubriques and sources each a
    column)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    months = [month_label(m) for m in result.months]
    rubriques = list(settings.rubriques)
    sources = list(result.by_source)
    writer.writerow([_("genre"), _("nom"), _("territoire"), _("table"), _("nouvelles"),
                     *months, *(settings.rubriques[r] for r in rubriques),
                     *(_("source : {name}").format(name=source_label(s)) for s in sources),
                     _("organismes inscrits"), _("organismes entendus"),
                     _("part des nouvelles (%)"), _("part des organismes (%)"),
                     _("sous-représenté"), _("parues ailleurs (nouvelles)"),
                     _("parues ailleurs (fois)"), _("dernière nouvelle"),
                     _("silencieux depuis"), _("numéros silencieux")])
    yes, no = _("oui"), _("non")
    for t in result.territories:
        writer.writerow([_("territoire"), t.name, t.name, "", t.items, *t.by_month,
                         *(t.by_rubrique[r] for r in rubriques),
                         *(t.by_source[s] for s in sources), t.organizations,
                         t.organizations_heard, round(t.share_items * 100),
                         round(t.share_organizations * 100),
                         yes if t.under_represented else no, t.elsewhere_items,
                         t.elsewhere_appearances, "", "", ""])
    for t in result.tables:
        writer.writerow([_("table"), t.table, settings.territory_name(t.territoire), t.table,
                         t.items, *t.by_month, *(t.by_rubrique.get(r, 0) for r in rubriques),
                         *(t.by_source.get(s, 0) for s in sources), t.organizations,
                         "", "", "", "", "", "", "", "", ""])
    for o in result.organizations:
        writer.writerow([_("organisme") if o.registered else _("organisme non inscrit"),
                         o.nom, settings.territory_name(o.territoire), o.table or "", o.items,
                         *o.by_month, *(o.by_rubrique[r] for r in rubriques),
                         *(o.by_source[s] for s in sources), "", "", "", "", "", "", "",
                         month_title(o.last_heard) if o.last_heard else "",
                         month_title(o.silence.since) if o.silence else "",
                         o.silence.issues if o.silence else ""])
    return buffer.getvalue()


def export_csv(result: Report, settings: Settings, path: Path) -> int:
    """Write the report's CSV (UTF-8 with BOM, for Excel) durably; return its rows."""
    text = csv_text(result, settings)
    try:
        atomic_write_bytes(Path(path), text.encode("utf-8-sig"))
    except OSError as exc:
        raise InfolettreError(_("impossible d'écrire le rapport de circulation "
                                "({detail}).").format(detail=exc.strerror or exc),
                              where=str(path), fix=_("Vérifiez que le dossier existe et est "
                                                     "accessible en écriture.")) from None
    return len(result.territories) + len(result.tables) + len(result.organizations)

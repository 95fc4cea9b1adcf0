"""The report in French, line by line: what ``infolettre circulation`` prints, written for
a community worker who reads it at a table meeting (words, not codes)."""

from __future__ import annotations

from ..dates import month_title
from ..i18n import _, ngettext
from ..models import Source, Status
from ..settings import Settings
from .chart import month_label
from .model import Report, Silence, TerritoryFigures


def source_label(source: str) -> str:
    """« courriel », « flux » or « fichier »: how an item reached the bulletin."""
    return {Source.MAIL.value: _("courriel"), Source.FEED.value: _("flux"),
            Source.FILE.value: _("fichier")}.get(source, source)


def status_label(status: str, n: int) -> str:
    return {Status.SUBMITTED.value: ngettext("{n} jamais approuvée (ou pas encore relue)",
                                             "{n} jamais approuvées (ou pas encore relues)", n),
            Status.REFUSED.value: ngettext("{n} refusée", "{n} refusées", n),
            Status.HELD.value: ngettext("{n} courriel retenu", "{n} courriels retenus", n),
            }.get(status, "{n} " + status).format(n=n)


def percent(fraction: float) -> str:
    return _("{n} %").format(n=round(fraction * 100))


def counted_sentence(report: Report) -> str:
    """Say which items the figures count, and what they leave aside."""
    text = ngettext("Sont comptées les nouvelles approuvées, celles que les lecteurs ont "
                    "reçues (ou recevront) : {n} nouvelle.",
                    "Sont comptées les nouvelles approuvées, celles que les lecteurs ont "
                    "reçues (ou recevront) : {n} nouvelles.", report.total).format(n=report.total)
    if report.left_out:
        text += " " + _("Non comptées : {list}.").format(list=", ".join(
            status_label(s, n) for s, n in report.left_out.items()))
    return text


def period(report: Report) -> str:
    if not report.months:
        return _("aucun numéro")
    return ngettext("{n} numéro, de {first} à {last}", "{n} numéros, de {first} à {last}",
                    len(report.months)).format(n=len(report.months),
                                               first=month_title(report.months[0]),
                                               last=month_title(report.months[-1]))


def silence_sentence(silence: Silence) -> str:
    """« silencieux depuis mars 2026 (4 numéros) ; dernière nouvelle : février 2026 »."""
    text = ngettext("silencieux depuis {since} ({n} numéro)",
                    "silencieux depuis {since} ({n} numéros)", silence.issues).format(
        since=month_title(silence.since), n=silence.issues)
    if silence.last_heard:
        return text + _(" ; dernière nouvelle : {month}").format(
            month=month_title(silence.last_heard))
    return text + _(" ; aucune nouvelle dans les numéros lus")


def news(n: int) -> str:
    """« 1 nouvelle », « 7 nouvelles »."""
    return ngettext("{n} nouvelle", "{n} nouvelles", n).format(n=n)


def elsewhere_sentence(items: int, times: int) -> str:
    """How far a territory's news went in the other territories' editions."""
    return ngettext("{items} nouvelle, {times} fois dans les éditions des autres territoires",
                    "{items} nouvelles, {times} fois dans les éditions des autres territoires",
                    items).format(items=items, times=times)


def regional_sentence(items: int, times: int) -> str:
    """How often the regional section reached the territorial editions."""
    return ngettext("Section régionale : {items} nouvelle régionale, parue {times} fois dans "
                    "les éditions territoriales.",
                    "Section régionale : {items} nouvelles régionales, parues {times} fois "
                    "dans les éditions territoriales.", items).format(items=items, times=times)


def breakdown(counts: dict[str, int], label) -> str:
    return ", ".join(f"{label(k)} {n}" for k, n in counts.items() if n) or "—"


def territory_lines(t: TerritoryFigures, report: Report, settings: Settings) -> list[str]:
    head = ngettext("{name} : {n} nouvelle", "{name} : {n} nouvelles", t.items).format(
        name=t.name, n=t.items)
    head += " " + _("({items} du total ; {orgs} des organismes inscrits)").format(
        items=percent(t.share_items), orgs=percent(t.share_organizations))
    if t.under_represented:
        head += " — " + _("SOUS-REPRÉSENTÉ")
    lines = [head,
             "    " + _("par numéro : {list}").format(list=" · ".join(
                 f"{month_label(m)} {n}" for m, n in zip(report.months, t.by_month))),
             "    " + _("rubriques : {list}").format(
                 list=breakdown(t.by_rubrique, lambda r: settings.rubriques.get(r, r))),
             "    " + _("sources : {list}").format(list=breakdown(t.by_source, source_label)),
             "    " + _("organismes inscrits entendus : {heard} sur {n}").format(
                 heard=t.organizations_heard, n=t.organizations)]
    if t.slug != "regional":
        lines.append("    " + _("parues dans « Ailleurs dans la région » : {sentence}").format(
            sentence=elsewhere_sentence(t.elsewhere_items, t.elsewhere_appearances)))
    return lines


def report_lines(report: Report, settings: Settings) -> list[str]:
    """The whole report, in the order a table meeting reads it."""
    lines = [_("Rapport de circulation — {bulletin}").format(bulletin=settings.identity.nom),
             _("Période : {period}.").format(period=period(report)),
             counted_sentence(report), "",
             _("Par territoire"), ""]
    for t in report.territories:
        lines += territory_lines(t, report, settings) + [""]
    under = report.under_represented
    lines.append(_("Territoires sous-représentés (part des nouvelles sous les deux tiers de "
                   "leur part des organismes inscrits) : {list}.").format(
        list=", ".join(t.name for t in under) or _("aucun")))
    lines.append(regional_sentence(report.regional_items, report.regional_appearances))
    lines.append(_("Nouvelles locales parues ailleurs dans la région : {items} sur "
                   "{local}.").format(items=report.elsewhere_items, local=report.local_items))
    lines += ["", _("Par rubrique : {list}").format(
                  list=breakdown(report.by_rubrique, lambda r: settings.rubriques.get(r, r))),
              _("Par source : {list}").format(list=breakdown(report.by_source, source_label)),
              "", _("Par table de concertation")]
    lines += [_("  {table} ({territory}) : {news}, {orgs} ; sources : {sources}").format(
        table=t.table, territory=settings.territory_name(t.territoire), news=news(t.items),
        orgs=ngettext("{n} organisme", "{n} organismes", t.organizations).format(
            n=t.organizations), sources=breakdown(t.by_source, source_label))
        for t in report.tables] or ["  " + _("aucune table inscrite")]
    lines += ["", _("Par organisme")]
    for org in report.organizations:
        line = _("  {nom} ({territory}) : {news}").format(
            nom=org.nom, territory=settings.territory_name(org.territoire), news=news(org.items))
        if not org.registered:
            line += " — " + _("pas dans le registre [[organismes]]")
        lines.append(line)
    lines += ["", ngettext("Silencieux depuis {n} numéro ou plus",
                           "Silencieux depuis {n} numéros ou plus",
                           report.silence_after).format(n=report.silence_after)]
    lines += [f"  {s.organisme} ({settings.territory_name(s.territoire)}) : "
              f"{silence_sentence(s)}" for s in report.silent] or ["  " + _("aucun")]
    return lines

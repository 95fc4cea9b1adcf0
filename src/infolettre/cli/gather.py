"""Commands that gather news (``gather mail``, ``gather feeds``) and show the feeds' health."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Optional

import click
from rich.text import Text

from ..dates import long_date, time_of_day
from ..errors import InfolettreError
from ..i18n import _
from .frame import _settings, app, console, errors, state


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
    from ..gather.intake import IntakeResult
    from ..pipeline import gather_mail as read_mail

    def progress(result: IntakeResult) -> None:
        if result.kind == "item" and result.path is not None:
            console.print(f"  {result.path}", markup=False, soft_wrap=True)

    report = read_mail(_settings(), maildir=maildir, clock=state.clock, progress=progress)
    console.print(report.summary(), markup=False, soft_wrap=True)
    for result in report.to_review:
        console.print(f"  {result.source} : {result.reason}", markup=False, soft_wrap=True)
    raise click.exceptions.Exit(1 if report.to_review else 0)


def _local(iso: str | None, tz) -> str:
    """Show a stored UTC time as « mercredi 25 novembre 2026 à 14 h 05 » (« — » if never)."""
    if not iso:
        return "—"
    when = datetime.fromisoformat(iso).astimezone(tz)
    return _("{date} à {time}").format(date=long_date(when), time=time_of_day(when))


def _require_feeds(settings) -> None:
    if not settings.feeds:
        raise InfolettreError(
            _("aucun flux n'est configuré."),
            fix=_("Dans infolettre.toml, ajoutez une table [[flux]] par flux à suivre, avec "
                  "« url », « nom », « territoire » et « rubrique » (voir l'exemple commenté "
                  "du README)."))


@gather.command("feeds", help=_("Lire les flux RSS et Atom de [[flux]] et en faire des "
                                "nouvelles à relire."))
def gather_feeds_command() -> None:
    from ..pipeline import gather_feeds

    settings = _settings()
    _require_feeds(settings)

    def progress(outcome) -> None:
        name = outcome.feed.nom
        if outcome.status == "erreur":
            errors.print(Text.assemble((f"✗ {_('Échec')}", "yellow"),
                                       f" {name} ({outcome.feed.url}) : {outcome.error}"),
                         soft_wrap=True)
            return
        if outcome.status == "inchange":
            console.print(_("= {feed} : inchangé depuis le dernier passage").format(feed=name),
                          markup=False, soft_wrap=True)
            return
        console.print(_("✓ {feed} : {items} nouvelle(s), {dup} doublon(s), {seen} déjà vue(s), "
                        "{old} trop ancienne(s)").format(
            feed=name, items=len(outcome.written), dup=len(outcome.duplicates),
            seen=outcome.seen, old=outcome.old), markup=False, soft_wrap=True)
        for path in outcome.written:
            console.print(f"  {path}", markup=False, soft_wrap=True)
        for titre, original, _why in outcome.duplicates:
            console.print(_("  doublon : « {title} » ({feed}) = {path}").format(
                title=titre, feed=name, path=original), markup=False, soft_wrap=True)
        for warning in outcome.warnings:
            console.print(_("  {feed} : {warning}").format(feed=name, warning=warning),
                          markup=False, soft_wrap=True)
        if outcome.left:
            console.print(_("  {feed} : {n} entrée(s) de plus attendent le prochain "
                            "passage.").format(feed=name, n=outcome.left), markup=False)

    report = gather_feeds(settings, progress=progress, clock=state.clock)
    console.print(report.summary(), markup=False, soft_wrap=True)
    for outcome in report.alerts:
        errors.print(Text.assemble((_("Alerte"), "bold red"), " ", _(
            "le flux « {name} » échoue depuis {n} passages de suite : {error}").format(
            name=outcome.feed.nom, n=outcome.failures, error=outcome.error)), soft_wrap=True)
        errors.print("    → " + _("Ouvrez {url} dans un navigateur : si l'adresse a changé, "
                                  "corrigez « url » dans [[flux]] ; sinon, prévenez "
                                  "l'organisme qui publie le flux.").format(
            url=outcome.feed.url), soft_wrap=True, markup=False)
    raise click.exceptions.Exit(1 if report.alerts else 0)


@app.command("feeds", help=_("Afficher l'état de chaque flux : dernière réussite, dernière "
                             "erreur, échecs de suite."))
def feeds_command() -> None:
    from ..pipeline import feeds_health

    settings = _settings()
    _require_feeds(settings)
    tz, limit = settings.identity.timezone, settings.watch.alerte_apres
    alerts = 0
    for feed, s in feeds_health(settings):  # read-only: never creates the database
        failing = s.echecs_consecutifs >= limit
        alerts += failing
        mark = ("✗", "bold red") if failing else (("!", "yellow") if s.echecs_consecutifs
                                                  else ("✓", "green"))
        console.print(Text.assemble(mark, " ", (feed.nom, "bold"), f" — {feed.url}"),
                      soft_wrap=True)
        if s.derniere_tentative is None:
            console.print("    " + _("jamais lu"), markup=False)
            continue
        console.print("    " + _("dernière réussite : {when} · échecs de suite : {n} · "
                                  "nouvelles écrites : {items}").format(
            when=_local(s.derniere_reussite, tz), n=s.echecs_consecutifs,
            items=s.nouvelles), markup=False, soft_wrap=True)
        if s.echecs_consecutifs and s.derniere_erreur:
            console.print("    " + _("dernière erreur ({when}) : {error}").format(
                when=_local(s.erreur_le, tz), error=s.derniere_erreur),
                markup=False, soft_wrap=True)
    if alerts:
        errors.print(_("{n} flux en échec depuis au moins {limit} passages : voyez la dernière "
                       "erreur de chacun.").format(n=alerts, limit=limit), soft_wrap=True)
    raise click.exceptions.Exit(1 if alerts else 0)

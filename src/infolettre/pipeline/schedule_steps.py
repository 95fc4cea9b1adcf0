"""What each step of the calendar does: pipeline functions, called by ``schedule.run_step``.

Each action takes the occurrence (its issue's month, or the series) and returns a status
and a French sentence for the log and the pivot; it raises what the pipeline raises
(``schedule`` turns it into a recorded failure). Every action is safe to run again after
a crash: the readings only take what is new, the notices record each address they
reached, the send resumes from its ledger.

The send goes out only when the issue is signed off and unchanged since (checked here,
then again by ``send`` itself under the data folder's lock); otherwise the pivot is told
why, and the send is tried again the next day within ``[calendrier] envoi_fenetre``.
« Incertain » messages (a run interrupted between the content and the server's answer)
are sent again once ``incertains_delai`` has passed: the recipient may get the issue twice,
never zero times (the choice mail servers make), and the pivot is told who.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import closing
from datetime import timedelta

from .. import calendar
from ..calendar.steps import Occurrence
from ..clock import Clock
from ..dates import month_title
from ..deliver.ledger import State
from ..deliver.started import open_ledger
from ..gather.files import gather_files
from ..i18n import _, ngettext
from ..render.text import upfirst
from ..review.attention import silent_organizations
from ..settings import Settings
from ..state.runlock import current_holder
from ..state.sendrecords import read_started, started_months
from ..state.steps import DONE, FAILED, OK, WAITING, StepStore
from . import notices
from .bounces import read_bounces_step
from .data import backup
from .gather import gather_feeds, gather_mail
from .issue import send, status
from .publish import NOT_PUBLISHED
from .relance import remind_silent
from .sending import signoff_state

Action = Callable[[Settings, Occurrence, StepStore, Clock], tuple[str, str]]
#: Backups made by the scheduler that are kept (the oldest are removed).
BACKUPS_KEPT = 30
#: Months after its send start during which an issue's retries and report are followed.
FOLLOWED_DAYS = 62


def read_mail(settings: Settings, occurrence: Occurrence, store: StepStore,
              clock: Clock) -> tuple[str, str]:
    report = gather_mail(settings, clock=clock)
    return OK, _("{n} message(s) lu(s) : {items} nouvelle(s), {review} à vérifier.").format(
        n=len(report.results), items=report.count("item"), review=len(report.to_review))


def read_feeds(settings: Settings, occurrence: Occurrence, store: StepStore,
               clock: Clock) -> tuple[str, str]:
    report = gather_feeds(settings, clock=clock)
    if report.alerts:
        names = ", ".join(f"« {o.feed.nom} »" for o in report.alerts)
        return FAILED, report.summary() + " " + _(
            "En échec depuis plusieurs relevés : {names}. Voyez « infolettre feeds » ou la "
            "page d'accueil de l'application pour l'erreur de chacun.").format(names=names)
    return OK, report.summary()


def call_for_news(settings: Settings, occurrence: Occurrence, store: StepStore,
                  clock: Clock) -> tuple[str, str]:
    """Write to every address of every registered organization (each one once)."""
    return _to_organizations(settings, occurrence, store, clock,
                             [o.nom for o in settings.organizations], notices.call_for_news)


def remind(settings: Settings, occurrence: Occurrence, store: StepStore,
           clock: Clock) -> tuple[str, str]:
    """Write to the organizations that sent nothing for the issue yet."""
    items, _problems = gather_files(settings, occurrence.key)
    return _to_organizations(settings, occurrence, store, clock,
                             silent_organizations(items, settings), notices.reminder)


def _to_organizations(settings, occurrence, store, clock, names, make) -> tuple[str, str]:
    deadline = calendar.cycle(settings.calendar, occurrence.key,
                              settings.identity.timezone).deadline
    done = store.notified(occurrence.step, occurrence.key)
    wanted = [make(settings, address, org.nom, occurrence.key, deadline)
              for org in settings.organizations if org.nom in names
              for address in org.courriels if address.lower() not in done]
    failures = notices.deliver(settings, wanted, clock, sent=lambda n: store.mark_notified(
        occurrence.step, occurrence.key, n.address))
    sent = len(wanted) - len(failures)
    message = ngettext("{n} courriel envoyé ({orgs} organisme(s)).",
                       "{n} courriels envoyés ({orgs} organisme(s)).", sent).format(
        n=sent, orgs=len(names))
    if failures:
        return FAILED, message + " " + _("Non envoyés : {list}.").format(list="; ".join(
            f"{n.address} ({reason})" for n, reason in failures))
    return DONE, message


def deadline(settings: Settings, occurrence: Occurrence, store: StepStore,
             clock: Clock) -> tuple[str, str]:
    """Build the preview and send the pivot the state of the issue."""
    from .dashboard import issue_dashboard

    month = occurrence.key
    if not (settings.paths.contenu / month).is_dir():
        failures = notices.deliver(settings, notices.for_pivot(
            settings, _("[infolettre] Date de tombée : numéro de {mois}").format(
                mois=month_title(month)),
            _("C'est la date de tombée du numéro de {mois}, et aucune nouvelle n'a été "
              "reçue ou préparée pour lui (le dossier content/{month} n'existe pas).\n").format(
                mois=month_title(month), month=month)), clock)
        return (FAILED, failures[0][1]) if failures else (DONE, _("aucune nouvelle."))
    board = issue_dashboard(settings, month, clock)
    lines = [_("C'est la date de tombée du numéro de {mois}.").format(mois=month_title(month)),
             "", _("Nouvelles : {total} en tout, {soumis} à relire, {approuve} approuvée(s), "
                   "{refuse} refusée(s), {retenu} courriel(s) retenu(s).").format(
                 total=board.total, **board.by_status),
             _("Problèmes signalés : {n}.").format(n=len(board.problems))]
    if board.weights is not None:
        heavy = [e for e in board.weights.editions if e.too_heavy]
        lines.append(_("Éditions trop lourdes pour Gmail : {n}.").format(n=len(heavy)))
    elif board.weights_error:
        lines.append(_("L'aperçu n'a pas pu être construit : {error}").format(
            error=board.weights_error))
    lines += ["", _("Relisez, approuvez les nouvelles puis le numéro : {link}").format(
        link=notices.app_link(settings, f"/?numero={month}"))]
    cycle = calendar.cycle(settings.calendar, month, settings.identity.timezone)
    lines.append(_("L'envoi est prévu le {when}, s'il est approuvé d'ici là.").format(
        when=notices.when(settings, cycle.send)))
    failures = notices.deliver(settings, notices.for_pivot(
        settings, _("[infolettre] Date de tombée : numéro de {mois}").format(
            mois=month_title(month)), "\n".join(lines) + "\n"), clock)
    if failures:
        return FAILED, _("résumé non envoyé : {reason}").format(reason=failures[0][1])
    return DONE, _("aperçu construit, résumé envoyé ({n} nouvelles).").format(n=board.total)


def send_issue(settings: Settings, occurrence: Occurrence, store: StepStore,
               clock: Clock) -> tuple[str, str]:
    """Send the issue if it is signed off and unchanged; else tell the pivot why."""
    month = occurrence.key
    if month in started_months(settings.paths.donnees):
        return DONE, _("envoi déjà commencé (lancé à la main) ; la reprise le suit.")
    if not (settings.paths.contenu / month).is_dir():
        return _not_sendable(settings, occurrence, None, clock)
    state = signoff_state(settings, month, clock=clock)
    if not state.sendable:
        return _not_sendable(settings, occurrence, state, clock)
    report, problems = send(settings, month, clock=clock)
    _tell_not_published(settings, month, problems, clock)
    follow_up(settings, month, store, clock)
    return DONE, report.summary()


def _tell_not_published(settings: Settings, month: str, problems: list, clock: Clock) -> None:
    """Tell the pivot when the site could not be published before the send: the messages
    went out, but their links to the site lead nowhere until it is."""
    for problem in (p for p in problems if p.kind == NOT_PUBLISHED):
        notices.deliver(settings, notices.for_pivot(settings, _(
            "[infolettre] Site non publié : numéro de {mois}").format(mois=month_title(month)),
            f"{upfirst(problem.message)}\n\n{problem.fix}\n"), clock)


def _not_sendable(settings, occurrence, state, clock) -> tuple[str, str]:
    month = occurrence.key
    if state is None:
        why = _("aucune nouvelle n'a été préparée (le dossier content/{month} n'existe "
                "pas)").format(month=month)
    elif state.signed is None:
        why = _("il n'est pas approuvé")
    elif state.changed:
        why = _("il a été modifié depuis son approbation")
    else:
        why = _("des nouvelles sont en erreur")
    cycle = calendar.cycle(settings.calendar, month, settings.identity.timezone)
    later = [at for at in cycle.attempts if at > occurrence.at]
    text = _("Le numéro de {mois} n'a pas été envoyé : {why}.").format(
        mois=month_title(month), why=why)
    if later:
        text += " " + _("Approuvez-le tel quel (« Approuver le numéro ») : l'envoi sera "
                        "tenté de nouveau le {when}.").format(when=notices.when(settings,
                                                                                 later[0]))
    else:
        text += " " + _("C'était le dernier essai automatique : lancez l'envoi vous-même "
                        "depuis l'application (page « Envoi ») ou avec « infolettre send "
                        "{month} ».").format(month=month)
    text += "\n\n" + notices.app_link(settings, f"/?numero={month}") + "\n"
    notices.deliver(settings, notices.for_pivot(settings, _(
        "[infolettre] Envoi en attente : numéro de {mois}").format(mois=month_title(month)),
        text), clock)
    return WAITING, text.split("\n")[0]


def retry(settings: Settings, occurrence: Occurrence, store: StepStore,
          clock: Clock) -> tuple[str, str]:
    """Send deferred and interrupted messages when their time has come; report the ends.

    (``schedule.run_step`` then runs the steps of an issue that found the data folder busy
    at their time.)"""
    said = [follow_up(settings, month, store, clock) for month in _followed(settings, clock)]
    return OK, " ".join(s for s in said if s) or _("rien à reprendre.")


def _followed(settings: Settings, clock: Clock) -> list[str]:
    """The issues whose sending started recently (older ones are a person's business)."""
    data, since = settings.paths.donnees, clock.now() - timedelta(days=FOLLOWED_DAYS)
    return [m for m in sorted(started_months(data))
            if (record := read_started(data, m)) is not None and record.started >= since]


def follow_up(settings: Settings, month: str, store: StepStore, clock: Clock) -> str:
    """Resume the issue's sending if messages wait for it; report once it is over."""
    holder = current_holder(settings.paths.donnees)
    if holder is not None:
        return ""
    ledger = open_ledger(settings.paths.donnees, month, tz=settings.identity.timezone,
                         clock=clock)
    if ledger is None:
        return ""
    with ledger:
        counts = ledger.counts(month)
        retry_at = ledger.next_retry(month)
        uncertain = ledger.uncertain(month)
    now, delay = clock.now(), timedelta(hours=settings.calendar.incertains_delai)
    ripe = [r for r in uncertain if (r.last_attempt_at or now) + delay <= now]
    said = ""
    if ripe or counts[State.PENDING] or (retry_at is not None and retry_at <= now):
        report, _problems = send(settings, month, release_uncertain=bool(ripe), clock=clock)
        said = report.summary()
        if ripe:
            _tell_resent(settings, month, [r.email for r in ripe], clock)
    _report_if_over(settings, month, store, clock)
    return said


def _tell_resent(settings: Settings, month: str, emails: list[str], clock: Clock) -> None:
    text = _("Un envoi du numéro de {mois} avait été interrompu entre la transmission de "
             "certains messages et la réponse du serveur. Sans nouvelles depuis {hours} h, "
             "ces {n} message(s) ont été envoyés de nouveau (certaines personnes pourraient "
             "le recevoir deux fois) :\n\n{list}\n").format(
        mois=month_title(month), hours=settings.calendar.incertains_delai, n=len(emails),
        list="\n".join(f"- {e}" for e in emails))
    notices.deliver(settings, notices.for_pivot(settings, _(
        "[infolettre] Messages renvoyés : numéro de {mois}").format(mois=month_title(month)),
        text), clock)


def _report_if_over(settings: Settings, month: str, store: StepStore, clock: Clock) -> None:
    """Send the pivot the report of the issue once nothing is left to try (once)."""
    record = store.get("rapport", month)
    if record is not None and record.status == DONE:
        return
    report = status(settings, month, clock=clock)
    if any(report.counts.get(s, 0) for s in (State.PENDING, State.DEFERRED, State.TRANSMITTED)):
        return
    failed = report.counts.get(State.FAILED, 0)
    text = _("L'envoi du numéro de {mois} est terminé.\n\n{summary}\n").format(
        mois=month_title(month), summary=report.summary)
    if failed:
        text += "\n" + _("Adresses en échec définitif ({n}) :\n{list}\n\nLa liste complète, "
                         "avec la réponse du serveur : infolettre status {month} --failed "
                         "--csv echecs.csv").format(
            n=failed, month=month, list="\n".join(f"- {r.email} : {r.reason or ''}"
                                                  for r in report.failures[:50]))
    now = clock.now()
    store.begin("rapport", month, now)
    failures = notices.deliver(settings, notices.for_pivot(settings, _(
        "[infolettre] Rapport d'envoi : numéro de {mois}").format(mois=month_title(month)),
        text), clock)
    store.finish("rapport", month, now, FAILED if failures else DONE,
                 _("rapport envoyé.") if not failures else failures[0][1])


def save_state(settings: Settings, occurrence: Occurrence, store: StepStore,
               clock: Clock) -> tuple[str, str]:
    """Copy the state (``infolettre sauvegarde``); keep the last ``BACKUPS_KEPT`` copies."""
    folder, files = backup(settings, clock=clock)
    kept = sorted(p for p in folder.parent.iterdir()
                  if p.is_dir() and len(p.name) == 15 and p.name[8] == "-")
    for old in kept[:-BACKUPS_KEPT]:
        shutil.rmtree(old)
    return OK, _("copie de l'état dans {folder} ({n} fichiers).").format(folder=folder,
                                                                         n=len(files))


ACTIONS: dict[str, Action] = {
    "courriel": read_mail, "flux": read_feeds, "appel": call_for_news, "rappel": remind,
    "tombee": deadline, "envoi": send_issue, "reprise": retry, "sauvegarde": save_state,
    "rebonds": read_bounces_step, "relance": remind_silent,
}

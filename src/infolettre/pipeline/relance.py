"""« Relance des silencieux »: the calendar's step that writes, once per issue, to the
registered organizations that asked for it (``relance = true``) and have said nothing for
``[calendrier] relance_apres`` issues.

Who is silent is the circulation report's rule (``circulation.silence``: submitted or
approved items are a voice; refused and held ones are not), read over the issues before
this one, and an organization already heard for this issue is left alone. Each address
reached is recorded in the state (``etapes_avis``, the call's and the reminder's rule), so
a run after a crash writes only to the addresses not reached yet: never twice in a cycle.
The pivot gets one notice naming who was reminded, and the step's record says it too.
"""

from __future__ import annotations

from .. import calendar
from ..calendar.steps import Occurrence
from ..circulation import to_remind
from ..clock import Clock
from ..content import load_month
from ..dates import month_title
from ..i18n import _, ngettext
from ..models import Month
from ..settings import Settings
from ..state.steps import DONE, FAILED, StepStore
from . import notices
from .circulation import HISTORY, read_history


def silent_to_remind(settings: Settings, month: str):
    """Return the ``Silence`` of each organization the relance of ``month`` writes to."""
    month = Month(month)
    history = read_history(settings, HISTORY, until=month.previous(), organized=0)
    folder = settings.paths.contenu / month
    current = load_month(settings, month)[0] if folder.is_dir() else []
    return to_remind(history, current, settings, after=settings.calendar.relance_apres)


def remind_silent(settings: Settings, occurrence: Occurrence, store: StepStore,
                  clock: Clock) -> tuple[str, str]:
    """Write to each silent organization that asked for it, each address once per issue."""
    month = occurrence.key
    found = silent_to_remind(settings, month)
    deadline = calendar.cycle(settings.calendar, month, settings.identity.timezone).deadline
    done = store.notified(occurrence.step, month)
    addresses = {o.nom: o.courriels for o in settings.organizations}
    wanted = [(s, notices.relance(settings, address, s, month, deadline))
              for s in found for address in addresses[s.organisme]
              if address.lower() not in done]
    reached: list[str] = []

    def sent(notice: notices.Notice) -> None:
        store.mark_notified(occurrence.step, month, notice.address)
        reached.append(notice.address)

    failures = notices.deliver(settings, [n for _s, n in wanted], clock, sent=sent)
    names = list(dict.fromkeys(s.organisme for s, n in wanted if n.address in reached))
    if names:
        _tell_pivot(settings, month, [s for s in found if s.organisme in names], clock)
    message = ngettext("{n} organisme relancé : {names}.", "{n} organismes relancés : {names}.",
                       len(names)).format(n=len(names), names=", ".join(names)) if names \
        else _("aucun organisme à relancer.")
    if failures:
        return FAILED, message + " " + _("Non envoyés : {list}.").format(list="; ".join(
            f"{n.address} ({reason})" for n, reason in failures))
    return DONE, message


def _tell_pivot(settings: Settings, month: str, silences, clock: Clock) -> None:
    """One line per organization reminded, for the pivot's records (a failure is not
    raised: the reminders left, the step's record names them anyway)."""
    lines = [_("- {organisme} ({territoire}) : silencieux depuis {since} ({n} numéros)").format(
        organisme=s.organisme, territoire=settings.territory_name(s.territoire),
        since=month_title(s.since), n=s.issues) for s in silences]
    text = _("La relance des silencieux du numéro de {mois} est partie. Ces organismes, qui "
             "l'avaient demandée (relance = true), n'avaient rien envoyé depuis {n} numéros "
             "ou plus ; chacun a reçu un seul courriel amical, avec la marche à suivre et la "
             "date de tombée :\n\n{list}\n").format(
        mois=month_title(month), n=settings.calendar.relance_apres, list="\n".join(lines))
    notices.deliver(settings, notices.for_pivot(settings, _(
        "[infolettre] Relance des silencieux : numéro de {mois}").format(
        mois=month_title(month)), text), clock)

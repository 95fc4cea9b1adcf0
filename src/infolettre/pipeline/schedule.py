"""The monthly cycle, run by ``scheduler.py``: each step of ``[calendrier]`` once, when due.

``run_step`` is what every scheduler job calls: it finds the step's occurrence whose time
has come (``calendar.due``: within its grace), skips it if it was already run (``state
.steps``: never twice for the same issue), records it « en cours », runs its action
(``schedule_steps``) and records how it ended. A failure is caught here: recorded, told to
the pivot by email (once for a series that keeps failing), and never stops another step.
A step that found the data folder busy (a send started by hand) is tried again at the next
sweep (the « reprise » step, every few minutes).

``run_due`` runs every step due now (``scheduler.py --une-fois``, for cron or a systemd
timer); ``upcoming`` and ``overview`` say what comes next (``--prochaines``, the review
app; they live in ``schedule_view``). The front door holds ``scheduler_lock``: one
scheduler per data folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime

from .. import calendar
from ..calendar.steps import SERIES, STEPS, Occurrence
from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..i18n import _
from ..settings import Settings
from ..state import connect, state_file
from ..state.runlock import SCHEDULER_LOCK_FILE, Holder, RunLocked, lock_data_dir
from ..state.steps import BUSY, DONE, FAILED, StepStore
from . import notices
from .schedule_steps import ACTIONS
from .schedule_view import Overview, describe, overview, upcoming

log = logging.getLogger("infolettre.calendrier")


@dataclass(frozen=True)
class StepOutcome:
    """How one occurrence of a step ended: fait, ok, attente, echec or occupe."""

    occurrence: Occurrence
    status: str
    message: str

    def line(self) -> str:
        """Say it in one French line (the scheduler's log, ``--une-fois``)."""
        return _("{step} : {message}").format(step=describe(self.occurrence),
                                              message=self.message)


@contextmanager
def scheduler_lock(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Iterator[Holder | None]:
    """Hold the scheduler's lock of the data folder (a second scheduler is refused)."""
    with lock_data_dir(settings.paths.donnees, _("calendrier"), tz=settings.identity.timezone,
                       clock=clock, name=SCHEDULER_LOCK_FILE) as previous:
        yield previous


def run_due(settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
            steps: Iterable[str] | None = None) -> list[StepOutcome]:
    """Run every enabled step whose time has come and that was not run yet; return what ran."""
    wanted = calendar.enabled_steps(settings) if steps is None else list(steps)
    return [outcome for step in wanted
            if (outcome := run_step(settings, step, clock=clock)) is not None]


def run_step(settings: Settings, step: str, *, clock: Clock = SYSTEM_CLOCK) -> StepOutcome | None:
    """Run the step's occurrence due now, once; None when nothing is due or it already ran."""
    found = calendar.due(settings, step, clock.now())
    if not found:
        return None
    occurrence = found[0]  # the latest: a step that missed several times runs once
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = StepStore(conn, clock=clock)
        if store.tried(step, occurrence.key, occurrence.at):
            return None
        before = store.begin(step, occurrence.key, occurrence.at)
        log.info(_("début : %s"), describe(occurrence))
        status, message = _run(settings, occurrence, store, clock)
        failures = store.finish(step, occurrence.key, occurrence.at, status, message)
    outcome = StepOutcome(occurrence, status, message)
    (log.warning if status == FAILED else log.info)("%s", outcome.line())
    if step == "reprise":  # the sweep: a step of an issue that found the folder busy
        for other in calendar.enabled_steps(settings):
            if STEPS[other].per_issue:
                run_step(settings, other, clock=clock)
    if status == FAILED and (occurrence.key != SERIES or failures == 1):
        _tell_failure(settings, outcome, clock)
    elif status != FAILED and status != BUSY and before is not None and before.failures \
            and occurrence.key == SERIES:
        _tell_recovered(settings, outcome, clock)
    return outcome


def _run(settings: Settings, occurrence: Occurrence, store: StepStore,
         clock: Clock) -> tuple[str, str]:
    """Run the action; turn what it raises into a status and a French message."""
    try:
        return ACTIONS[occurrence.step](settings, occurrence, store, clock)
    except RunLocked as exc:
        return BUSY, _("dossier de données occupé ({detail}) ; nouvel essai à la prochaine "
                       "reprise.").format(detail=exc.message)
    except InfolettreError as exc:
        return FAILED, str(exc)
    except Exception as exc:  # noqa: BLE001 - one step's failure never stops the others
        log.exception(_("erreur inattendue : %s"), describe(occurrence))
        return FAILED, _("erreur inattendue ({kind} : {detail}).").format(
            kind=type(exc).__name__, detail=exc)


def _tell_failure(settings: Settings, outcome: StepOutcome, clock: Clock) -> None:
    series = outcome.occurrence.key == SERIES
    text = _("L'étape « {step} » du calendrier de l'infolettre a échoué.\n\n{message}\n\n"
             "Les autres étapes continuent.").format(step=describe(outcome.occurrence),
                                                     message=outcome.message)
    if series:
        text += " " + _("Cette étape sera refaite à son heure habituelle ; vous ne recevrez "
                        "pas d'autre avis tant qu'elle échoue, mais un avis quand elle "
                        "refonctionnera.")
    elif outcome.occurrence.step == "envoi":
        text += " " + _("L'envoi sera tenté de nouveau au prochain essai quotidien, tant que "
                        "dure la fenêtre d'envoi ; corrigez le problème d'ici là, ou lancez "
                        "l'envoi vous-même (infolettre send {month}).").format(
            month=outcome.occurrence.key)
    else:
        text += " " + _("Cette étape ne sera pas refaite d'elle-même : corrigez le problème, "
                        "puis faites-la à la main (voir « Le calendrier » dans le README).")
    _tell(settings, _("[infolettre] Échec : {step}").format(step=describe(outcome.occurrence)),
          text, clock)


def _tell_recovered(settings: Settings, outcome: StepOutcome, clock: Clock) -> None:
    _tell(settings, _("[infolettre] Rétabli : {step}").format(step=describe(outcome.occurrence)),
          _("L'étape « {step} » fonctionne de nouveau.\n\n{message}\n").format(
              step=describe(outcome.occurrence), message=outcome.message), clock)


def _tell(settings: Settings, subject: str, text: str, clock: Clock) -> None:
    """Send a notice to the pivot; a notice that cannot leave is logged, never raised."""
    for notice, reason in notices.deliver(settings, notices.for_pivot(settings, subject, text),
                                          clock):
        log.error(_("avis à %s non envoyé (%s) : %s"), notice.address, reason, subject)


def next_fire(settings: Settings, step: str, after: datetime | None, *,
              clock: Clock = SYSTEM_CLOCK) -> datetime | None:
    """When the scheduler should next wake the step (its APScheduler trigger).

    At start (``after`` None): the occurrence due now if it was not run yet (a step missed
    while the machine was off runs once, within its grace), else the next one.
    """
    now = clock.now()
    if after is None:
        found = calendar.due(settings, step, now)
        if found and not _tried(settings, found[0]):
            return found[0].at
        after = now
    following = calendar.next_after(settings, step, after)
    return following.at if following else None


def _tried(settings: Settings, occurrence: Occurrence) -> bool:
    try:
        with closing(connect(state_file(settings.paths.donnees), readonly=True)) as conn:
            return StepStore(conn).tried(occurrence.step, occurrence.key, occurrence.at)
    except InfolettreError:
        return False


__all__ = ["DONE", "Overview", "StepOutcome", "describe", "next_fire", "overview", "run_due",
           "run_step", "scheduler_lock", "upcoming"]

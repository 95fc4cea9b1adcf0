"""``python scheduler.py``: the monthly cycle in the foreground, with APScheduler 3.

This module only wires: one ``BlockingScheduler`` in the bulletin's time zone, one job per
step of ``[calendrier]`` whose trigger asks ``pipeline.schedule.next_fire`` when to wake,
and whose function is ``pipeline.schedule.run_step`` (every rule, every record, every
notice is there). Job defaults are chosen, not inherited:

- ``coalesce``: a step that missed several times runs once;
- ``max_instances=1`` and a single worker thread: steps run one after another (a mail
  reading never races the send for the data folder's lock);
- ``misfire_grace_time`` per step (``calendar.steps.grace``: hours or days, not the
  one-second default), so a machine that was off runs the missed step once when it starts.

The scheduler holds its own lock (``verrou-calendrier``): a second scheduler on the same
data folder is refused, while the review app and the command keep working.
``--une-fois`` runs what is due now and exits (cron, a systemd timer); ``--prochaines N``
prints the next steps.
"""

from __future__ import annotations

import logging
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import click

from .. import i18n, pipeline
from ..calendar import STEPS, enabled_steps
from ..calendar.steps import grace
from ..clock import Clock
from ..dates import long_date, time_of_day
from ..i18n import _
from ..settings import Settings, load_settings
from . import french
from .frame import run_command, state

french.install()
log = logging.getLogger("infolettre.calendrier")


def trigger_for(settings: Settings, step: str, clock: Clock):
    """Return the APScheduler trigger of a step (its times come from the calendar)."""
    from apscheduler.triggers.base import BaseTrigger

    class StepTrigger(BaseTrigger):
        def get_next_fire_time(self, previous_fire_time, now):
            return pipeline.schedule.next_fire(settings, step, previous_fire_time, clock=clock)

        def __str__(self) -> str:
            return f"calendrier[{step}]"

    return StepTrigger()


def build_scheduler(settings: Settings, clock: Clock):
    """Make the scheduler and its jobs (not started)."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler(
        timezone=settings.identity.timezone,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600})
    for step in enabled_steps(settings):
        scheduler.add_job(pipeline.schedule.run_step, trigger_for(settings, step, clock),
                          args=[settings, step], kwargs={"clock": clock}, id=step, name=step,
                          misfire_grace_time=int(grace(settings, step).total_seconds()))
    return scheduler


def _when(settings: Settings, moment: datetime) -> str:
    local = moment.astimezone(settings.identity.timezone)
    return _("{day} à {time}").format(day=long_date(local), time=time_of_day(local))


def print_upcoming(settings: Settings, count: int, clock: Clock) -> None:
    """Print the next ``count`` steps, each with its local date and time, in French."""
    cal, steps = settings.calendar, enabled_steps(settings)
    if "courriel" in steps:
        click.echo(_("En continu : relevé du courriel toutes les {n} minutes.").format(
            n=cal.releve_courriel))
    click.echo(_("En continu : reprise des envois différés toutes les {n} minutes.").format(
        n=cal.reprises))
    for occurrence in pipeline.schedule.upcoming(settings, clock=clock, count=count):
        click.echo(_("{when} — {step}").format(when=_when(settings, occurrence.at),
                                               step=pipeline.schedule.describe(occurrence)))


class _LocalTime(logging.Formatter):
    """Stamp each line in the bulletin's time zone, as a person reads it."""

    def __init__(self, settings: Settings):
        super().__init__("%(asctime)s %(message)s")
        self.tz = settings.identity.timezone

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return datetime.fromtimestamp(record.created, self.tz).strftime("%Y-%m-%d %H:%M:%S")


def _logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LocalTime(settings))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    # APScheduler speaks English: only its errors are kept; our lines say the rest.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def run_forever(settings: Settings, clock: Clock) -> int:
    """Hold the scheduler's lock and run the calendar until stopped (Ctrl+C, SIGTERM)."""
    with pipeline.schedule.scheduler_lock(settings, clock):
        scheduler = build_scheduler(settings, clock)
        steps = ", ".join(STEPS[s].label
                          for s in enabled_steps(settings))
        log.info(_("calendrier démarré (processus en avant-plan) ; étapes : %s."), steps)
        upcoming = pipeline.schedule.upcoming(settings, clock=clock, count=1)
        if upcoming:
            log.info(_("prochaine étape : %s, le %s."),
                     pipeline.schedule.describe(upcoming[0]), _when(settings, upcoming[0].at))

        def stop(signum, frame):
            log.info(_("arrêt demandé : l'étape en cours se termine, puis le calendrier "
                       "s'arrête."))
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        log.info(_("calendrier arrêté."))
    return 0


def run_once(settings: Settings, clock: Clock) -> int:
    """Run what is due now, under the scheduler's lock; 1 if a step failed."""
    with pipeline.schedule.scheduler_lock(settings, clock):
        outcomes = pipeline.schedule.run_due(settings, clock=clock)
    if not outcomes:
        log.info(_("rien à faire maintenant."))
    return 1 if any(o.status == "echec" for o in outcomes) else 0


@click.command(cls=french.Command, help=_(
    "Faire tourner le calendrier de l'infolettre (relevés, appel de nouvelles, rappel, date "
    "de tombée, envoi, reprises, sauvegarde) : en avant-plan, ou une fois avec --une-fois."),
    context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", type=click.Path(path_type=Path), envvar="INFOLETTRE_CONFIG",
              metavar="FICHIER", help=_("Fichier de configuration (défaut : ./infolettre.toml)."))
@click.option("--prochaines", type=click.IntRange(1, 500), metavar="N",
              help=_("Afficher les N prochaines étapes, avec leur date et leur heure, puis "
                     "quitter."))
@click.option("--une-fois", "once", is_flag=True,
              help=_("Faire ce qui est dû maintenant, puis quitter (cron, minuterie systemd)."))
@click.option("--debug", is_flag=True, help=_("Afficher le détail technique des erreurs."))
def command(config: Optional[Path], prochaines: Optional[int], once: bool, debug: bool) -> int:
    state.debug = debug
    settings = load_settings(config)
    i18n.activate(settings.identity.langue)
    _logging(settings)
    if prochaines:
        print_upcoming(settings, prochaines, state.clock)
        return 0
    if once:
        return run_once(settings, state.clock)
    return run_forever(settings, state.clock)


def main(argv: list[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run ``scheduler.py``; every error is reported once, in French (as ``infolettre``)."""
    return run_command(command, "scheduler.py", argv, clock=clock)

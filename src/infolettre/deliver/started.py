"""The record, outside the state database, that an issue's sending started.

The delivery ledger (``ledger/``) is what keeps a send from repeating itself; it lives in
the state database, which can be deleted, damaged, or replaced by an older copy. So before
the first message of an issue goes out, ``send`` writes ``<donnees>/envois/AAAA-MM.json``
(``state.sendrecords``: when the sending started, what sign-off it sent, and at the end of
each run how many messages had been attempted, ``Ledger.attempted``).

``require_ledger`` compares the two before a send and for ``status``: a record with no
ledger rows for its month means the ledger was lost (or restored from a copy made before
the send); fewer attempted rows than recorded means a copy made during the send. Either
way, sending again would mail people who already have the issue: ``DeliveryError``, with
how to put the latest copy back (``infolettre sauvegarde``, README « Restaurer une
sauvegarde »).
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..i18n import _
from ..dates import long_date, month_title
from ..dates import time_of_day as clock_time
from ..state import MissingState, state_file
from ..state.sendrecords import (FOLDER, SendStarted, read_started,  # noqa: F401
                                 record_attempted, record_path, record_started,
                                 started_months)
from .ledger import Ledger


def open_ledger(data_dir: Path, month: str, *, tz: tzinfo,
                clock: Clock = SYSTEM_CLOCK) -> Ledger | None:
    """Open the ledger read-only for ``status``; None when the issue was never sent.

    Never creates the database. ``DeliveryError`` when the issue's sending started but the
    ledger lost it (``require_ledger``).
    """
    try:
        ledger = Ledger(state_file(data_dir), clock=clock, readonly=True)
    except MissingState:
        ledger = None
    try:
        require_ledger(data_dir, month, ledger, tz=tz)
    except BaseException:
        if ledger is not None:
            ledger.close()
        raise
    if ledger is not None and not sum(ledger.counts(month).values()):
        ledger.close()
        return None
    return ledger


def refuse_if_lost(data_dir: Path, month: str, *, tz: tzinfo,
                   clock: Clock = SYSTEM_CLOCK) -> None:
    """Before a send: ``DeliveryError`` if the issue's sending started and the ledger lost it.

    Opens nothing when the issue was never sent (no record), and never creates the database.
    """
    if read_started(data_dir, month) is None:
        return
    ledger = open_ledger(data_dir, month, tz=tz, clock=clock)
    if ledger is not None:
        ledger.close()


def require_ledger(data_dir: Path, month: str, ledger: Ledger | None, *, tz: tzinfo) -> None:
    """Refuse (``DeliveryError``) when the ledger has lost an issue whose sending started."""
    record = read_started(data_dir, month)
    if record is None:
        return
    path = record_path(data_dir, month)
    rows = sum(ledger.counts(month).values()) if ledger is not None else 0
    local = record.started.astimezone(tz)
    when = {"title": month_title(month), "day": long_date(local), "time": clock_time(local)}
    if rows == 0:
        message = _("l'envoi du numéro de {title} a commencé le {day} à {time}, mais le "
                    "registre des envois (base d'état) n'en garde aucune trace : la base a "
                    "été perdue, remplacée, ou restaurée d'une copie faite avant cet "
                    "envoi.").format(**when)
    else:
        attempted = ledger.attempted(month)
        if attempted >= record.attempted:
            return
        message = _("le registre des envois du numéro de {title} est plus ancien que l'envoi "
                    "commencé le {day} à {time} : il compte {n} message(s) tenté(s), il y en "
                    "avait {m} à la fin du dernier envoi ; la base d'état a sans doute été "
                    "restaurée d'une copie faite pendant l'envoi.").format(
            n=attempted, m=record.attempted, **when)
    raise DeliveryError(
        message + " " + _("infolettre refuse d'envoyer ce numéro : des personnes qui l'ont "
                          "déjà reçu le recevraient une deuxième fois."),
        where=str(path),
        fix=_("Arrêtez toute exécution d'infolettre et remettez en place la dernière copie "
              "faite par « infolettre sauvegarde » après cet envoi (section « Restaurer une "
              "sauvegarde » du README), puis relancez. Si aucune copie ne le contient, ne "
              "relancez pas l'envoi ; en dernier recours seulement, si vous acceptez que des "
              "personnes reçoivent le numéro deux fois, supprimez le fichier {path}.").format(
            path=path))

"""The record, outside the state database, that an issue's sending started.

The delivery ledger (``ledger/``) is what keeps a send from repeating itself; it lives in
the state database, which can be deleted, damaged, or replaced by an older copy. So before
the first message of an issue goes out, ``send`` writes ``<donnees>/envois/AAAA-MM.json``
(durably, 0600, never overwritten by a later start): when the sending started, and the
sign-off it sent (fingerprint, who, when). At the end of each run, it also writes how many
of the issue's messages had been attempted (``tentes``, a count that never goes down:
``Ledger.attempted``), once the ledger's rows are on disk.

``require_ledger`` compares the two before a send and for ``status``: a record with no
ledger rows for its month means the ledger was lost (or restored from a copy made before
the send); fewer attempted rows than recorded means a copy made during the send. Either
way, sending again would mail people who already have the issue: ``DeliveryError``, with
how to put the latest copy back (``infolettre sauvegarde``, README « Restaurer une
sauvegarde »).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..fsutil import write_durably
from ..i18n import _
from ..models import Month
from ..render.dates import clock as clock_time
from ..render.dates import long_date, month_title
from ..state import MissingState, state_file
from .ledger import Ledger

FOLDER = "envois"


@dataclass(frozen=True)
class SendStarted:
    """What ``envois/AAAA-MM.json`` says: when the sending of the issue started, and what."""

    month: str
    started: datetime
    fingerprint: str
    signed_by: str
    signed_at: datetime | None
    attempted: int = 0


def record_path(data_dir: Path, month: str) -> Path:
    """Return the record of one issue's sending (``<donnees>/envois/AAAA-MM.json``)."""
    return Path(data_dir) / FOLDER / f"{month}.json"


def started_months(data_dir: Path) -> set[str]:
    """Return the months whose sending started (a record exists), even if the database is lost."""
    folder = Path(data_dir) / FOLDER
    if not folder.is_dir():
        return set()
    return {p.stem for p in folder.glob("*.json") if Month.is_valid(p.stem)}


def read_started(data_dir: Path, month: str) -> SendStarted | None:
    """Return the issue's record, or None if its sending never started."""
    path = record_path(data_dir, month)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SendStarted(
            month=data["mois"], started=datetime.fromisoformat(data["commence_le"]),
            fingerprint=data.get("empreinte", ""), signed_by=data.get("approuve_par", ""),
            signed_at=datetime.fromisoformat(data["approuve_le"])
            if data.get("approuve_le") else None,
            attempted=int(data.get("tentes", 0)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise DeliveryError(
            _("le relevé du début de l'envoi est illisible."), where=str(path),
            fix=_("Remettez ce fichier depuis la dernière copie de « infolettre sauvegarde » "
                  "(section « Restaurer une sauvegarde » du README). Tant qu'il est "
                  "illisible, le numéro n'est pas envoyé.")) from None


def record_started(data_dir: Path, month: str, *, fingerprint: str, signed_by: str,
                   signed_at: datetime | None, clock: Clock = SYSTEM_CLOCK) -> SendStarted:
    """Write the issue's record before its first message (kept as is if already there)."""
    existing = read_started(data_dir, month)
    if existing is not None:
        return existing
    record = SendStarted(month, clock.now(), fingerprint, signed_by, signed_at)
    _write(record_path(data_dir, month), record, no_clobber=True)
    return read_started(data_dir, month) or record


def record_attempted(data_dir: Path, month: str, attempted: int) -> None:
    """Raise the record's count of attempted messages (never lower it); durable."""
    record = read_started(data_dir, month)
    if record is not None and attempted > record.attempted:
        _write(record_path(data_dir, month), SendStarted(
            record.month, record.started, record.fingerprint, record.signed_by,
            record.signed_at, attempted))


def _write(path: Path, record: SendStarted, *, no_clobber: bool = False) -> None:
    data = {"mois": record.month, "commence_le": record.started.isoformat(timespec="seconds"),
            "empreinte": record.fingerprint, "approuve_par": record.signed_by,
            "approuve_le": record.signed_at.isoformat(timespec="seconds")
            if record.signed_at else None, "tentes": record.attempted}
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_durably(path, lambda handle: handle.write(text.encode("utf-8")), mode=0o600,
                  no_clobber=no_clobber)


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

"""The record, outside the state database, that an issue's sending started.

``send`` writes ``<donnees>/envois/AAAA-MM.json`` (durably, 0600, never overwritten by a
later start) before the first message of an issue goes out: when the sending started, and
the sign-off it sent (fingerprint, who, when); at the end of each run, how many of the
issue's messages had been attempted (``tentes``, a count that never goes down). These files
outlive the database: ``deliver.started`` compares them with the ledger before a send, and
``issues`` treats a month with a record as closed to new items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..fsutil import write_durably
from ..i18n import _
from ..models import Month

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

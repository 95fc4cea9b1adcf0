"""``[calendrier]``: when each step of the month happens (``scheduler.py``).

Every key has a default, so a file without the table still has a calendar: the bulletin
goes out on the first Tuesday of each month at 9 h, the call for news goes out on the 8th
of the month before, the deadline (« date de tombée ») is seven days before the send. The
cadence is « mensuelle » or « bimestrielle » (every other month, counted from
``premier_numero``). Hours are local (the bulletin's time zone, ``[infolettre] fuseau``);
a step set to 0 or "" does not run. The registered organizations that asked for it
(``relance = true``) and said nothing for ``relance_apres`` issues get one friendly
reminder per issue, midway between the call for news and the reminder.

Only what the file says is here; the dates themselves are computed by
``infolettre.calendar`` from these values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import time
from typing import Any

from ..i18n import _
from ..models import Month

_Reader = Any  # settings.reader._Reader (imported by it: not imported back)

CADENCES = ("mensuelle", "bimestrielle")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_HOUR = re.compile(r"^\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*$")


@dataclass(frozen=True)
class Calendar:
    """The ``[calendrier]`` table, validated (see the commented example in infolettre.toml)."""

    cadence: str = "mensuelle"
    premier_numero: Month = Month("2027-01")  # bimestrielle: one month of the series
    releve_courriel: int = 15                 # minutes between two mail readings; 0: never
    releve_flux: time | None = time(6, 0)     # daily reading of the feeds; None: never
    appel: int = 8           # day of the cycle the call for news goes out; 0: no call
    rappel: int = 3          # reminder, days before the deadline; 0: no reminder
    tombee: int = 7          # the deadline, days before the send
    heure: time = time(9, 0)                  # hour of the call, reminder and deadline
    envoi_jour: str = "mardi"
    envoi_semaine: int = 1                    # 1 to 4: first, second… of the month
    envoi_heure: time = time(9, 0)
    envoi_fenetre: int = 7   # days the send is tried again (once a day) when not signed off
    reprises: int = 10       # minutes between two checks for deferred messages
    incertains_delai: int = 24  # hours before « incertain » messages are sent again
    sauvegarde: time | None = time(3, 0)      # daily state backup; None: never
    releve_rebonds: time | None = time(7, 0)  # daily reading of [rebonds]; None: never
    avis: tuple[str, ...] = ()  # who gets the notices; empty: [infolettre] repondre_a
    relance_apres: int = 3   # issues of silence before the friendly reminder; 0: none

    @property
    def weekday(self) -> int:
        """Return the send's weekday, Monday being 0 (``date.weekday``)."""
        return WEEKDAYS.index(self.envoi_jour)

    def is_issue_month(self, month: str) -> bool:
        """Tell whether an issue comes out in ``month`` (every month, or every other one)."""
        if self.cadence == "mensuelle":
            return True
        return _index(Month(month)) % 2 == _index(Month(self.premier_numero)) % 2

    @property
    def months_per_issue(self) -> int:
        return 1 if self.cadence == "mensuelle" else 2


def _index(month: Month) -> int:
    return month.year * 12 + month.number - 1


def read_calendar(reader: _Reader, table: dict[str, Any]) -> Calendar:
    """Check the ``[calendrier]`` table key by key and build the ``Calendar``."""
    where = "calendrier"
    reader.check_keys("[calendrier]", table, {f.name for f in fields(Calendar)})
    values: dict[str, Any] = {}
    for f in fields(Calendar):
        if f.name not in table:
            continue
        key, value = f"{where}.{f.name}", table[f.name]
        if f.name == "cadence":
            if value not in CADENCES:
                raise reader.fail(key, value, " | ".join(f"« {c} »" for c in CADENCES))
            values[f.name] = value
        elif f.name == "premier_numero":
            if not isinstance(value, str) or not Month.is_valid(value):
                raise reader.fail(key, value, _("un mois AAAA-MM, par exemple « 2027-01 »"))
            values[f.name] = Month(value)
        elif f.name == "envoi_jour":
            if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
                raise reader.fail(key, value, " | ".join(WEEKDAYS))
            values[f.name] = value.strip().lower()
        elif f.name == "avis":
            values[f.name] = _addresses(reader, key, value)
        elif isinstance(f.default, time) or f.default is None:
            values[f.name] = _hour(reader, key, value,
                                   optional=f.name in ("releve_flux", "sauvegarde",
                                                        "releve_rebonds"))
        else:
            values[f.name] = _number(reader, key, value, f.name)
    calendar = Calendar(**values)
    # The shortest cycle: 28 days in the month(s) before, a send on its earliest day.
    room = 28 * calendar.months_per_issue + 7 * (calendar.envoi_semaine - 1) + 1
    if calendar.appel and calendar.appel + calendar.tombee + calendar.rappel >= room:
        raise reader.fail(
            f"{where}.appel", calendar.appel,
            _("un appel qui part avant le rappel et la date de tombée : avec tombee = "
              "{tombee} et rappel = {rappel}, « appel » doit être au plus {most}").format(
                tombee=calendar.tombee, rappel=calendar.rappel,
                most=room - 1 - calendar.tombee - calendar.rappel))
    return calendar


_LIMITS = {  # key: (smallest, largest)
    "releve_courriel": (0, 24 * 60), "appel": (0, 28), "rappel": (0, 28), "tombee": (0, 28),
    "envoi_semaine": (1, 4), "envoi_fenetre": (0, 20), "reprises": (1, 24 * 60),
    "incertains_delai": (1, 24 * 14), "relance_apres": (0, 24),
}


def _number(reader: _Reader, key: str, value: Any, name: str) -> int:
    low, high = _LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise reader.fail(key, value, _("un nombre entier de {low} à {high}").format(
            low=low, high=high))
    return value


def _hour(reader: _Reader, key: str, value: Any, *, optional: bool) -> time | None:
    """Read « 9:00 », « 9 h », « 9 h 30 » or a TOML time; "" or false: the step is off."""
    if optional and (value == "" or value is False):
        return None
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    found = _HOUR.match(value) if isinstance(value, str) else None
    if found and int(found.group(1)) < 24 and int(found.group(2) or 0) < 60:
        return time(int(found.group(1)), int(found.group(2) or 0))
    expected = _("une heure comme « 9:00 » ou « 9 h 30 »")
    if optional:
        expected += _(" (ou \"\" pour ne pas faire cette étape)")
    raise reader.fail(key, value, expected)


def _addresses(reader: _Reader, key: str, value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise reader.fail(key, value, _("une adresse ou une liste d'adresses"))
    return tuple(reader.address(key, v.strip()) for v in items)

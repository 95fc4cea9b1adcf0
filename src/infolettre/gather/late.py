"""Dates already past when the issue comes out, flagged the moment an item is gathered.

An event that has ended, or a call whose deadline has fallen, before the publication of the
issue an item goes to is left out of that issue (``organize``). Found only when the issue is
built, that would be a silent loss: so each gathered item is checked as it arrives, and the
pivot reads it in the item's file (a note) and in the gather report, the sender in the
acknowledgment, and ``check`` names it again (``organize.expired_pending``).

The publication taken is the issue's default (``Month.first_day``, the 1st of its
month), or the day of reception when that is later: an issue not signed off yet cannot come
out before the item arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ..i18n import _
from ..models import AGENDA, FUNDING, Month
from ..dates import long_date, month_title
from ..content import to_date

EVENT, DEADLINE = "evenement", "echeance"


@dataclass(frozen=True)
class LateDate:
    """One date of an item that will be past when its issue comes out."""

    kind: str  # EVENT (the day the event ends) or DEADLINE
    day: date
    month: str  # the issue the item goes to
    parution: date  # that default publication date
    received: date
    dropped: bool = True  # an agenda event or a call for projects: left out of the issue

    @property
    def already(self) -> bool:
        """Tell whether the date was past on the day the item arrived."""
        return self.day < self.received

    def fact(self) -> str:
        """Say in French what is late (« l'événement du … sera déjà passé … »)."""
        day, mois = long_date(self.day), month_title(self.month)
        if self.kind == EVENT:
            if self.already:
                return _("l'événement du {day} est déjà passé").format(day=day)
            return _("l'événement du {day} sera déjà passé à la parution du numéro de {mois} "
                     "({parution})").format(day=day, mois=mois,
                                            parution=long_date(self.parution))
        if self.already:
            return _("la date limite du {day} est déjà passée").format(day=day)
        return _("la date limite du {day} sera déjà passée à la parution du numéro de {mois} "
                 "({parution})").format(day=day, mois=mois, parution=long_date(self.parution))

    def note(self) -> str:
        """Say it to the pivot, with what to do (a comment at the head of the item file)."""
        what = _("le numéro ne l'annoncera pas") if self.dropped else \
            _("le numéro l'annoncera trop tard")
        return _("{fact} : {what}. Corrigez la date si elle est fausse ; sinon refusez la "
                 "nouvelle, ou déplacez ce fichier dans le dossier d'un numéro pas encore "
                 "envoyé (et approuvez ce numéro de nouveau).").format(
            fact=_capitalized(self.fact()), what=what)

    def reply(self) -> str:
        """Say it to the sender (a paragraph of the acknowledgment)."""
        return _("Attention : {fact}. Si la date est erronée, écrivez-nous la bonne date.") \
            .format(fact=self.fact())


def late_dates(front: dict[str, Any], month: str, received: date) -> list[LateDate]:
    """Return the dates of a draft's front matter that will be past when ``month`` comes out.

    ``front`` is an ``ItemDraft``'s: ``evenement`` holds ISO strings (« 2026-12-16 10:00 »)
    or dates, ``echeance`` a date. A value that cannot be read is left to the store's checks.
    """
    parution = Month(month).first_day
    cutoff = max(parution, received)
    found = []
    event = front.get("evenement")
    if isinstance(event, dict):
        end = _day(event.get("fin")) or _day(event.get("debut"))
        if end is not None and end < cutoff:
            found.append(LateDate(EVENT, end, month, parution, received,
                                  dropped=front.get("rubrique") == AGENDA))
    deadline = _day(front.get("echeance"))
    if deadline is not None and deadline < cutoff:
        found.append(LateDate(DEADLINE, deadline, month, parution, received,
                              dropped=front.get("rubrique") == FUNDING))
    return found


def _day(value: Any) -> date | None:
    """Read the day of a front-matter date (a date, a datetime, « AAAA-MM-JJ[ HH:MM] »)."""
    return to_date(value.strip()[:10] if isinstance(value, str) else value)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]

"""French (Québec) dates and times: « mardi 5 janvier 2027 », « 10 h 30 ».

A base module, not a stage: every layer that speaks to a person says dates this one way
(render, review, the run lock, the gather reports).

Babel formats with the active locale (``i18n.current_locale``), so an English catalog would
get English dates with no change here.
"""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time

from .i18n import _, current_locale
from .models import Month


def long_date(value: date | datetime) -> str:
    """« mardi 5 janvier 2027 » (the 1st is « 1er » in French)."""
    text = format_date(value, "EEEE d MMMM y", locale=current_locale())
    if current_locale().language == "fr" and value.day == 1:
        text = text.replace(" 1 ", " 1er ", 1)
    return text


def short_date(value: date | datetime) -> str:
    """« 5 janv. » for compact lists."""
    text = format_date(value, "d MMM", locale=current_locale())
    if current_locale().language == "fr" and value.day == 1:
        text = "1er" + text[1:]
    return text


def month_title(month: str) -> str:
    """« décembre 2026 » from ``"2026-12"``."""
    return format_date(Month(month).first_day, "MMMM y", locale=current_locale())


def time_of_day(value: datetime) -> str:
    """« 10 h » or « 10 h 30 » (Québec style)."""
    if current_locale().language != "fr":
        return format_time(value, "short", locale=current_locale())
    return f"{value.hour} h" if value.minute == 0 else f"{value.hour} h {value.minute:02d}"


def event_when(debut: datetime, fin: datetime | None) -> str:
    """« samedi 5 décembre 2026, de 10 h à 14 h » and its variants."""
    day = long_date(debut)
    timed = (debut.hour, debut.minute) != (0, 0)
    if fin is None:
        return _("{day}, {time}").format(day=day, time=time_of_day(debut)) if timed else day
    if fin.date() == debut.date():
        return _("{day}, de {start} à {end}").format(day=day, start=time_of_day(debut), end=time_of_day(fin))
    return _("du {start} au {end}").format(start=long_date(debut), end=long_date(fin))

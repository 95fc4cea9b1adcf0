"""The small chart of each territory: its counted items per issue, as bars.

Only the geometry and the words are made here (pure); the review app draws them as plain
inline SVG (no script), with the title and the description screen readers announce and a
number written above each bar, so the chart still says everything printed in black and
white. Every territory's chart uses the same scale (``top``): side by side on paper, a
taller bar means more news.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date

from ..i18n import _, current_locale
from ..models import Month
from .model import TerritoryFigures

BAR = 44            # width of a bar
GAP = 20            # space between two bars
LEFT = 12           # margin before the first bar
PLOT = 90           # height of the tallest bar
TOP_ROOM = 22       # room above it for its number
LABEL_ROOM = 24     # room below the baseline for the month


@dataclass(frozen=True)
class Bar:
    """One issue's bar: its box, its number and its month, in SVG user units."""

    x: int
    y: int
    width: int
    height: int
    value: int
    label: str       # « janv. 2026 »
    long_label: str  # « janvier 2026 »


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    title: str
    description: str
    bars: tuple[Bar, ...]


def month_label(month: Month) -> str:
    """« janv. 2026 »: short enough to sit under a bar."""
    return format_date(month.first_day, "MMM y", locale=current_locale())


def territory_chart(territory: TerritoryFigures, months: tuple[Month, ...], *,
                    top: int) -> Chart:
    """The bars of ``territory``'s items per issue, on a scale whose tallest bar is ``top``."""
    baseline = TOP_ROOM + PLOT
    bars = []
    for n, (month, value) in enumerate(zip(months, territory.by_month)):
        height = round(PLOT * value / top) if top else 0
        bars.append(Bar(x=LEFT + n * (BAR + GAP), y=baseline - height, width=BAR,
                        height=height, value=value, label=month_label(month),
                        long_label=format_date(month.first_day, "MMMM y",
                                               locale=current_locale())))
    width = LEFT * 2 + max(1, len(months)) * (BAR + GAP) - GAP
    description = " ; ".join(_("{month} : {n}").format(month=b.long_label, n=b.value)
                             for b in bars)
    return Chart(width=width, height=baseline + LABEL_ROOM, baseline=baseline,
                 title=_("Nouvelles de {name}, par numéro").format(name=territory.name),
                 description=_("Nombre de nouvelles approuvées par numéro : {list}.").format(
                     list=description or _("aucun numéro")),
                 bars=tuple(bars))

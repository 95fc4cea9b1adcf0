"""Rapport de circulation: who speaks in the bulletin, who is silent, and how far local news
travels (issue 18). Pure: model types and settings in, figures out; no file, no clock.

The network's own diagnosis is that information does not circulate between the local and
the regional level. No single issue shows it; a few issues side by side do. The pipeline
(``pipeline.circulation``) reads the months and organizes them; this package counts:

- ``model``: the figures (``Report``, one ``TerritoryFigures`` per territory, one
  ``OrganizationFigures`` per organization, the ``Silence`` of each quiet one);
- ``count``: which items count, and the figures over the last issues (``report``);
- ``silence``: how many issues in a row an organization has said nothing (also the
  scheduler's « relance des silencieux »);
- ``chart``: the bars of each territory's small chart (drawn as SVG by the review app);
- ``text``: the report in French, line by line (the command prints it).
"""

from .chart import Bar, Chart, territory_chart
from .count import counted, report
from .model import MonthItems, OrganizationFigures, Report, Silence, TableFigures, TerritoryFigures
from .silence import silences, spoke, to_remind
from .text import report_lines, source_label

__all__ = ["Bar", "Chart", "MonthItems", "OrganizationFigures", "Report", "Silence",
           "TableFigures", "TerritoryFigures", "counted", "report", "report_lines",
           "silences", "source_label", "spoke", "territory_chart", "to_remind"]

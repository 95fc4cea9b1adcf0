"""French typography of OUR wording: the strings of the catalog, our dates and times.

Applied where the words are ours only — never to what people wrote (a title « Note: test »
stays as typed): the Jinja environment wraps its gettext so a translated string gets it
*before* its values are put in (``environment.make_environment``), and its date filters
give dates and times the same care. Québec usage (Office québécois de la langue française):

- a no-break space before « : ; ! ? » and inside « », so a line never starts with them;
- « mardi 5 décembre 2026 »: the day's number stays with its month; « 9 h 30 »: the hour,
  « h » and the minutes stay together; « 1 200 $ », « 98,3 Ko »: amounts and their unit too;
- the typographic apostrophe « ’ » (« l’édition »).

U+00A0 rather than the narrow U+202F: every email client's fonts have it.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"
_BEFORE_PUNCT = re.compile(r"[ \u202f](?=[:;!?»])")
_AFTER_GUILLEMET = re.compile(r"«[ \u202f]")
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
#: « 1 200 000 », « 50 % », « 1 200 $ », « 98,3 Ko », and « %(size)s Ko » before its value.
_AMOUNT = re.compile(r"(?<=\d) (?=\d{3}(?!\d))|(?:(?<=\d)|(?<=\)s)) (?=[$€]|%(?!\()|[KMG]o\b)")
#: « 5 décembre », « 1er décembre », « 5 déc. »: the number and its month.
_DAY_MONTH = re.compile(r"(?<![\d\w])(\d{1,2}(?:er)?) (?=[^\W\d_]{3,})")
#: « 9 h », « 9 h 30 ».
_TIME = re.compile(r"(?<![\d\w])(\d{1,2}) h(?: (\d{2}))?(?![\w])")


def typography(text: str) -> str:
    """Our wording with its French spaces and apostrophes (see the module's text)."""
    text = _BEFORE_PUNCT.sub(NBSP, text)
    text = _AFTER_GUILLEMET.sub("«" + NBSP, text)
    text = _AMOUNT.sub(NBSP, text)
    return _APOSTROPHE.sub("’", text)


def date_typography(text: str) -> str:
    """A date or time we wrote: « 5 décembre », « 9 h 30 » kept on one line."""
    text = _TIME.sub(lambda m: f"{m.group(1)}{NBSP}h" + (f"{NBSP}{m.group(2)}"
                                                          if m.group(2) else ""), text)
    return typography(_DAY_MONTH.sub(lambda m: m.group(1) + NBSP, text))

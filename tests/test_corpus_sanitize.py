"""Render safety: hostile HTML from feedparser's own corpus never survives into an output.

Every ``must-strip`` file of ``feedparser/INDEX.tsv`` (under ``INFOLETTRE_CORPORA``) is parsed
with feedparser *without* its sanitizer (``sanitize_html=False``: we test our defences, not
feedparser's) and each HTML value it yields — feed title/subtitle/rights/info, entry
title/summary/content — becomes items of a small issue, in two families:

* ``markdown`` — the worst case: someone pastes the hostile HTML into a Markdown body, into
  the title and into the event's place (``lieu``);
* ``feed`` — how feed HTML will arrive (issue 5): the body is
  ``infolettre.render.markdown.sanitize_html(html)``.

Each value is placed in four layouts, so it goes through every template path: a regional
news item (full, in every edition), a territorial bons coups with a link (full in its
territory and the complete edition, headline elsewhere), a regional agenda event with a link
(shortened body), and a territorial call for projects without a link (whole body). Items are
batched ``BATCH`` to an issue; every item's title starts with a unique marker, so each
finding names its corpus file (the nearest marker before the finding). Then
``tests.safety.find_dangers`` must be empty for each edition's email HTML and text part and
for the print HTML, both as rendered and with the per-recipient placeholders filled in.

The targeted cases at the end add hostile Markdown of our own (and template syntax that must
come out literally), and a self-test proves the checker does catch what it should.
"""

from __future__ import annotations

import csv
import html as html_lib
import io
import re
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import feedparser
import pytest

from infolettre import i18n
from infolettre.models import REGIONAL, Event, Item, Status
from infolettre.organize import organize
from infolettre.render import render_issue
from infolettre.render.markdown import sanitize_html
from infolettre.settings import load_settings

from .conftest import SAMPLE_CONFIG, corpora
from .safety import find_dangers, scan

ROOT = corpora()
pytestmark = pytest.mark.corpus

MONTH = "2026-12"
BATCH = 40
TZ = ZoneInfo("America/Montreal")
FAMILIES = ("markdown", "feed")
LAYOUTS = ("regional", "territoire", "agenda", "financement")
#: Feed and entry fields that may carry HTML (feedparser's ``*_detail`` values and content).
HTML_FIELDS = ("title", "subtitle", "summary", "rights", "info", "tagline", "copyright",
               "description")
#: Elements whose raw text is used when feedparser yields nothing from a file.
_RAW_ELEMENT = re.compile(
    r"<(title|description|content|summary|subtitle|tagline|copyright|rights|info)\b[^>]*>"
    r"(.*?)</\1>", re.S | re.I)
_CDATA = re.compile(r"^\s*<!\[CDATA\[(.*)\]\]>\s*$", re.S)
#: Per-recipient values for the filled outputs: real-looking, with characters to escape.
FILL_VALUES = {
    "salutation": "Bonjour Ève & « l'équipe » du comptoir,",
    "courriel": "eve.tremblay+infolettre@example.org",
    "desabonnement": "https://infolettre.example.org/desabonnement?jeton=a1b2&x=\"1\"",
}


# --- the corpus --------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """One HTML value found in a corpus file."""

    file: str  # path relative to the feedparser corpus folder
    field: str  # where it came from, e.g. "entries[0].content[0]"
    html: str


def _headers(value: str) -> dict[str, str]:
    """``Content-type:text/xml; charset=…`` (one header per line) → response_headers."""
    headers = {}
    for line in filter(None, (v.strip() for v in value.splitlines())):
        name, _sep, val = line.partition(":")
        headers[name.strip().lower()] = val.strip()
    return headers


def _values(obj, where: str) -> list[tuple[str, str]]:
    found = []
    for key in HTML_FIELDS:
        detail = obj.get(f"{key}_detail")
        value = detail.get("value") if detail else obj.get(key)
        if isinstance(value, str) and value.strip():
            found.append((f"{where}.{key}", value))
    for n, content in enumerate(obj.get("content") or []):
        if content.get("value", "").strip():
            found.append((f"{where}.content[{n}]", content["value"]))
    return found


def _raw_elements(data: bytes) -> list[tuple[str, str]]:
    text = data.decode("utf-8", errors="replace")
    found = []
    for m in _RAW_ELEMENT.finditer(text):
        inner = m.group(2)
        cdata = _CDATA.match(inner)
        found.append((f"raw <{m.group(1)}>", cdata.group(1) if cdata else html_lib.unescape(inner)))
    return found


@lru_cache(maxsize=1)
def must_strip() -> tuple[tuple[dict, ...], tuple[Sample, ...]]:
    """Return the must-strip rows of INDEX.tsv and every HTML value found in their files."""
    if ROOT is None:
        return (), ()
    folder = ROOT / "feedparser"
    with open(folder / "INDEX.tsv", encoding="utf-8", newline="") as f:
        rows = tuple(r for r in csv.DictReader(f, delimiter="\t")
                     if r["category"].endswith("sanitize") and r["sanitize_kind"] == "must-strip")
    samples: list[Sample] = []
    for row in rows:
        data = (folder / row["path"]).read_bytes()
        parsed = feedparser.parse(io.BytesIO(data), sanitize_html=False,
                                  response_headers=_headers(row["http_headers"]))
        values = _values(parsed.feed, "feed")
        for n, entry in enumerate(parsed.entries):
            values += _values(entry, f"entries[{n}]")
        if not values:
            values = _raw_elements(data)
        seen: set[str] = set()
        for field, value in values:
            if value not in seen:
                seen.add(value)
                samples.append(Sample(row["path"], field, value))
    return rows, tuple(samples)


# --- items, issues, outputs --------------------------------------------------------------

@lru_cache(maxsize=1)
def settings():
    # Hostile test items may weigh more than Gmail's limit: that check is not under test here.
    return replace(load_settings(SAMPLE_CONFIG), max_email_bytes=10**9)


def marker(n: int) -> str:
    return f"QZ{n:05d}ZQ"


_MARKER = re.compile(r"QZ(\d{5})ZQ")


def make_item(n: int, family: str, layout: str, html: str) -> Item:
    """Build item ``n`` carrying ``html`` the way ``family`` would, laid out as ``layout``."""
    hostile = family == "markdown"
    corps = html if hostile else sanitize_html(html)
    titre = f"{marker(n)} {html[:300]}" if hostile else marker(n)
    common = dict(slug=f"safety-{n:05d}", month=MONTH, titre=titre, date=date(2026, 11, 20),
                  corps=corps, statut=Status.APPROVED)
    if layout == "regional":
        return Item(organisme="Table régionale en développement social", territoire=REGIONAL,
                    rubrique="nouvelles", **common)
    if layout == "territoire":
        return Item(organisme="CDC de Bellechasse", territoire="bellechasse",
                    rubrique="bons-coups", lien=f"https://example.org/{n}", **common)
    if layout == "agenda":
        lieu = f"Salle {html[:120]}" if hostile else "Salle municipale"
        event = Event(debut=datetime(2026, 12, 10, 10, 0, tzinfo=TZ),
                      fin=datetime(2026, 12, 10, 12, 0, tzinfo=TZ), lieu=lieu)
        return Item(organisme="Centraide Québec et Chaudière-Appalaches", territoire=REGIONAL,
                    rubrique="agenda", evenement=event, lien=f"https://example.org/a/{n}",
                    **common)
    return Item(organisme="CDC de Lotbinière", territoire="lotbiniere", rubrique="financement",
                echeance=date(2027, 1, 15), **common)


@dataclass(frozen=True)
class Output:
    name: str  # "bellechasse.html (filled)", "print.html"…
    kind: str  # "html" | "text"
    text: str


def render_outputs(items: list[Item]) -> list[Output]:
    """Organize and render ``items`` as one issue; return every output, raw and filled."""
    i18n.activate("fr_CA")
    issue = organize(items, settings(), MONTH)
    rendered = render_issue(issue, settings())
    fill = rendered.placeholders.fill
    outputs = []
    for e in rendered.editions:
        outputs += [
            Output(f"{e.slug}.html", "html", e.html),
            Output(f"{e.slug}.txt", "text", e.text),
            Output(f"{e.slug}.html (filled)", "html", fill(e.html, FILL_VALUES, escape_html=True)),
            Output(f"{e.slug}.txt (filled)", "text", fill(e.text, FILL_VALUES, escape_html=False)),
        ]
    outputs += [Output("print.html", "html", rendered.print_html),
                Output("print.html (filled)", "html",
                       fill(rendered.print_html, FILL_VALUES, escape_html=True))]
    return outputs


def output_group(output: Output) -> str:
    """Which test checks an output: email HTML, text part or print."""
    if output.name.startswith("print"):
        return "print"
    return "email" if output.kind == "html" else "text"


def attribute(text: str, offset: int) -> int | None:
    """Return the number of the last item marker before ``offset`` (the item it belongs to)."""
    last = None
    for m in _MARKER.finditer(text, 0, offset + 1):
        last = int(m.group(1))
    return last


@dataclass(frozen=True)
class Finding:
    family: str
    group: str  # email | text | print
    where: str  # "corpus file (field, layout) in output" or "outside any item"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@lru_cache(maxsize=1)
def corpus_run() -> tuple[tuple[Finding, ...], dict]:
    """Render every corpus sample in every family and layout; collect the findings."""
    _rows, samples = must_strip()
    plan = [(family, layout, s) for family in FAMILIES for s in samples for layout in LAYOUTS]
    findings: list[Finding] = []
    started = time.perf_counter()
    checked = 0
    missing: list[str] = []  # items absent from the print version (complete edition)
    for first in range(0, len(plan), BATCH):
        batch = plan[first:first + BATCH]
        items = [make_item(first + k, fam, lay, s.html) for k, (fam, lay, s) in enumerate(batch)]
        for output in render_outputs(items):
            checked += 1
            if output.name == "print.html":
                shown = {int(m.group(1)) for m in _MARKER.finditer(output.text)}
                missing += [f"{plan[n][2].file} ({plan[n][0]}, {plan[n][1]})"
                            for n in range(first, first + len(batch)) if n not in shown]
            for offset, message in scan(output.text, output.kind):
                n = attribute(output.text, offset)
                if n is not None and first <= n < first + len(batch):
                    fam, lay, s = plan[n]
                    where = f"{s.file} ({s.field}, {fam}, {lay}) in {output.name}"
                else:  # outside any item: the family is that of the whole batch's first item
                    fam = batch[0][0]
                    where = f"batch {first // BATCH} ({fam}) outside any item in {output.name}"
                findings.append(Finding(fam, output_group(output), where, message))
    stats = {"items": len(plan), "issues": -(-len(plan) // BATCH), "outputs": checked,
             "seconds": round(time.perf_counter() - started, 1), "missing": missing}
    return tuple(findings), stats


def _report(findings: list[Finding], limit: int = 40) -> str:
    lines = [str(f) for f in findings[:limit]]
    if len(findings) > limit:
        lines.append(f"… and {len(findings) - limit} more")
    files = sorted({f.where.split(" (")[0] for f in findings})
    return (f"{len(findings)} danger(s) from {len(files)} source(s):\n  " + "\n  ".join(lines)
            + "\nsources: " + ", ".join(files))


def _need_corpus():
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set: render-safety corpus tests SKIPPED "
                    "(scripts/test and .ci/run set it)")


# --- the corpus tests --------------------------------------------------------------------

def test_corpus_is_present_and_hostile():
    """The must-strip files are there, yield HTML, and that HTML is caught when left raw."""
    _need_corpus()
    rows, samples = must_strip()
    assert len(rows) >= 200, f"only {len(rows)} must-strip rows in feedparser/INDEX.tsv"
    files_with_values = {s.file for s in samples}
    missing = [r["path"] for r in rows if r["path"] not in files_with_values]
    assert not missing, f"no HTML value found in: {missing}"
    # The raw values really are hostile: our checker flags most of them as they are.
    flagged = {s.file for s in samples if find_dangers(s.html, "html")}
    assert len(flagged) >= 0.8 * len(rows), (
        f"only {len(flagged)}/{len(rows)} must-strip files look dangerous to find_dangers")


def test_every_corpus_item_was_rendered():
    """No corpus item silently vanished (a vacuous pass would look like a safe one)."""
    _need_corpus()
    _findings, stats = corpus_run()
    assert stats["items"] >= 2 * len(LAYOUTS) * 200, stats["items"]
    assert not stats["missing"], f"items missing from print.html: {stats['missing'][:20]}"


@pytest.mark.parametrize("group", ["email", "text", "print"])
@pytest.mark.parametrize("family", FAMILIES)
def test_corpus_outputs_are_safe(family, group):
    """No corpus must-strip value leaves anything dangerous in this kind of output."""
    _need_corpus()
    findings, stats = corpus_run()
    mine = [f for f in findings if f.family == family and f.group == group]
    assert not mine, f"{family} family, {group} outputs ({stats}):\n" + _report(mine)


# --- targeted cases ----------------------------------------------------------------------

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="JaVaScRiPt&colon;alert(1)">x</a>',
    "<svg><script>alert(1)</script></svg>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="javascript:alert(1)" onclick="alert(1)">lien</a>',
    "<javascript:alert(1)>",
    "![image](javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[réf][1]\n\n[1]: javascript:alert(1)",
    "[tab](jav&#x09;ascript:alert(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{background:red}</style><meta http-equiv=refresh content=0>",
    "<!--[if mso]><script>alert(1)</script><![endif]-->",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="https://example.org"></iframe><form action="https://example.org"><input></form>',
    '"><script>alert(1)</script>',
    "</mj-text><mj-raw><script>alert(1)</script></mj-raw><mj-text>",
]
TEMPLATE_SYNTAX = "{{ config }} {{ 7*191 }} {% raw %}brut{% endraw %} {% for x in [1] %}BOUCLE{% endfor %}"


@lru_cache(maxsize=1)
def targeted_run() -> tuple[list[Item], list[Output]]:
    items = []
    cases = HOSTILE + [TEMPLATE_SYNTAX]
    for family in FAMILIES:
        for case in cases:
            for layout in LAYOUTS:
                items.append(make_item(len(items), family, layout, case))
    return items, render_outputs(items)


def _targeted(family: str, group: str) -> list[str]:
    items, outputs = targeted_run()
    cases = HOSTILE + [TEMPLATE_SYNTAX]
    found = []
    for output in outputs:
        if output_group(output) != group:
            continue
        for offset, message in scan(output.text, output.kind):
            n = attribute(output.text, offset)
            if n is None:
                found.append(f"outside any item in {output.name}: {message}")
                continue
            case_family = FAMILIES[n // (len(cases) * len(LAYOUTS))]
            if case_family == family:
                case = cases[(n // len(LAYOUTS)) % len(cases)]
                found.append(f"case {case!r} ({LAYOUTS[n % len(LAYOUTS)]}) in {output.name}: "
                             f"{message}")
    return found


@pytest.mark.parametrize("group", ["email", "text", "print"])
@pytest.mark.parametrize("family", FAMILIES)
def test_targeted_hostile_input_is_neutralized(family, group):
    found = _targeted(family, group)
    assert not found, f"{len(found)} danger(s):\n  " + "\n  ".join(found[:40])


def test_template_syntax_in_content_is_shown_literally():
    """``{{ }}`` and ``{% %}`` in a body or title come out as written, never evaluated."""
    _items, outputs = targeted_run()
    for output in outputs:
        text = html_lib.unescape(output.text) if output.kind == "html" else output.text
        text = " ".join(text.split())  # the text part wraps at 72 columns
        assert "{{ config }}" in text and "{{ 7*191 }}" in text, output.name
        assert "{% raw %}brut{% endraw %}" in text, output.name
        assert "{% for x in [1] %}BOUCLE{% endfor %}" in text, output.name
        assert "1337" not in text and "<Config" not in text, output.name


BAD_LINKS = ["javascript:alert(1)", " JaVaScRiPt:alert(1)", "vbscript:msgbox(1)",
             "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
             "java\tscript:alert(1)", "https://example.org/\" onmouseover=\"alert(1)"]


@pytest.mark.parametrize("group", ["email", "text", "print"])
def test_bad_lien_from_another_source_never_becomes_a_link(group):
    """The store refuses a ``lien:`` that is not https/http/mailto, but a feed or a future
    source builds Items directly: no template may put such a link in an href or in text."""
    items = [replace(make_item(n, "feed", layout, "Texte."), lien=link)
             for n, (link, layout) in enumerate((link, layout) for link in BAD_LINKS
                                                for layout in LAYOUTS)]
    found = [f"{BAD_LINKS[n // len(LAYOUTS)]!r} ({LAYOUTS[n % len(LAYOUTS)]}) in {o.name}: {m}"
             for o in render_outputs(items) if output_group(o) == group
             for offset, m in scan(o.text, o.kind)
             for n in [attribute(o.text, offset)] if n is not None]
    assert not found, f"{len(found)} danger(s):\n  " + "\n  ".join(found[:30])


# --- the checker itself --------------------------------------------------------------------

def test_find_dangers_catches_what_it_must():
    """The checker is not vacuous: it flags a script tag, an onerror and a javascript: href."""
    assert find_dangers("<p>ok</p><script>alert(1)</script>", "html")
    assert find_dangers('<img src="x.png" onerror="alert(1)">', "html")
    assert find_dangers('<a href="javascript:alert(1)">x</a>', "html")
    assert find_dangers('<a href="JaVaScRiPt&colon;alert(1)">x</a>', "html")
    assert find_dangers('<a href=" jav&#x09;ascript:alert(1)">x</a>', "html")
    assert find_dangers('<a href="data:text/html,&lt;script&gt;">x</a>', "html")
    assert find_dangers('<a href="vbscript:msgbox(1)">x</a>', "html")
    assert find_dangers('<img srcset="a.png 1x, javascript:alert(1) 2x">', "html")
    assert find_dangers('<p style="width:expr\\65ssion(alert(1))">x</p>', "html")
    assert find_dangers("<p style=\"background:url('javascript:alert(1)')\">x</p>", "html")
    assert find_dangers("<!--[if mso]><script>alert(1)</script><![endif]-->", "html")
    assert find_dangers("<svg><g/></svg>", "html")
    assert find_dangers("<form><input name=a><button>b</button></form>", "html")
    # <style> and <meta> are ours in <head>, a finding in <body>.
    page = ('<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" '
            'content="width=device-width"><style>p{color:red}</style></head>'
            '<body><p>ok</p><img src="data:image/png;base64,iVBORw0KGgo="></body></html>')
    assert find_dangers(page, "html") == []
    assert find_dangers(page.replace("<p>ok</p>", "<style>p{}</style>"), "html")
    assert find_dangers(page.replace("<p>ok</p>", '<meta http-equiv="refresh" content="0">'),
                        "html")
    assert find_dangers("<style>p{}</style>", "html")  # a fragment is all body
    # Escaped markup is text, not a tag.
    assert find_dangers("<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", "html") == []
    # Text part.
    assert find_dangers("Bonjour <script>alert(1)</script>", "text")
    assert find_dangers("voir <img src=x onerror=alert(1)>", "text")
    assert find_dangers("Lien : JavaScript:alert(1)", "text")
    assert find_dangers("Lien : data:text/html;base64,AAAA", "text")
    assert find_dangers("Atelier : 10 h à 12 h, salle 3 (https://example.org/?on=1)", "text") == []
    with pytest.raises(ValueError):
        find_dangers("x", "pdf")

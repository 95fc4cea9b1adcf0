"""The print edition's pages, read back from the PDF: notices kept whole, running headers that
name the section on the page, no third of a page left blank, a light file."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import content as store
from infolettre import organize
from infolettre.models import COMPLETE, Event, Item, Status
from infolettre.render.context import base_context
from infolettre.render.environment import make_environment
from infolettre.render.personalize import Placeholders
from infolettre.render.print import render_print_html, write_pdf

from .pdf_pages import Page, capture, read_pages

MONTH = "2026-12"
TZ = ZoneInfo("America/Montreal")
MM = 72 / 25.4
#: The text area of a Letter page (print.css: @page margin 20mm 17mm 18mm 17mm), in points.
TOP, BOTTOM = 20 * MM, 792 - 18 * MM
RAIL_END = 17 * MM + 40 * MM  # the date rail of agenda and funding notices


def render(settings, items, folder: Path) -> tuple[str, Path, object]:
    issue = organize.organize(items, settings, MONTH)
    env = make_environment(settings.paths.gabarits)
    html = render_print_html(env, base_context(issue, settings, Placeholders()))
    write_pdf(html, folder, folder / "print.pdf")
    return html, folder / "print.pdf", issue


def long_issue_items() -> list[Item]:
    """Two news sections, a long agenda (24 events of 1 or 2 paragraphs, and EV99, of 12,
    taller than a third of a page), 10 calls of 1 or 2 paragraphs."""
    def item(slug, titre, rubrique, **kw):
        return Item(slug=slug, month=MONTH, titre=titre, organisme="CDC des Etchemins",
                    territoire="regional", rubrique=rubrique, date=date(2026, 11, 18),
                    statut=Status.APPROVED, **kw)
    paragraph = ("Les organismes du territoire se réunissent pour faire le point sur "
                 "les besoins de la population et préparer les actions de l'hiver. ")
    items = [item(f"nouvelle-{n}", f"Nouvelle régionale numéro {n}", "nouvelles",
                  corps=(paragraph * 3 + "\n\n") * 3) for n in range(4)]
    items += [item(f"bon-coup-{n}", f"Un bon coup numéro {n}", "bons-coups",
                   corps=(paragraph * 2 + "\n\n") * 2) for n in range(3)]
    start = datetime(2026, 12, 3, 9, tzinfo=TZ)
    for n in range(24):
        debut = start + timedelta(days=2 * n, hours=n % 5)
        items.append(item(f"ev{n:02d}", f"Événement EV{n:02d} de la région", "agenda",
                          evenement=Event(debut, debut + timedelta(hours=2),
                                          "Salle communautaire de Lac-Etchemin"),
                          corps="\n\n".join([paragraph * 2] * (1 + n % 2)) + f" fin{n:02d}",
                          lien=f"https://example.org/evenements/ev{n:02d}"))
    debut = datetime(2027, 2, 3, 9, tzinfo=TZ)
    items.append(item("ev99", "Événement EV99 de la région, très détaillé", "agenda",
                      evenement=Event(debut, None, "Lévis"),
                      corps="\n\n".join([paragraph * 2] * 12) + " fin99",
                      lien="https://example.org/evenements/ev99"))
    for n in range(10):
        items.append(item(f"ap{n:02d}", f"Appel de projets AP{n:02d}", "financement",
                          echeance=date(2027, 1, 10) + timedelta(days=7 * n),
                          corps="\n\n".join([paragraph * 2] * (1 + n % 2)),
                          lien=f"https://example.org/appels/ap{n:02d}"))
    return items


@pytest.fixture(scope="module")
def long_issue(sample_settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    html, pdf, issue = render(sample_settings, long_issue_items(), folder)
    capture(pdf, "impression-agenda-long")
    return html, read_pages(pdf), issue


@pytest.fixture(scope="module")
def sample_issue(sample_settings, tmp_path_factory):
    if not (sample_settings.paths.contenu / MONTH).is_dir():
        pytest.skip(f"pas de contenu d'exemple dans content/{MONTH}")
    folder = tmp_path_factory.mktemp("sample")
    items, _problems = store.load_month(sample_settings, MONTH)
    (folder / "images").mkdir()
    for it in items:
        if it.image:
            shutil.copy(it.path.parent / it.image, folder / "images" / it.image)
    html, pdf, issue = render(sample_settings, items, folder)
    capture(pdf, "impression-exemple")
    return html, pdf, read_pages(pdf), issue


def body(page: Page):
    return page.between(TOP, BOTTOM)


COLOPHON = "Pour nous joindre"


def is_heading(line, titles: set[str]) -> bool:
    """A section heading (17 pt: taller than any other line), or the colophon's."""
    return line.text in titles and (line.height > 14 or line.text == COLOPHON)


def section_titles(page: Page, titles: set[str]) -> list[str]:
    """The section headings on a page, top to bottom."""
    return [line.text for line in sorted(body(page), key=lambda line: line.y0)
            if is_heading(line, titles)]


def header_section(page: Page) -> str:
    """The right-hand running header: the header line right of the page's middle."""
    return " ".join(line.text for line in page.lines
                    if line.y1 < TOP and line.x0 > page.width / 2)


def blank_at_foot(page: Page) -> float:
    """How much of the text area is empty below the last line, as a fraction."""
    lowest = max((line.y1 for line in body(page)), default=TOP)
    return (BOTTOM - lowest) / (BOTTOM - TOP)


# --- the rules are in the CSS ----------------------------------------------------------------

def test_break_rules_are_in_the_stylesheet(long_issue):
    html = long_issue[0]
    assert re.search(r"\.notice \{ break-inside: avoid; \}", html)
    for selector in (r"\.section-title", r"\.group-title", r"\.item-head", r"\.intro"):
        rule = re.search(selector + r" \{[^}]*\}", html)
        assert rule and "break-after: avoid" in rule.group(0), selector
    assert "string-set: section content(text)" in html
    assert "content: string(section, start)" in html
    assert "break-before: page" not in html and "page-break-before" not in html


# --- ... and effective -----------------------------------------------------------------------

def test_no_notice_is_split_across_pages(long_issue):
    """Each event and call is on one page: its date (in the rail, level with the title),
    its title, the end of its text and its address are all on the same page."""
    html, pages, issue = long_issue
    notices = [it for it in issue.edition(COMPLETE).items
               if it.slug[:2] in ("ev", "ap") and it.slug != "ev99"]
    assert len(notices) == 34
    for it in notices:
        article = re.search(rf'<article class="item notice[^"]*" id="i-{it.slug}">(.*?)'
                            r"</article>", html, re.S).group(1)
        when = re.search(r'<p class="(?:when|deadline)">(.*?)</p>', article, re.S).group(1)
        when = html_lib.unescape(re.sub(r"<[^>]+>", "", when)).split()
        code = it.slug.upper()
        [(number, title)] = [(n, line) for n, page in enumerate(pages) for line in body(page)
                             if code in line.text and line.height > 10]
        rail = [line for line in body(pages[number])
                if line.x1 < RAIL_END and abs(line.y0 - title.y0) < 4]
        assert rail and rail[0].text.split() == when[:len(rail[0].text.split())], it.slug
        ends = [n for n, page in enumerate(pages) for line in body(page)
                if it.lien.removeprefix("https://") in line.text.replace(" ", "")]
        assert ends == [number], f"{it.slug} : commence page {number + 1}, finit page {ends}"


def test_a_notice_taller_than_a_third_of_a_page_keeps_its_head_together(long_issue):
    """EV99 (12 paragraphs) may continue on the next page, but its date, title and first
    lines are on one page, the date in a band above the title."""
    html, pages, _issue = long_issue
    [(number, title)] = [(n, line) for n, page in enumerate(pages) for line in body(page)
                         if "EV99" in line.text and line.height > 10]
    lines = sorted(body(pages[number]), key=lambda line: line.y0)
    above = [line for line in lines if title.y0 - 100 < line.y1 <= title.y0]  # QR beside
    assert any(line.text.startswith("Mercredi 3 février 2027") for line in above)
    below = [line for line in lines if line.y0 > title.y1]
    assert len(below) >= 3  # the organisation, then at least two lines of text


def expected_headers(pages: list[Page], titles: set[str]) -> tuple[list[str], list[str]]:
    """What string(section, start) names on each page: the section whose heading opens the
    page, else the last one begun before the page (the one its first line continues). Also
    return, for each page, that last section begun before it."""
    expected, before, last = [], [], ""
    for page in pages:
        lines = sorted(body(page), key=lambda line: line.y0)
        opens = lines and is_heading(lines[0], titles)
        expected.append(lines[0].text if opens else last)
        before.append(last)
        last = (section_titles(page, titles) or [last])[-1]
    return expected, before


@pytest.mark.parametrize("which", ["long_issue", "sample_issue"])
def test_running_header_names_the_section_on_the_page(which, request):
    """Pages 2+ name, top right, the section at the top of the page; page 1 (the cover) none."""
    fixture = request.getfixturevalue(which)
    pages, issue = fixture[-2], fixture[-1]
    titles = {section.titre for section in issue.edition(COMPLETE).sections}
    titles.add(COLOPHON)
    assert header_section(pages[0]) == ""
    headers = [header_section(page) for page in pages]
    expected, before = expected_headers(pages, titles)
    assert headers[1:] == expected[1:]
    for number, header in enumerate(headers[1:], start=1):  # on the page, or continued
        assert header in section_titles(pages[number], titles) or header == before[number]
    assert len(set(headers[1:])) >= 3


@pytest.mark.parametrize("which", ["long_issue", "sample_issue"])
def test_no_third_of_a_page_left_blank(which, request):
    """No page but the last ends a third (or more) of its text area early: not before a
    section, not between notices kept whole."""
    pages = request.getfixturevalue(which)[-2]
    blanks = {number + 1: round(blank_at_foot(page), 2) for number, page in enumerate(pages)}
    assert {n: b for n, b in blanks.items() if b >= 1 / 3 and n < len(pages)} == {}


def test_headings_are_never_last_on_a_page(long_issue):
    """A section or group heading is always followed, on its page, by text."""
    pages, issue = long_issue[1], long_issue[2]
    titles = {s.titre for s in issue.edition(COMPLETE).sections}
    for page in pages:
        lines = sorted(body(page), key=lambda line: line.y0)
        assert lines[-1].text not in titles
        assert lines[-1].text not in ("NOUVELLES DES CONCERTATIONS", "BONS COUPS")


def test_the_sample_pdf_stays_light(sample_issue):
    """Thirty-odd QR codes (vector SVG) keep the sample's PDF under 200 kB."""
    pdf = sample_issue[1]
    assert pdf.stat().st_size < 200_000

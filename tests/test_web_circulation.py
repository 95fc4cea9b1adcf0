"""« Circulation » in the review app: the report with a chart per territory, for the pivot
and the relecteurs, printable, and the same figures as the command."""

from __future__ import annotations

import html
import re

import pytest

from infolettre import pipeline
from infolettre.web import create_app

from .circulation_year import MONTHS, file_counts, write_year
from .webfixtures import PASSWORD, clock, signed_in  # noqa: F401


@pytest.fixture
def app(settings, clock):
    write_year(settings)
    pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock)
    pipeline.user_add(settings, "releve@example.org", PASSWORD, role="relecteur",
                      territoire="montmagny", clock=clock)
    return create_app(settings, clock=clock, testing=True)


def test_the_page_shows_a_chart_per_territory(app, settings):
    page = signed_in(app).get("/circulation")
    assert page.status_code == 200
    text = page.text
    svgs = re.findall(r"<svg [^>]*>.*?</svg>", text, re.S)
    assert len(svgs) == 1 + len(settings.territories)
    for svg in svgs:
        assert 'role="img"' in svg and 'aria-label="Nouvelles de ' in svg
        assert "<title>" in svg and "<desc id=" in svg and "<script" not in svg
    counts = file_counts(settings, MONTHS[-6:], history=MONTHS)
    bellechasse = next(s for s in svgs if 'aria-label="Nouvelles de Bellechasse' in s)
    numbers = re.findall(r'font-weight="bold" fill="#1b1b1b">(\d+)</text>', bellechasse)
    assert [int(n) for n in numbers] == [counts.territory_month["bellechasse"][m]
                                         for m in MONTHS[-6:]]
    assert "Entraide Bellechasse" in text and "silencieux depuis août 2026" in text
    assert "sous-représenté" in text
    assert 'href="/statique/circulation.css' in text
    assert 'href="/circulation"' in text  # in the menu


def test_a_relecteur_may_read_it_and_the_csv(app):
    reader = signed_in(app, "releve@example.org")
    page = reader.get("/circulation?mois=12")
    assert page.status_code == 200 and "12 derniers numéros" in page.text
    assert 'href="/circulation"' in reader.get("/").text
    answer = reader.get("/circulation.csv?mois=12")
    assert answer.status_code == 200 and answer.data.startswith(b"\xef\xbb\xbf")
    assert "Lotbinière".encode() in answer.data


def test_nobody_signed_out_reads_it(app):
    answer = app.test_client().get("/circulation")
    assert answer.status_code in (302, 303) and "/connexion" in answer.headers["Location"]


def test_a_bad_mois_is_explained_on_the_page(app):
    page = signed_in(app).get("/circulation?mois=treize")
    assert page.status_code == 400
    assert "n'est pas un nombre de numéros valide" in html.unescape(page.text)


def test_the_print_stylesheet_is_for_letter_paper_without_the_menu(app):
    css = signed_in(app).get("/statique/circulation.css").text
    assert "size: letter" in css
    printing = css[css.index("@media print"):]
    assert "header.top" in printing and "display: none" in printing
    assert "break-inside: avoid" in printing and ".circ-territory" in printing

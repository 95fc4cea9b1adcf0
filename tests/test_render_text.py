"""Plain-text part: its own template, Markdown made readable, 72 columns, links written out."""

from __future__ import annotations

import re

import pytest

from infolettre.models import COMPLETE, Status
from infolettre.organize import organize
from infolettre.render.personalize import Placeholders
from infolettre.render.text import (excerpt_markdown, french_spacing, markdown_to_text,
                                    render_text, wrap)
from infolettre.content import load_month

from .render_helpers import MONTH, make_item, realistic_issue, render_context

TOKENS = Placeholders(nonce="0" * 16)
NBSP = "\u00a0"


def text_of(issue, settings, slug=COMPLETE) -> str:
    env, ctx = render_context(issue, settings, slug, TOKENS)
    return render_text(env, ctx)


def flat(text: str) -> str:
    """Join wrapped lines and undo non-breaking spaces, to look for a phrase."""
    return " ".join(text.replace(NBSP, " ").split())


@pytest.fixture(scope="module")
def sample_issue(sample_settings):
    items, _problems = load_month(sample_settings, MONTH)
    return organize(items, sample_settings, MONTH)


def test_text_part_has_every_title_and_the_footer(sample_issue, sample_settings):
    """Each edition's text names every section and item, and carries the CASL footer."""
    identity = sample_settings.identity
    for edition in sample_issue.editions:
        text = text_of(sample_issue, sample_settings, edition.slug)
        joined = flat(text)
        for section in edition.sections:
            assert section.titre.upper() in text, (edition.slug, section.titre)
        for item in edition.items:
            assert flat(item.titre) in joined, (edition.slug, item.titre)
        assert flat(identity.adresse_postale) in joined
        assert f"{identity.nom} · {identity.sender_address}" in text
        assert TOKENS.token("desabonnement") in text and TOKENS.token("salutation") in text
        assert "</" not in text and "<p" not in text  # its own layout, not HTML


def test_lines_fit_in_72_columns_unless_a_url_cannot_be_cut(sample_settings):
    """Lines stay within 72 columns; a longer line is a single URL that must stay whole."""
    text = text_of(realistic_issue(sample_settings), sample_settings)
    for line in text.splitlines():
        if len(line) > 72:
            assert re.search(r"https?://\S{40,}|@@", line), line


def test_urls_are_never_broken(sample_settings):
    """Every link of every body appears whole on one line of the text part."""
    url = "https://example.org/" + "tres-longue-adresse/" * 5 + "fin"
    item = make_item("long", corps=f"Voir [le guide]({url}) pour tout savoir sur le sujet, "
                                   "vraiment tout, " * 3)
    text = text_of(organize([item], sample_settings, MONTH), sample_settings)
    assert f"({url})" in text


def test_markdown_becomes_readable_text():
    """Paragraphs, bullets, numbered lists and quotes survive; emphasis marks do not."""
    text = markdown_to_text("Un **gras** et un *italique*.\n\n- un\n- deux\n\n"
                            "3. trois\n4. quatre\n\n> cité\n\n# Titre")
    assert text == ("Un gras et un italique.\n\n- un\n- deux\n\n3. trois\n4. quatre\n\n"
                    "> cité\n\nTitre")


def test_links_are_written_out():
    """A link reads « texte (https://…) »; a bare URL once; mailto: as the address."""
    text = markdown_to_text("Voir [le site](https://ex.org/a), <https://ex.org/b> ou "
                            "[Marie](mailto:marie@ex.org).", width=None)
    assert text == ("Voir le site (https://ex.org/a), https://ex.org/b ou Marie "
                    "(marie@ex.org).")


def test_list_items_wrap_under_their_text():
    """A long bullet wraps with a hanging indent, aligned under its first word."""
    text = markdown_to_text("- " + "mot " * 30, width=40)
    lines = text.splitlines()
    assert lines[0].startswith("- mot") and all(l.startswith("  mot") for l in lines[1:])
    assert all(len(l) <= 40 for l in lines)


def test_raw_html_in_markdown_is_dropped_from_text():
    """Tags typed in a body are removed from the text part; their words remain."""
    assert markdown_to_text("Un <b>mot</b> <script>x()</script>") == "Un mot x()"


def test_french_spacing_is_non_breaking():
    """The space before : ; ! ? », after «, and inside 1 200 000 $ never breaks a line."""
    assert french_spacing("Note : oui ; « non » ! 1 200 000 $ et 50 %") == (
        f"Note{NBSP}: oui{NBSP}; «{NBSP}non{NBSP}»{NBSP}! 1{NBSP}200{NBSP}000{NBSP}$ "
        f"et 50{NBSP}%")
    assert french_spacing("https://ex.org:8080/a?b=1") == "https://ex.org:8080/a?b=1"
    assert french_spacing("{% if x %}") == "{% if x %}"
    wrapped = wrap("mot " * 15 + "budget : 1 200 000 $", width=20)
    assert all(not line.startswith((":", "000", "$")) for line in wrapped.splitlines())


def test_special_characters_are_not_html_escaped(sample_settings):
    """The text part is not HTML: « & », quotes and < stay as typed."""
    item = make_item("amp", titre="Femmes & familles : « l'été <2027> »",
                     organisme="CDC des Etchemins", territoire="les-etchemins")
    text = text_of(organize([item], sample_settings, MONTH), sample_settings)
    assert "Femmes & familles" in text and "l'été <2027>" in text and "&amp;" not in text


def test_excerpt_keeps_whole_blocks():
    """A short body is its opening blocks; an announced list comes with its sentence; under
    half the budget, the next paragraph is cut too (as text, between words, « … »)."""
    body = "Au programme :\n\n- un\n- deux\n\n" + "Suite " * 60
    assert excerpt_markdown(body, 45) == "Au programme :\n\n- un\n- deux\n\n" + \
        " ".join(["Suite"] * 38) + NBSP + "…"
    assert excerpt_markdown(body, 6) == "Au programme :\n\n- un\n- deux"  # a list ends itself
    assert excerpt_markdown("Court.", 45) is None
    cut = excerpt_markdown("Long " * 80 + "[lien](https://x.org)", 10)
    assert cut.endswith(NBSP + "…") and "https" not in cut and len(cut.split(" ")) == 10
    two = "Premier paragraphe de sept mots en tout.\n\n" + "Deuxième paragraphe. " * 30
    assert excerpt_markdown(two, 20) == "Premier paragraphe de sept mots en tout.\n\n" + \
        "Deuxième paragraphe\\. " * 5 + "Deuxième paragraphe\\." + NBSP + "…"  # a sentence end


def test_agenda_and_funding_show_date_place_and_deadline(sample_settings):
    """Agenda items open with their date line and place; calls with their deadline."""
    items = [make_item("fete", titre="Fête", rubrique="agenda"),
             make_item("appel", titre="Appel", rubrique="financement")]
    text = text_of(organize(items, sample_settings, MONTH), sample_settings)
    when = f"Jeudi 10{NBSP}décembre 2026, de 13{NBSP}h{NBSP}30 à 16{NBSP}h"
    assert when + "\n[" not in text
    assert re.search(when + r"\nFête\nSalle du conseil · ", text)
    assert f"Date limite{NBSP}: vendredi 15{NBSP}janvier 2027\nAppel\n" in text


def test_headlines_are_one_line_each_with_their_link(sample_settings):
    """Other territories' news are bullets « titre — organisme » under their territory, the
    address of its page on the site on the next line (whole, bare: every client links it)."""
    item = make_item("voisin", titre="Nouvelle voisine", territoire="bellechasse",
                     organisme="CDC de Bellechasse", lien="https://ex.org/v")
    text = text_of(organize([item], sample_settings, MONTH), sample_settings, "montmagny")
    assert "Bellechasse\n-----------\n- Nouvelle voisine — CDC de Bellechasse\n" \
           "  https://infolettre.example.org/2026-12/nouvelles/voisin.html\n" in text


def test_preview_marks_statuses_only_in_preview(sample_settings):
    """In preview each item starts with its status in brackets; the sent text has none."""
    items = [make_item("a"), make_item("b", statut=Status.SUBMITTED)]
    preview = text_of(organize(items, sample_settings, MONTH, preview=True), sample_settings)
    assert "[APPROUVÉ] A" in preview and "[SOUMIS] B" in preview and "APERÇU" in preview
    final = text_of(organize(items, sample_settings, MONTH), sample_settings)
    assert "[APPROUVÉ]" not in final and "APERÇU" not in final

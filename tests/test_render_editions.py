"""Issue 14, the editions as a demanding reader sees them (email and text parts): each
edition opens with its territory and its own preview text, summaries stop at a sentence or a
word with « … » and a link to the item's page, headlines link to their pages, our wording
gets French typography (never what people wrote), photos keep their size, « Voir dans le
navigateur » and the optional logo."""

from __future__ import annotations

import dataclasses
import re

import pytest
from PIL import Image

from infolettre.errors import ConfigError
from infolettre.models import COMPLETE
from infolettre.organize import organize
from infolettre.pipeline import build
from infolettre.render.email import render_email_html
from infolettre.render.excerpt import ELLIPSIS, cut_words, ends_sentence
from infolettre.render.images import email_size
from infolettre.render.personalize import Placeholders
from infolettre.render.text import render_text
from infolettre.render.typography import date_typography, typography
from infolettre.settings import load_settings

from .render_helpers import MONTH, make_item, render_context

NBSP = "\u00a0"
SITE = "https://infolettre.example.org"


def both(items, settings, slug=COMPLETE) -> tuple[str, str]:
    issue = organize(items, settings, MONTH)
    env, ctx = render_context(issue, settings, slug, Placeholders(nonce="0" * 16))
    return render_email_html(env, ctx, settings), render_text(env, ctx)


def without_site(settings):
    return dataclasses.replace(settings, identity=dataclasses.replace(settings.identity,
                                                                      site=None))


# --- where a summary stops -----------------------------------------------------------------

def test_a_cut_ends_at_the_last_sentence_in_range():
    text = "Une phrase de cinq mots. " + "Une deuxième phrase plus longue que la première. " \
        + "mot " * 40
    assert cut_words(text, 20) == ("Une phrase de cinq mots. Une deuxième phrase plus longue "
                                   "que la première." + ELLIPSIS)


def test_without_a_sentence_end_in_range_a_cut_ends_between_words_never_on_a_little_word():
    text = "Une phrase. " + "Les organismes du territoire se réunissent pour un atelier de " \
        "planification et de concertation sur le logement"
    cut = cut_words(text, 12)  # « … pour un atelier de » → « … pour un atelier »
    assert cut == "Une phrase. Les organismes du territoire se réunissent pour un atelier" \
        + ELLIPSIS
    assert cut_words("un deux, trois quatre", 2) == "un deux" + ELLIPSIS  # no « , … »
    assert cut_words("Court texte.", 10) == "Court texte."


def test_abbreviations_and_numbers_do_not_end_a_sentence():
    assert ends_sentence("réunion.") and ends_sentence("vrai ?".split()[-1])
    assert ends_sentence("fin.»") and ends_sentence("tard!")
    assert not any(ends_sentence(w) for w in ("M.", "Mme.", "p.", "ex.", "déc.", "5."))
    text = "Rencontre avec M. Tremblay le 5 déc. à la salle du conseil municipal " + "mot " * 30
    assert not cut_words(text, 12).startswith("Rencontre avec M." + ELLIPSIS)
    assert "M. Tremblay" in cut_words(text, 12)


# --- long news, links to the item's page ---------------------------------------------------

LONG = ("Premier paragraphe qui présente le projet en quelques mots simples.\n\n"
        + "Une phrase de détail sur le projet et ses partenaires du milieu. " * 16)


def test_long_news_are_cut_with_lire_la_suite_on_the_site_only(sample_settings):
    items = [make_item("long", titre="Un long texte", corps=LONG)]
    html, text = both(items, sample_settings)
    page = f"{SITE}/2026-12/nouvelles/long.html"
    assert f'href="{page}"' in html and ">Lire la suite</a>" in html
    assert html.count("Une phrase de détail") < 16 and "milieu." + "&nbsp;…" in html
    assert f"Lire la suite{NBSP}: {page}" in text and text.count("Une phrase de détail") < 16
    html, text = both(items, without_site(sample_settings))
    assert html.count("Une phrase de détail") == 16 and "Lire la suite" not in html
    text = " ".join(text.split())
    assert text.count("Une phrase de détail") == 16 and "Lire la suite" not in text


def test_a_text_a_little_over_its_budget_is_shown_whole(sample_settings):
    corps = "Une phrase de huit mots pour le test. " * 13  # 104 words: under 120
    html, _text = both([make_item("presque", corps=corps)], sample_settings)
    assert "Lire la suite" not in html and html.count("Une phrase") == 13


def test_headlines_link_to_their_item_pages(sample_settings):
    items = [make_item("voisin", titre="Sans lien", territoire="bellechasse"),
             make_item("autre", titre="Avec lien", territoire="bellechasse",
                       lien="https://ex.org/a")]
    html, text = both(items, sample_settings, "montmagny")
    for slug in ("voisin", "autre"):
        assert f'<a href="{SITE}/2026-12/nouvelles/{slug}.html"' in html
        assert f"\n  {SITE}/2026-12/nouvelles/{slug}.html\n" in text
    html, text = both(items, without_site(sample_settings), "montmagny")
    assert '<a href="https://ex.org/a"' in html and "nouvelles/voisin" not in html
    assert "\n  https://ex.org/a\n" in text


def test_view_in_browser_opens_the_edition_page_only_with_a_site(sample_settings):
    items = [make_item("un")]
    html, text = both(items, sample_settings, "bellechasse")
    assert f'<a class="tap" href="{SITE}/2026-12/bellechasse.html"' in html
    assert ">Voir dans le navigateur</a>" in html
    assert text.splitlines()[4] == \
        f"Voir dans le navigateur{NBSP}: {SITE}/2026-12/bellechasse.html"
    html, _text = both(items, sample_settings)  # the complete edition: the issue's page
    assert f'href="{SITE}/2026-12/index.html"' in html
    html, text = both(items, without_site(sample_settings))
    assert "Voir dans le navigateur" not in html and "Voir dans le navigateur" not in text


# --- order and preview text ------------------------------------------------------------------

def test_a_territorial_edition_opens_with_its_own_news_and_preview_text(sample_settings):
    items = [make_item("reg", titre="Nouvelle régionale"),
             make_item("loc", titre="Nouvelle des Etchemins", territoire="les-etchemins")]
    html, text = both(items, sample_settings, "les-etchemins")
    hidden = re.search(r'<div style="display:none;[^"]*">(.*?)</div>', html, re.S).group(1)
    assert hidden.startswith("Ce mois-ci&nbsp;: Nouvelle des Etchemins · Nouvelle régionale")
    assert text.index("\nCHEZ VOUS — LES ETCHEMINS\n") < text.index("\nRÉGIONAL\n")
    complete, _text = both(items, sample_settings)
    assert "Ce mois-ci&nbsp;: Nouvelle régionale · Nouvelle des Etchemins" in complete


# --- French typography of our wording, never of theirs ---------------------------------------

def test_typography_functions():
    assert typography("Date limite : %(date)s") == f"Date limite{NBSP}: %(date)s"
    assert typography("« %(t)s » l'édition") == f"«{NBSP}%(t)s{NBSP}» l’édition"
    assert typography("%(a)s %(b)s") == "%(a)s %(b)s"
    assert date_typography("mardi 5 décembre 2026, de 9 h 30 à 14 h") == \
        f"mardi 5{NBSP}décembre 2026, de 9{NBSP}h{NBSP}30 à 14{NBSP}h"
    assert date_typography("1er janvier 2027") == f"1er{NBSP}janvier 2027"


def test_typography_is_given_to_our_wording_only(sample_settings):
    items = [make_item("note", titre="Note: test", corps="L'été : « oui » !",
                       organisme="CDC d'ici", lien="https://ex.org/n"),
             make_item("appel", titre="Appel ; l'autre", rubrique="financement"),
             make_item("fete", titre="Fête", rubrique="agenda")]
    html, text = both(items, sample_settings)
    for part in (html, text):
        assert "Note: test" in part and "CDC d'ici" in part and "L'été" in part
        assert "Appel ; l'autre" in part.replace(NBSP, " ")  # their apostrophe stays
    assert "Date limite&nbsp;: vendredi 15&nbsp;janvier 2027" in html
    assert "Jeudi 10&nbsp;décembre 2026, de 13&nbsp;h&nbsp;30 à 16&nbsp;h" in html
    assert "En savoir plus&nbsp;: Note: test" in html  # aria-label: ours, then their title
    assert f"Date limite{NBSP}: vendredi 15{NBSP}janvier 2027" in text
    assert "Pour nous écrire ou proposer une nouvelle&nbsp;:" in html


# --- images, logo ----------------------------------------------------------------------------

def test_photos_have_width_and_height_from_their_file(sample_settings, tmp_path):
    Image.new("RGB", (1200, 800), (200, 100, 50)).save(tmp_path / "photo.jpg")
    item = make_item("photo", image="photo.jpg", image_alt="Une photo",
                     path=tmp_path / "photo.md")
    assert email_size(item) == (552, 368)
    html, _text = both([item], sample_settings)
    img = re.search(r'<img [^>]*src="@@0+:images@@photo.jpg"[^>]*>', html).group(0)
    assert 'width="552"' in img and 'height="368"' in img and 'alt="Une photo"' in img
    turned = Image.new("RGB", (1200, 800))
    exif = turned.getexif()
    exif[0x0112] = 6  # shown turned a quarter: 800 × 1200
    turned.save(tmp_path / "debout.jpg", exif=exif)
    assert email_size(dataclasses.replace(item, image="debout.jpg")) == (552, 828)
    assert email_size(dataclasses.replace(item, image="absente.jpg")) is None


def _with_logo(project, line: str):
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('fuseau = "America/Montreal"',
                                           'fuseau = "America/Montreal"\n' + line, 1),
                              encoding="utf-8")


def test_logo_is_checked_when_the_configuration_is_read(project):
    _with_logo(project, 'logo = "logo.png"')
    with pytest.raises(ConfigError) as missing:
        load_settings(project.config)
    assert "introuvable" in str(missing.value) and "logo" in str(missing.value)
    (project.root / "logo.png").write_text("<svg/>", encoding="utf-8")
    with pytest.raises(ConfigError) as wrong:
        load_settings(project.config)
    assert "PNG, JPEG ou GIF" in str(wrong.value)
    Image.new("RGB", (480, 128), (27, 73, 101)).save(project.root / "logo.png")
    assert load_settings(project.config).identity.logo == project.root / "logo.png"


def test_logo_in_the_email_and_beside_the_built_files(project):
    Image.new("RGB", (480, 128), (27, 73, 101)).save(project.root / "logo.png")
    _with_logo(project, 'logo = "logo.png"')
    settings = project.settings()
    html, _text = both([make_item("un")], settings)
    img = re.search(r'<img [^>]*class="logo"[^>]*>', html).group(0)
    assert f'src="{SITE}/logo/logo.png"' in img and 'alt="Le Fil régional"' in img
    assert 'width="240"' in img and 'height="64"' in img
    project.write("un.md", "---\ntitre: Un\norganisme: CDC des Etchemins\nterritoire: "
                  "les-etchemins\nrubrique: nouvelles\ndate: 2026-11-20\nstatut: approuve\n"
                  "---\nTexte.\n")
    result = build(settings, MONTH, pdf=False)
    built = (result.out_dir / "complete.html").read_text(encoding="utf-8")
    assert 'src="images/logo-infolettre-logo.png"' in built and f"{SITE}/logo/" not in built
    assert (result.out_dir / "images" / "logo-infolettre-logo.png").is_file()
    assert f"{SITE}/logo/logo.png" in result.rendered.edition(COMPLETE).html  # as sent
    html, _text = both([make_item("un")], without_site(settings))
    assert 'class="logo"' not in html


def test_a_new_logo_makes_the_preview_stale(project):
    """The preview shows its copy of the logo: another logo under the same name rebuilds it."""
    from infolettre.pipeline.previews import fingerprint

    Image.new("RGB", (480, 128), (27, 73, 101)).save(project.root / "logo.png")
    _with_logo(project, 'logo = "logo.png"')
    before = fingerprint(project.settings(), MONTH)
    Image.new("RGB", (480, 128), (200, 30, 30)).save(project.root / "logo.png")
    assert fingerprint(project.settings(), MONTH) != before


def test_links_to_documents_point_at_their_published_copy(sample_settings):
    """« [le rapport](rapport annuel.pdf) » beside the item: with the site, its published
    copy (in the HTML and written out in the text); an outside link is left alone."""
    corps = "Lisez [le rapport](<rapport annuel.pdf>) et [le site](https://ex.org/r)."
    items = [make_item("doc", corps=corps)]
    html, text = both(items, sample_settings)
    url = f"{SITE}/2026-12/documents/rapport%20annuel.pdf"
    assert f'href="{url}"' in html and 'href="https://ex.org/r"' in html
    assert f"le rapport ({url})" in " ".join(text.split())
    html, _text = both(items, without_site(sample_settings))
    assert "documents/" not in html


def test_publish_puts_the_logo_where_the_emails_load_it(tmp_path):
    """The address of the emails' logo (``permalinks.logo``) is a file of the site."""
    from infolettre import permalinks, pipeline
    from infolettre.clock import FixedClock

    from .site_helpers import NOW, sample_copy

    settings = sample_copy(tmp_path)
    Image.new("RGB", (480, 128), (27, 73, 101)).save(tmp_path / "logo réseau.png")
    settings = dataclasses.replace(settings, identity=dataclasses.replace(
        settings.identity, logo=tmp_path / "logo réseau.png"))
    clock = FixedClock(NOW)
    pipeline.approve(settings, MONTH, "Julie Roy", clock=clock)
    pipeline.publish(settings, MONTH, clock=clock)
    src = re.search(r'<img [^>]*class="logo"[^>]*>', both([make_item("un")], settings)[0])
    path = src.group(0).split('src="')[1].split('"')[0].removeprefix(SITE + "/")
    assert path == permalinks.logo("logo réseau.png") == "logo/logo%20r%C3%A9seau.png"
    copied = settings.paths.site / "logo" / "logo réseau.png"
    assert copied.read_bytes() == (tmp_path / "logo réseau.png").read_bytes()


def test_the_logo_counts_in_the_sign_off_only_when_there_is_one(sample_settings, tmp_path):
    """Readers see the logo: another logo is a change to approve again; a configuration
    without one hashes as before the key existed (no sign-off lost on upgrade)."""
    from dataclasses import asdict

    from infolettre.review.signoff import canonical, settings_record

    record = settings_record(sample_settings)
    assert "logo" not in record and "logo" not in record["identity"]
    assert record["identity"] == {k: v for k, v in asdict(sample_settings.identity).items()
                                  if k != "logo"}
    Image.new("RGB", (10, 10)).save(tmp_path / "logo.png")
    with_logo = dataclasses.replace(sample_settings, identity=dataclasses.replace(
        sample_settings.identity, logo=tmp_path / "logo.png"))
    first = canonical(settings_record(with_logo))
    Image.new("RGB", (10, 10), (255, 0, 0)).save(tmp_path / "logo.png")
    assert canonical(settings_record(with_logo)) != first


def test_check_warns_that_a_logo_without_a_site_would_not_show(project):
    from infolettre.pipeline import check

    Image.new("RGB", (480, 128), (27, 73, 101)).save(project.root / "logo.png")
    _with_logo(project, 'logo = "logo.png"')
    project.write("un.md", "---\ntitre: Un\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                  "date: 2026-11-20\nstatut: approuve\n---\nTexte.\n")
    settings = project.settings()
    assert not [p for p in check(settings, MONTH).problems if p.kind == "logo"]
    [warning] = [p for p in check(without_site(settings), MONTH).problems if p.kind == "logo"]
    assert "ne paraîtra pas" in warning.message and "[infolettre] site" in warning.fix

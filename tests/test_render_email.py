"""Email HTML: MJML compiled once per edition, accessible, CASL footer, under Gmail's 102 KB."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from infolettre import i18n
from infolettre.errors import BuildError, Severity
from infolettre.models import COMPLETE, Status
from infolettre.organize import organize
from infolettre.pipeline import build
from infolettre.render.email import (INLINE_CSS, TEMPLATE, check_size, compile_mjml,
                                     render_email_html, weight_label)
from infolettre.render.personalize import Placeholders
from infolettre.render.text import render_text
from infolettre.content import load_month

from .render_helpers import MONTH, make_item, realistic_issue, render_context

TOKENS = Placeholders(nonce="0" * 16)


class Page(HTMLParser):
    """Collect elements (tag, attributes) and text of a rendered email."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data):
        self.texts.append(data)

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attrs for t, attrs in self.elements if t == tag]

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def render(issue, settings, slug=COMPLETE) -> str:
    env, ctx = render_context(issue, settings, slug, TOKENS)
    return render_email_html(env, ctx, settings)


def render_both(issue, settings, slug=COMPLETE) -> tuple[str, str]:
    env, ctx = render_context(issue, settings, slug, TOKENS)
    return render_email_html(env, ctx, settings), render_text(env, ctx)


@pytest.fixture(scope="module")
def sample_issue(sample_settings):
    items, _problems = load_month(sample_settings, MONTH)
    return organize(items, sample_settings, MONTH)


@pytest.fixture(scope="module")
def sample_html(sample_issue, sample_settings):
    i18n.activate("fr_CA")  # module fixtures run before the per-test autouse one
    return {e.slug: render(sample_issue, sample_settings, e.slug) for e in sample_issue.editions}


def test_every_edition_compiles_to_html_in_canadian_french(sample_html, sample_issue):
    """Each edition of the sample is compiled HTML: no <mj- tag left, lang fr-CA, a <title>."""
    assert set(sample_html) == {e.slug for e in sample_issue.editions}
    for slug, html in sample_html.items():
        assert "<mj-" not in html, slug
        assert re.search(r'<html[^>]*\blang="fr-CA"', html), slug
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        assert title and "Le Fil régional" in title.group(1), slug


def test_every_image_has_a_text_alternative(sample_html, sample_settings):
    """Every <img>, in the sample and in a month full of photos, has a non-empty alt."""
    busy = render(realistic_issue(sample_settings), sample_settings)
    images = [img for html in [*sample_html.values(), busy] for img in Page(html).all("img")]
    assert len(images) >= 5
    for img in images:
        assert img.get("alt", "").strip(), img
        # item photos only (no spacer images), loaded from the archive base filled per message
        assert re.match(r"@@[0-9a-f]+:images@@\w", img["src"]), img


def test_footer_identifies_the_sender_and_offers_unsubscribe(sample_html, sample_settings):
    """CASL: every edition names the sender, gives the postal address and an unsubscribe link."""
    identity = sample_settings.identity
    for slug, html in sample_html.items():
        page = Page(html)
        assert identity.adresse_postale in page.text, slug
        assert identity.nom in page.text and identity.sender_address in page.text, slug
        assert "réseau régional de développement social" in page.text  # why you receive it
        hrefs = [a.get("href") for a in page.all("a")]
        assert TOKENS.token("desabonnement") in hrefs, slug
        assert TOKENS.token("salutation") in page.text, slug


def preheader(html: str) -> tuple[str, int]:
    """Return the hidden preheader's HTML and its position in the body."""
    body = html.split("<body", 1)[1]
    hidden = re.search(r'<div style="display:none;[^"]*mso-hide:all;">(.*?)</div>', body, re.S)
    assert hidden, "no preheader"
    return hidden.group(1), body.index(hidden.group(0))


def test_preheader_summarizes_the_edition(sample_html, sample_issue):
    """A hidden preheader opens the body and names the edition's own first three titles (a
    territory's first), padded so clients do not pull the body after it; short."""
    seen = set()
    for edition in sample_issue.editions:
        hidden, where = preheader(sample_html[edition.slug])
        assert where < 300, edition.slug
        text = Page(hidden).text
        titles = [Page(i.titre).text for i in edition.items[:3]]
        assert text.startswith(Page("Ce mois-ci : " + " · ".join(titles)).text), edition.slug
        assert hidden.startswith("Ce mois-ci&nbsp;: "), edition.slug  # our typography
        assert hidden.count("\u034f\u200c&nbsp;") >= 12, edition.slug  # &#847;&zwnj;&nbsp;
        assert len(hidden.encode()) < 2048, edition.slug
        seen.add(text.split(" · ")[0])
        if edition.slug != COMPLETE and edition.sections[0].items:
            assert edition.sections[0].key == "chez-vous"
            assert edition.items[0].territoire == edition.slug
    assert len(seen) == len(sample_issue.editions)  # no two editions open alike


def test_table_of_contents_lists_every_section(sample_html, sample_issue):
    """The table of contents names every section of the edition, in order."""
    for edition in sample_issue.editions:
        text = Page(sample_html[edition.slug]).text
        toc = text[text.index("Dans ce numéro"):]
        positions = [toc.index(section.titre) for section in edition.sections]
        assert positions == sorted(positions), edition.slug


def test_content_styles_are_inlined(sample_html):
    """Titles and links carry their style inline: Gmail with other accounts ignores <style>."""
    page = Page(sample_html[COMPLETE])
    titles = [h for h in page.all("h3") if h.get("class") == "t"]
    assert titles and all("color: #1b4965" in h.get("style", "") for h in titles)
    links = page.all("a")
    assert links and all("underline" in a.get("style", "") for a in links)
    assert "@media" in sample_html[COMPLETE]  # MJML's own <style> is kept, not inlined


def test_text_is_at_least_14_pixels(sample_settings):
    """No readable text below 14 px (0 px is MJML's gap fix on layout cells, not text)."""
    html = render(realistic_issue(sample_settings, preview=True), sample_settings)
    sizes = {int(s) for s in re.findall(r"font-size:\s*(\d+)px", html)}
    assert sizes - {0} and min(sizes - {0}) >= 14, sorted(sizes)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_text_colours_have_enough_contrast(sample_settings):
    """Every text colour of the content CSS reaches 4.5:1 on the background it sits on."""
    css = (sample_settings.paths.gabarits / INLINE_CSS).read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    band, footer, white = "#1b4965", "#eef2f5", "#ffffff"
    on = {"h1": band, ".top": band, ".ed": band, ".foot": footer, ".foot a": footer,
          ".preview": footer, ".web-band a": band}
    checked = 0
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        selector = selector.strip()
        colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-f]{6})", body)
        if not colour:
            continue
        background = re.search(r"background-color:\s*(#[0-9a-f]{6})", body)
        behind = background.group(1) if background else on.get(selector, white)
        assert _contrast(colour.group(1), behind) >= 4.5, (selector, colour.group(1), behind)
        checked += 1
    assert checked >= 10


def test_a_busy_month_stays_well_under_gmail_clipping(sample_settings, sample_issue,
                                                       record_property, capsys):
    """40 items of ~100 words over every rubrique: every edition weighs under 80 % of 102 KB."""
    issue = realistic_issue(sample_settings, 40)
    assert len(issue.items) == 40
    assert {i.territoire for i in issue.items} == {"regional", *sample_settings.territories}
    assert {i.rubrique for i in issue.items} == set(sample_settings.rubriques)
    sizes = {}
    for label, source in (("40 items", issue), ("sample", sample_issue)):
        for edition in source.editions:
            sizes[f"{label}/{edition.slug}"] = len(render(source, sample_settings,
                                                          edition.slug).encode())
    record_property("email_sizes_kb", {k: round(v / 1024, 1) for k, v in sizes.items()})
    with capsys.disabled():
        print("\nemail sizes (KB): " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in sizes.items()))
    for name, size in sizes.items():
        assert size < 0.8 * sample_settings.max_email_bytes, (name, size)


def test_an_oversize_edition_stops_the_build_with_a_french_explanation(sample_settings):
    """400 items cannot fit: BuildError names the edition, its weight, the limit and the fix."""
    issue = realistic_issue(sample_settings, 400)
    with pytest.raises(BuildError) as caught:
        render(issue, sample_settings, COMPLETE)
    error = caught.value
    assert error.where == COMPLETE
    assert "Édition complète" in error.message
    size_kb = float(re.search(r"pèse ([\d  ,]+) Ko", error.message).group(1)
                    .replace(",", ".").replace("\u202f", "").replace("\u00a0", ""))
    assert size_kb > 102
    assert "limite de 102,0 Ko" in error.message and "Gmail" in error.message
    assert "Raccourcissez" in error.fix


def test_the_size_check_uses_the_configured_limit(sample_settings):
    """The limit comes from settings: an edition over a lowered limit is refused."""
    issue = organize([make_item("petit")], sample_settings, MONTH)
    html = render(issue, sample_settings)
    edition = issue.edition(COMPLETE)
    assert check_size(html, edition, sample_settings) == len(html.encode())
    tight = dataclasses.replace(sample_settings, max_email_bytes=len(html.encode()) - 1)
    with pytest.raises(BuildError):
        check_size(html, edition, tight)


def test_an_oversize_preview_is_written_marked_over_the_limit(sample_here):
    """``build --preview`` of an issue too heavy for Gmail still writes every file, marks the
    heavy editions in the index and the build table, and warns (no error); the final build
    keeps refusing it."""
    tight = dataclasses.replace(sample_here, max_email_bytes=20 * 1024)
    result = build(tight, MONTH, preview=True, pdf=False)
    marker = "au-delà de 20 Ko : Gmail coupera ce courriel"
    heavy = [e for e in result.rendered.editions if len(e.html.encode()) + 1024 > 20 * 1024]
    assert heavy and all((result.out_dir / f"{e.slug}.html").is_file() for e in heavy)
    index = " ".join((result.out_dir / "index.html").read_text(encoding="utf-8").split())
    assert index.count(marker) == len(heavy) and 'class="over"' in index
    assert all(marker in weight_label(e.html, tight) for e in heavy)
    assert marker not in weight_label(heavy[0].html, sample_here)
    warnings = [p for p in result.problems if "pèse" in p.message]
    assert len(warnings) == len(heavy) and not result.errors
    assert all(p.severity is Severity.WARNING and p.message.startswith("aperçu seulement")
               and "Raccourcissez" in p.fix for p in warnings)
    with pytest.raises(BuildError):
        build(tight, MONTH, pdf=False)


def test_attribute_values_reach_the_html_intact(sample_settings):
    """MRML writes some characters of attribute values as the text « \\u{a0} » (no-break
    spaces, soft hyphens, combining accents…), which screen readers read aloud: alt text,
    aria-label and link titles of a crafted item come out exactly as written."""
    titre = "Frigo\u202f: ouverture le 5\u00a0décembre"
    alt = "Affiche «\u00a0Frigo communautaire\u00a0» ; cafe\u0301 et pains\u00ad-biscuits"
    item = make_item("frigo", titre=titre, image="frigo.jpg", image_alt=alt,
                     lien="https://example.org/frigo",
                     corps='Voir [le plan](https://example.org/plan "Plan\u202f: salle\u00a0B").')
    html = render(organize([item], sample_settings, MONTH), sample_settings)
    assert "\\u{" not in html
    page = Page(html)
    assert [a["alt"] for a in page.all("img") if "frigo.jpg" in a.get("src", "")] == [alt]
    assert f"En savoir plus\u00a0: {titre}" in [a.get("aria-label") for a in page.all("a")]
    assert "Plan\u202f: salle\u00a0B" in [a.get("title") for a in page.all("a")]


def test_no_output_of_the_sample_issue_holds_mangled_characters(sample_here):
    """Every file of a build of the sample issue (and of its preview) is free of « \\u{ »."""
    for preview in (False, True):
        result = build(sample_here, MONTH, preview=preview, pdf=False)
        files = [p for p in result.out_dir.rglob("*") if p.suffix in (".html", ".txt")]
        assert len(files) >= 13
        for path in files:
            assert "\\u{" not in path.read_text(encoding="utf-8"), path


def test_template_syntax_in_content_is_shown_literally(sample_settings):
    """{{ }} and {% %} written in an item reach the reader as typed, never evaluated."""
    item = make_item("gabarit", titre="Atelier {{ nom }} {{ 7*7 }}",
                     corps="Écrivez {% if membre %}Bonjour{% endif %} et {{ config }}.",
                     lien="https://example.org/x?a={{b}}")
    html, text = render_both(organize([item], sample_settings, MONTH), sample_settings)
    for output in (Page(html).text, text):
        assert "Atelier {{ nom }} {{ 7*7 }}" in output
        assert "{% if membre %}Bonjour{% endif %} et {{ config }}" in output
        assert "49" not in output
    assert 'href="https://example.org/x?a={{b}}"' in html


def test_hostile_markdown_stays_inert(sample_settings):
    """Script tags, javascript: links, on* handlers and MJML tags in content do nothing."""
    item = make_item(
        "hostile", titre="</mj-text><mj-raw><script>alert(1)</script></mj-raw>",
        corps="<script>alert('x')</script>\n\n[clic](javascript:alert(1)) "
              "<img src=x onerror=alert(1)>\n\n<a href=\"javascript:alert(2)\">a</a>",
        lien="javascript:alert(3)", organisme="<b onmouseover=alert(4)>Org</b>")
    html, text = render_both(organize([item], sample_settings, MONTH), sample_settings)
    page = Page(html)
    assert not page.all("script") and "<mj-" not in html
    for tag, attrs in page.elements:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            assert not attrs.get(name, "").lower().startswith(("javascript:", "data:")), attrs
    # Text part: the body's raw HTML is dropped, its bad link written without an address;
    # the title and organisation are plain text, shown as typed (nothing interprets them).
    assert "<script>alert('x')" not in text and "<img" not in text and "<a href" not in text
    assert "clic (javascript:" not in text and "javascript:alert(3)" not in text


def test_preview_shows_each_status_and_the_real_email_does_not(sample_settings):
    """In preview every item wears its status badge; the edition sent to readers has none."""
    items = [make_item("a", statut=Status.APPROVED), make_item("b", statut=Status.SUBMITTED),
             make_item("c", statut=Status.REFUSED), make_item("d", statut=Status.HELD)]
    preview = render(organize(items, sample_settings, MONTH, preview=True), sample_settings)
    badges = [a["class"] for a in Page(preview).all("span") if "badge" in a.get("class", "")]
    assert sorted(badges) == ["badge b-approuve", "badge b-refuse", "badge b-retenu",
                              "badge b-soumis"]
    for word in ("approuvé", "soumis", "refusé", "retenu", "APERÇU"):
        assert word in Page(preview).text
    final = render(organize(items, sample_settings, MONTH), sample_settings)
    assert "badge" not in final and "APERÇU" not in final


def test_an_empty_chez_vous_invites_readers_to_send_news(sample_settings):
    """A territory with no news of its own gets a warm invitation to write, with the address."""
    issue = organize([make_item("reg"), make_item("voisin", territoire="bellechasse")],
                     sample_settings, MONTH)
    html, text = render_both(issue, sample_settings, "montmagny")
    address = sample_settings.identity.repondre_a
    assert f'href="mailto:{address}"' in html
    assert "Pas de nouvelles de votre territoire ce mois-ci" in Page(html).text
    assert address in text and "Pas de nouvelles de votre territoire" in text
    full = render(issue, sample_settings, "bellechasse")
    assert "Pas de nouvelles de votre territoire" not in full


def test_each_section_kind_has_its_layout(sample_settings):
    """Full items, dated events, deadlines and headlines each show what readers need."""
    items = [
        make_item("photo", titre="Frigo ouvert", image="frigo.jpg", image_alt="Un frigo garni",
                  lien="https://example.org/frigo", territoire="les-etchemins"),
        make_item("fete", titre="Fête de quartier", rubrique="agenda",
                  territoire="les-etchemins"),
        make_item("appel", titre="Appel 2027", rubrique="financement"),
        make_item("voisin", titre="Nouvelle voisine", territoire="bellechasse",
                  lien="https://example.org/voisine"),
    ]
    issue = organize(items, sample_settings, MONTH)
    page = Page(render(issue, sample_settings, "les-etchemins"))
    photo = page.all("img")[0]
    assert photo["alt"] == "Un frigo garni" and photo["src"].endswith(":images@@frigo.jpg")
    assert "Jeudi 10 décembre 2026, de 13 h 30 à 16 h" in page.text
    assert "Salle du conseil" in page.text
    assert "Date limite : vendredi 15 janvier 2027" in page.text
    links = {a.get("href"): a for a in page.all("a")}
    # a headline opens its page on the site ([infolettre] site of the sample)
    assert "https://infolettre.example.org/2026-12/nouvelles/voisin.html" in links
    assert links["https://example.org/frigo"]["aria-label"] == "En savoir plus\u00a0: Frigo ouvert"
    assert "Ailleurs dans la région" in page.text and "Bellechasse" in page.text


def test_long_agenda_texts_are_shortened_only_when_a_link_tells_the_rest(sample_settings):
    """Without the site, an event with a link shows its opening, without one its whole
    text; with the site, both are cut and « Lire la suite » opens their page."""
    long_text = "Premier paragraphe assez court.\n\n" + " ".join(["mot"] * 80) + " FIN"
    items = [make_item("lien", rubrique="agenda", corps=long_text, lien="https://ex.org/e"),
             make_item("sans", rubrique="agenda", corps=long_text.replace("FIN", "FINALE"))]
    no_site = dataclasses.replace(sample_settings, identity=dataclasses.replace(
        sample_settings.identity, site=None))
    html = render(organize(items, no_site, MONTH), no_site)
    assert "Premier paragraphe assez court." in html
    assert " FIN<" not in html and " FIN " not in html
    assert "FINALE" in html and "Lire la suite" not in html
    html = render(organize(items, sample_settings, MONTH), sample_settings)
    assert "FIN" not in html and html.count(">Lire la suite</a>") == 2
    assert "https://infolettre.example.org/2026-12/nouvelles/sans.html" in html


def test_mjml_rejected_by_mrml_becomes_a_build_error():
    """Broken MJML is a BuildError naming the template, not a Rust or Python crash."""
    with pytest.raises(BuildError) as caught:
        compile_mjml("<mjml><mj-body><mj-section><mj-text>oups</mjml>", name=TEMPLATE)
    assert caught.value.where == TEMPLATE and "MJML invalide" in caught.value.message


def test_compiled_mjml_must_leave_no_mj_tag():
    """An MJML tag MRML leaves untouched is caught before it reaches a reader."""
    with pytest.raises(BuildError) as caught:
        compile_mjml("<mjml><mj-body><mj-raw><mj-oups>x</mj-oups></mj-raw></mj-body></mjml>")
    assert "<mj-" in caught.value.message


def test_edition_is_rendered_once_with_placeholders_for_each_recipient(sample_settings):
    """The compiled edition holds tokens, filled per recipient afterwards (HTML-escaped)."""
    tokens = Placeholders()
    issue = organize([make_item("un")], sample_settings, MONTH)
    env, ctx = render_context(issue, sample_settings, COMPLETE, tokens)
    html = render_email_html(env, ctx, sample_settings)
    filled = tokens.fill(html, {"salutation": "Bonjour Zoé,", "courriel": "zoe@example.org",
                                "desabonnement": "https://ex.org/d?t=a&b"}, escape_html=True)
    assert "Bonjour Zoé," in filled and 'href="https://ex.org/d?t=a&amp;b"' in filled
    assert "@@" not in filled


def test_item_dates_and_copy_are_french(sample_settings):
    """Dates and fixed words are French (fr_CA): « 1er », lowercase months, « En savoir plus »."""
    item = make_item("appel", rubrique="financement", echeance=date(2027, 2, 1),
                     lien="https://example.org/a")
    text = Page(render(organize([item], sample_settings, MONTH), sample_settings)).text
    assert "Date limite : lundi 1er février 2027" in text and "En savoir plus" in text

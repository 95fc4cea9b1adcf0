"""Print version: paged-media HTML of the complete edition and its PDF (WeasyPrint)."""

from __future__ import annotations

import base64
import dataclasses
import http.server
import logging
import re
import shutil
import subprocess
import threading
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre import content as store
from infolettre import organize
from infolettre.errors import BuildError
from infolettre.models import COMPLETE, Event, Item, Status
from infolettre.render.context import base_context
from infolettre.render.environment import make_environment
from infolettre.render.personalize import Placeholders
from infolettre.render.print import (css_string, render_print_html, write_out_links,
                                      write_pdf)

MONTH = "2026-12"
TZ = ZoneInfo("America/Montreal")
#: A 1×1 PNG, so an item image exists without shipping a file.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
                       "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
HOSTILE = """Texte normal.

<script>alert("pirate")</script>

[clic](javascript:alert(1)) et <img src=x onerror=alert(1)>

<a href="javascript:alert(2)">lien brut</a>

{{ settings.identity }} {% for x in y %}{% endfor %}
"""


# --- helpers ---------------------------------------------------------------------------------

class _Page(HTMLParser):
    """Collect the visible text and every (tag, attributes) of an HTML page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script", "title"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def visible_text(html: str) -> str:
    """Visible text with runs of white space collapsed, as a reader sees it."""
    return " ".join("".join(parse(html).text).split())


def item(slug: str, titre: str, rubrique: str = "nouvelles", territoire: str = "regional",
         **kw) -> Item:
    values = dict(slug=slug, month=MONTH, titre=titre, organisme="CDC des Etchemins",
                  territoire=territoire, rubrique=rubrique, date=date(2026, 11, 18),
                  statut=Status.APPROVED)
    values.update(kw)
    return Item(**values)


def sample_items() -> list[Item]:
    at = lambda d, h=0, m=0: datetime(2026, 12, d, h, m, tzinfo=TZ)  # noqa: E731
    return [
        item("plan", "La Table régionale adopte son plan d'action",
             corps="Réunis à Lévis, les délégués ont choisi **trois priorités**.",
             lien="https://example.org/plan-d-action"),
        item("frigo", "Ouverture d'un frigo communautaire à Lac-Etchemin", "bons-coups",
             "les-etchemins", corps="Inscrivez-vous : [formulaire](https://example.org/inscription)"
             " ou écrivez à [la CDC](mailto:info@cdc.example.org).",
             lien="https://example.org/frigo", image="frigo.png",
             image_alt="Un réfrigérateur rempli de légumes"),
        item("bottin", "Bottin des ressources de Lotbinière", "ressources", "lotbiniere",
             corps="Une adresse très longue : "
                   "https://example.org/un/chemin/tres/long/qui/ne/tient/pas/sur/une/ligne"
                   "/de/papier/sans/etre/coupe?param=1&autre=2"),
        item("hostile", "Nouvelle <script>piégée</script>", "nouvelles", "montmagny",
             corps=HOSTILE),
        item("atelier", "Atelier budget des Fêtes", "agenda", "les-appalaches",
             evenement=Event(at(9, 13, 30), at(9, 15), "Salle municipale de Thetford Mines"),
             corps="Gratuit, café offert."),
        item("forum", "Forum régional en développement social", "agenda",
             evenement=Event(at(5, 10), None, "Lévis")),
        item("fonds", "Fonds d'initiatives locales : 2e appel", "financement", "bellechasse",
             echeance=date(2027, 1, 29), corps="Jusqu'à 5 000 $ par projet.",
             lien="https://example.org/fonds"),
        item("brouillon", "Une nouvelle encore soumise", "nouvelles", "bellechasse",
             statut=Status.SUBMITTED),
    ]


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def settings(sample_settings):
    return sample_settings


def print_html(settings, items, *, paper="letter", preview=False) -> str:
    settings = dataclasses.replace(settings, paper=paper)
    issue = organize.organize(items, settings, MONTH, preview=preview)
    env = make_environment(settings.paths.gabarits)
    return render_print_html(env, base_context(issue, settings, Placeholders()))


@pytest.fixture(scope="module")
def issue(settings):
    return organize.organize(sample_items(), settings, MONTH)


@pytest.fixture(scope="module")
def html(settings):
    return print_html(settings, sample_items())


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("build")
    (folder / "images").mkdir()
    (folder / "images" / "frigo.png").write_bytes(PNG)
    return folder


@pytest.fixture(scope="module")
def pdf(html, build_dir):
    out = build_dir / "print.pdf"
    write_pdf(html, build_dir, out)
    return out


def page_sizes_pt(html: str, base_dir: Path) -> set[tuple[float, float]]:
    """Lay the document out with WeasyPrint and return its page sizes in points."""
    import weasyprint
    document = weasyprint.HTML(string=html, base_url=base_dir.as_uri() + "/").render()
    return {(round(p.width * 0.75), round(p.height * 0.75)) for p in document.pages}


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (paquet Debian poppler-utils) n'est pas installé : "
                    "texte du PDF non vérifié.")
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


# --- page setup ------------------------------------------------------------------------------

def test_letter_is_the_default_page_size(html, build_dir):
    """With no [impression] format, pages are US Letter (612 × 792 pt)."""
    assert "size: letter;" in html
    assert page_sizes_pt(html, build_dir) == {(612, 792)}


def test_a4_when_configured(settings, build_dir):
    """[impression] format = "a4" gives A4 pages (595 × 842 pt)."""
    html = print_html(settings, sample_items(), paper="a4")
    assert "size: A4;" in html
    assert page_sizes_pt(html, build_dir) == {(595, 842)}


def test_pages_are_numbered_and_headed(html):
    """The page margins carry « Page N de M » and the bulletin's name and month."""
    assert "counter(page)" in html and "counter(pages)" in html
    assert '"Page "' in html and '" de "' in html
    assert "Le Fil régional — décembre 2026" in html


def test_document_language_is_canadian_french(html):
    """The document declares lang="fr-CA" (hyphenation, screen readers, PDF metadata)."""
    assert parse(html).tags[0] == ("html", {"lang": "fr-CA"})


# --- content ---------------------------------------------------------------------------------

def test_every_item_of_the_complete_edition_is_printed(html, issue):
    """Each section and item title of the complete edition appears in the print HTML."""
    text = visible_text(html)
    complete = issue.edition(COMPLETE)
    assert len(complete.items) == 7
    for section in complete.sections:
        assert section.titre in text
    for it in complete.items:
        assert it.titre in text


def test_unapproved_items_are_left_out_unless_preview(settings, html):
    """A « soumis » item is not printed; in preview it is, with its status shown."""
    assert "Une nouvelle encore soumise" not in visible_text(html)
    assert "Statut" not in visible_text(html)
    preview = visible_text(print_html(settings, sample_items(), preview=True))
    assert "Une nouvelle encore soumise" in preview
    assert "Statut : Soumis" in preview and "Statut : Approuvé" in preview


def test_links_are_written_out_as_text(html):
    """Paper can't be clicked: every address is printed after its link text."""
    text = visible_text(html)
    assert "En savoir plus : https://example.org/frigo" in text
    assert "formulaire (https://example.org/inscription)" in text
    assert "la CDC (info@cdc.example.org)" in text
    assert "En savoir plus : https://example.org/fonds" in text


def test_a_link_showing_its_own_address_is_not_doubled():
    """A link whose text is already its address is left as is."""
    body = '<p><a href="https://example.org/x">example.org/x</a></p>'
    assert write_out_links(body) == body


def test_written_out_addresses_are_escaped():
    """An address is re-escaped when written out, so it can never become markup."""
    body = '<p><a href="https://e.org/?a=1&amp;b=<i>">voir</a></p>'
    out = write_out_links(body)
    written = out.split('<span class="url">', 1)[1]
    assert written == "(https://e.org/?a=1&amp;b=&lt;i&gt;)</span></p>"


def test_margin_texts_are_quoted_css_strings():
    """A bulletin name with quotes or </style> cannot break out of the page-margin CSS."""
    quoted = css_string('Le "Fil" \\ </style><script>')
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert '"' not in inner and "<" not in inner and ">" not in inner
    assert "\\22 " in inner and "\\3C " in inner


def test_long_urls_can_wrap(html):
    """Written-out addresses may break anywhere instead of running off the page."""
    assert "overflow-wrap: anywhere" in html
    assert 'class="url"' in html


def test_dates_are_in_french(html):
    """Events and deadlines use long French dates and Québec times."""
    text = visible_text(html)
    assert "Mercredi 9 décembre 2026, de 13 h 30 à 15 h" in text
    assert "Date limite : vendredi 29 janvier 2027" in text


def test_colophon_has_sender_postal_address_and_reply_address(html, settings):
    """The back matter says who publishes, the postal address and how to write in."""
    text = visible_text(html)
    identity = settings.identity
    assert identity.adresse_postale in text
    assert identity.repondre_a in text
    assert identity.nom in text and identity.region in text


def test_hostile_markdown_is_neutralized(html):
    """No script, event handler or javascript: URL survives; template syntax stays text."""
    page = parse(html)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "iframe" not in tags
    for tag, attrs in page.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:")
    text = visible_text(html)
    assert "Nouvelle <script>piégée</script>" in text  # the title, shown as text
    assert "{{ settings.identity }}" in text and "{% for x in y %}" in text


# --- PDF -------------------------------------------------------------------------------------

def test_pdf_has_the_french_text(pdf):
    """The PDF holds the accented French text, page numbers and written-out links."""
    text = " ".join(pdftotext(pdf).split())
    for expected in ("Le Fil régional", "Chaudière-Appalaches", "Ouverture d'un frigo "
                     "communautaire à Lac-Etchemin", "Fonds d'initiatives locales",
                     "Page 1 de", "https://example.org/frigo", "Décembre 2026"):
        assert expected in text


def test_pdf_fonts_are_embedded(pdf):
    """The fonts used are embedded (DejaVu on Debian), so accents print on any printer."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) n'est pas installé : polices non vérifiées.")
    rows = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True,
                          text=True).stdout.splitlines()[2:]
    assert rows
    assert all(" yes " in row for row in rows)  # emb column
    assert any("DejaVu" in row for row in rows)


def test_pdf_is_written_atomically(pdf, build_dir):
    """The PDF starts with %PDF and no temporary file is left beside it."""
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert not [p for p in build_dir.iterdir() if p.name.endswith(".tmp")]


def test_item_images_are_loaded_from_the_build_folder(html, tmp_path, caplog):
    """images/<file> resolves against the build folder: no load failure is logged."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "frigo.png").write_bytes(PNG)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        write_pdf(html, tmp_path, tmp_path / "print.pdf")
    assert not [r for r in caplog.records if "frigo.png" in r.getMessage()]


def test_remote_urls_are_never_fetched(tmp_path):
    """An http:// image or stylesheet is not requested: the PDF is built offline."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        html = (f'<html lang="fr-CA"><head><link rel="stylesheet" href="{url}/a.css"></head>'
                f'<body><p>Été</p><img src="{url}/b.png" alt=""></body></html>')
        write_pdf(html, tmp_path, tmp_path / "print.pdf")
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []
    assert (tmp_path / "print.pdf").is_file()


def test_files_outside_the_build_folder_are_not_read(tmp_path, caplog):
    """A file: URL outside the build folder is refused (only images/ next to print.html)."""
    for name in ("secret-1.png", "secret-2.png"):
        (tmp_path / name).write_bytes(PNG)
    build = tmp_path / "build"
    build.mkdir()
    html = (f'<html><body><img src="{(tmp_path / "secret-1.png").as_uri()}" alt="">'
            '<img src="../secret-2.png" alt=""></body></html>')
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        write_pdf(html, build, build / "print.pdf")
    refused = {name for name in ("secret-1.png", "secret-2.png")
               for r in caplog.records if name in r.getMessage()
               and "outside the build folder" in r.getMessage()}
    assert refused == {"secret-1.png", "secret-2.png"}


def test_write_failure_is_a_french_build_error(html, tmp_path):
    """An unwritable destination raises BuildError with a French fix, and leaves nothing."""
    blocker = tmp_path / "pas-un-dossier"
    blocker.write_text("fichier")
    with pytest.raises(BuildError) as info:
        write_pdf(html, tmp_path, blocker / "print.pdf")
    assert "impossible d'écrire la version PDF" in info.value.message
    assert "accessible en écriture" in info.value.fix
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pas-un-dossier"]


# --- the sample issue ------------------------------------------------------------------------

def test_sample_issue_prints_every_item(settings, tmp_path):
    """Every item of the sample issue's complete edition is in print.html and the PDF."""
    if not (settings.paths.contenu / MONTH).is_dir():
        pytest.skip(f"pas de contenu d'exemple dans content/{MONTH}")
    items, _problems = store.load_month(settings, MONTH)
    issue = organize.organize(items, settings, MONTH)
    env = make_environment(settings.paths.gabarits)
    html = render_print_html(env, base_context(issue, settings, Placeholders()))
    text = visible_text(html)
    titles = [" ".join(it.titre.split()) for it in issue.edition(COMPLETE).items]
    assert titles and [t for t in titles if t not in text] == []
    (tmp_path / "images").mkdir()
    for it in items:
        if it.image:
            shutil.copy(it.path.parent / it.image, tmp_path / "images" / it.image)
    write_pdf(html, tmp_path, tmp_path / "print.pdf")
    pdf_text = " ".join(pdftotext(tmp_path / "print.pdf").split())
    assert [t for t in titles[:5] if t not in pdf_text] == []


# --- QR codes --------------------------------------------------------------------------------

def qr_modules(data_uri: str) -> list[list[bool]]:
    """Read back the dark modules of a PNG QR code: the centre pixel of each module."""
    import base64
    import io

    from PIL import Image

    from infolettre.render.qr import SCALE
    assert data_uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[1]))).convert("L")
    assert image.width == image.height and image.width % SCALE == 0
    size = image.width // SCALE
    return [[image.getpixel((col * SCALE + SCALE // 2, row * SCALE + SCALE // 2)) < 128
             for col in range(size)] for row in range(size)]


def test_each_item_link_has_its_qr_code(html, settings):
    """An item with a link shows its QR code, and the colophon the web archive's; the image
    is an inline PNG data: URI whose modules are exactly the QR symbol of that link; its alt
    text gives the address."""
    import segno
    from infolettre.render.qr import QUIET_ZONE, qr_data_uri
    codes = [attrs for tag, attrs in parse(html).tags
             if tag == "img" and "qr" in (attrs.get("class") or "")]
    links = ["https://example.org/plan-d-action", "https://example.org/frigo",
             "https://example.org/fonds", settings.identity.site]
    assert settings.identity.site.startswith("https://")
    assert [attrs["alt"] for attrs in codes] == [f"Code QR de {url}" for url in links]
    for attrs, url in zip(codes, links):
        assert attrs["src"].startswith("data:image/png;base64,")
        assert attrs["src"] == qr_data_uri(url)
        symbol = segno.make(url, error="m", micro=False)
        expected = [[bool(v) for v in row] for row in symbol.matrix_iter(border=QUIET_ZONE)]
        assert qr_modules(attrs["src"]) == expected
        assert symbol.error in ("M", "Q", "H")  # at least 15 % of the code may be damaged


def test_items_without_a_link_get_no_qr_code(html):
    """No link, no code (not even to the item's page on the web archive: see render.print)."""
    for slug in ("bottin", "atelier", "forum", "hostile"):
        article = re.search(rf'id="i-{slug}">(.*?)</article>', html, re.S).group(1)
        assert 'class="qr"' not in article, slug


def test_qr_codes_are_2_cm_in_the_css(html):
    assert re.search(r"\.qr \{[^}]*width: 20mm;[^}]*height: 20mm;", html)

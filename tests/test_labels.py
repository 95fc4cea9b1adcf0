"""Mailing labels: Avery 5160 sheets (US Letter, 3 × 10), every text inside its own label."""

from __future__ import annotations

from pathlib import Path

import pytest

from infolettre import cli, pipeline
from infolettre.deliver.labels import (LABEL_HEIGHT, LABEL_WIDTH, PER_SHEET, address_lines,
                                       labels_path, position, write_labels_pdf)
from infolettre.deliver.postal import PostalRow
from infolettre.errors import Severity

from .conftest import SAMPLE_CONFIG
from .pdf_pages import capture, page_texts, read_pages

MONTH = "2026-12"
SLACK = 0.6  # points: pdftotext rounds glyph boxes


def row(i: int, **kw) -> PostalRow:
    values = dict(nom=f"Personne{i:02d} Thérèse Bélanger", organisme="Comité des Érables",
                  adresse_postale=f"{i}, rue de l'Église\nSaint-Éphrem-de-Beauce (Québec) "
                                  "G0M 1R0", territoire="Beauce", edition="Édition complète")
    values.update(kw)
    return PostalRow(**values)


def cell(index: int) -> tuple[int, float, float, float, float]:
    """(sheet, x0, y0, x1, y1) of a label, in points."""
    sheet, left, top = position(index)
    return sheet, left * 72, top * 72, (left + LABEL_WIDTH) * 72, (top + LABEL_HEIGHT) * 72


def words_by_label(pdf: Path, count: int) -> dict[int, str]:
    """Give each word of the PDF to the label cell that holds it whole; fail otherwise."""
    found: dict[int, list] = {}
    for number, page in enumerate(read_pages(pdf)):
        assert (round(page.width), round(page.height)) == (612, 792)  # US Letter
        for word in page.words:
            owners = [i for i in range(count) if cell(i)[0] == number
                      and cell(i)[1] - SLACK <= word.x0 and word.x1 <= cell(i)[3] + SLACK
                      and cell(i)[2] - SLACK <= word.y0 and word.y1 <= cell(i)[4] + SLACK]
            assert len(owners) == 1, f"page {number + 1} : « {word.text} » hors de son étiquette"
            found.setdefault(owners[0], []).append(word)
    return {i: "".join(w.text for w in sorted(ws, key=lambda w: (round(w.y0), w.x0)))
            for i, ws in found.items()}


def squeezed(*lines: str) -> str:
    return "".join("".join(lines).split())


# --- geometry --------------------------------------------------------------------------------

def test_avery_5160_positions():
    """3 columns 2.75 in apart from 3/16 in; 10 rows 1 in apart from 0.5 in; 30 a sheet."""
    assert PER_SHEET == 30
    assert position(0) == (0, 0.1875, 0.5)
    assert position(2) == (0, 0.1875 + 2 * 2.75, 0.5)
    assert position(3) == (0, 0.1875, 1.5)
    assert position(29) == (0, 0.1875 + 5.5, 9.5)
    assert position(30) == (1, 0.1875, 0.5)
    # the last column ends 3/16 in from the right edge, the last row 0.5 in from the bottom
    assert 0.1875 + 5.5 + LABEL_WIDTH == pytest.approx(8.5 - 0.1875)
    assert 0.5 + 9 + LABEL_HEIGHT == pytest.approx(11 - 0.5)


def test_a_one_line_address_is_cut_before_the_municipality():
    assert address_lines("845, avenue Champlain, Disraeli (Québec) G0N 1E0") == [
        "845, avenue Champlain", "Disraeli (Québec) G0N 1E0"]
    assert address_lines("12, rue A\n\n  Lévis   (Québec) G6V 6Z4 ") == [
        "12, rue A", "Lévis (Québec) G6V 6Z4"]
    assert address_lines("1, rue A") == ["1, rue A"]


def test_labels_sit_beside_the_csv():
    assert labels_path(Path("build/2026-12/envoi-postal.csv")) == Path(
        "build/2026-12/envoi-postal-etiquettes.pdf")
    assert labels_path(Path("x/liste.pdf")) == Path("x/liste-etiquettes.pdf")


# --- the PDF ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sheet31(tmp_path_factory):
    out = tmp_path_factory.mktemp("labels") / "envoi-postal-etiquettes.pdf"
    return out, write_labels_pdf(out, [row(i) for i in range(31)])


def test_31_recipients_fill_one_sheet_and_one_label_of_the_next(sheet31):
    """31 labels: 2 pages; each person's text is whole inside their own cell, in order."""
    path, result = sheet31
    assert result.path == path and result.count == 31 and result.problems == []
    assert len(read_pages(path)) == 2
    texts = words_by_label(path, 31)
    assert sorted(texts) == list(range(31))
    for i in range(31):
        assert texts[i] == squeezed(f"Personne{i:02d} Thérèse Bélanger", "Comité des Érables",
                                    f"{i}, rue de l'Église",
                                    "Saint-Éphrem-de-Beauce (Québec) G0M 1R0")
    capture(path, "etiquettes-31")


def test_accents_are_intact_and_fonts_embedded(sheet31):
    path, _result = sheet31
    text = " ".join(page_texts(path))
    for word in ("Thérèse", "Bélanger", "Érables", "l'Église", "Saint-Éphrem-de-Beauce",
                 "(Québec)"):
        assert word in text


def test_a_long_label_shrinks_and_wraps_inside_its_cell(tmp_path):
    """A long name and organisation are set smaller and wrapped, still inside the label."""
    long_org = ("Regroupement des organismes communautaires œuvrant en sécurité alimentaire "
                "et en développement social de la MRC des Etchemins")
    rows = [row(0), row(1, nom="Marie-Ève Côté-Bérubé-Létourneau",
                        organisme=long_org), row(2), row(3)]
    path = tmp_path / "etiquettes.pdf"
    result = write_labels_pdf(path, rows)
    assert result.problems == []
    texts = words_by_label(path, 4)
    assert texts[1] == squeezed("Marie-Ève Côté-Bérubé-Létourneau", long_org,
                                "1, rue de l'Église", "Saint-Éphrem-de-Beauce (Québec) G0M 1R0")
    page = read_pages(path)[0]
    height = {i: max(w.height for w in page.words if cell(i)[1] <= w.x0 < cell(i)[3]
                     and cell(i)[2] <= w.y0 < cell(i)[4]) for i in (0, 1)}
    assert height[1] < height[0] * 0.9  # set smaller than an ordinary label


def test_text_that_cannot_fit_is_cut_at_its_label_and_reported(tmp_path):
    """Even at the smallest size, too much text stays in its label (clipped) and is reported:
    the labels beside and below it stay white."""
    path = tmp_path / "etiquettes.pdf"
    result = write_labels_pdf(path, [row(0, organisme="Organisme " * 60)],
                              source=Path("recipients.csv"))
    [problem] = result.problems
    assert problem.severity == Severity.WARNING and "coupé" in problem.message
    assert "Personne00" in problem.message and problem.path == Path("recipients.csv")
    [png] = capture(path, "etiquettes-trop-longue", dpi=72)
    from PIL import Image
    image = Image.open(png).convert("L")
    def ink(x0, y0, x1, y1):  # noqa: E306 - inches → pixels at 72 dpi
        box = image.crop((round(x0 * 72), round(y0 * 72), round(x1 * 72), round(y1 * 72)))
        return box.getextrema()[0] < 200
    assert ink(0.1875, 0.5, 0.1875 + LABEL_WIDTH, 1.5)  # the label itself is printed
    assert not ink(0.1875, 1.5 + 0.02, 0.1875 + LABEL_WIDTH, 2.5)  # the one below is white
    assert not ink(0.1875 + LABEL_WIDTH + 0.02, 0.5, 8.5, 1.5)  # and the ones beside


def test_a_person_without_address_gets_no_label_and_is_reported(tmp_path):
    path = tmp_path / "etiquettes.pdf"
    result = write_labels_pdf(path, [row(0), row(1, nom="Gérald Sansadresse",
                                                 adresse_postale=" \n ")],
                              source=Path("recipients.csv"))
    assert result.count == 1
    [problem] = result.problems
    assert "Gérald Sansadresse" in problem.message and "adresse postale" in problem.message
    assert "adresse_postale" in problem.fix and problem.path == Path("recipients.csv")
    assert "Sansadresse" not in " ".join(page_texts(path))


def test_no_label_means_no_pdf_and_no_stale_one(tmp_path):
    path = tmp_path / "etiquettes.pdf"
    path.write_bytes(b"%PDF-1.7 ancien")
    result = write_labels_pdf(path, [])
    assert result.path is None and result.count == 0 and not path.exists()


# --- postal writes both ----------------------------------------------------------------------

def test_postal_writes_the_csv_and_the_labels(sample_here):
    """pipeline.postal writes envoi-postal.csv and envoi-postal-etiquettes.pdf beside it."""
    result = pipeline.postal(sample_here, MONTH)
    folder = sample_here.paths.sortie / MONTH
    assert result.csv == folder / "envoi-postal.csv" and result.csv.is_file()
    assert result.labels == folder / "envoi-postal-etiquettes.pdf"
    assert result.count == 4 and result.problems == []
    texts = words_by_label(result.labels, 4)
    assert texts[1] == squeezed("Réjean Fortier", "Club de l'âge d'or de Disraeli",
                                "845, avenue Champlain", "Disraeli (Québec) G0N 1E0")
    capture(result.labels, "etiquettes-exemple")


def test_cli_postal_says_where_both_files_are(capsys, tmp_path):
    out = tmp_path / "liste.csv"
    code = cli.main(["--config", str(SAMPLE_CONFIG), "postal", MONTH, "--out", str(out)])
    printed = "".join(capsys.readouterr().out.split())
    assert code == 0
    assert "4destinataire(s)parlaposte:" + str(out) in printed
    assert "ÉtiquettesAvery5160" in printed
    assert str(tmp_path / "liste-etiquettes.pdf") in printed
    assert (tmp_path / "liste-etiquettes.pdf").is_file()

"""Content files → Items: every problem reported with file and line; bad files never stop others."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from infolettre.errors import Severity
from infolettre.models import Status
from infolettre.content import load_month, read_item

GOOD = """---
titre: Ouverture d'un frigo communautaire
organisme: CDC des Etchemins
rubrique: bons-coups
date: 2026-11-18
lien: https://example.org/frigo
statut: approuve
---
Texte en **Markdown**, avec des accents : éàçô.
"""


def _read(project, text, name="item.md"):
    path = project.write(name, text)
    return read_item(path, project.settings(), "2026-12")


def _errors(problems):
    return [p for p in problems if p.severity is Severity.ERROR]


def test_good_item_is_read_with_defaults(project):
    """A valid file gives an Item; the territory defaults to the organization's."""
    item, problems = _read(project, GOOD)
    assert problems == []
    assert item.titre == "Ouverture d'un frigo communautaire"
    assert item.territoire == "les-etchemins"
    assert item.statut is Status.APPROVED
    assert item.date == date(2026, 11, 18)
    assert "éàçô" in item.corps


def test_unknown_organization_lists_registry_and_suggests(project):
    """An unknown organization is an error at its line, with a close match suggested."""
    item, problems = _read(project, GOOD.replace("CDC des Etchemins", "CDC Etchemins"))
    assert item is None
    [error] = _errors(problems)
    assert error.line == 3 and "CDC Etchemins" in error.message
    assert "CDC des Etchemins" in error.fix


def test_unknown_territory_and_rubrique_list_choices(project):
    """Unknown territory and rubrique each give an error listing the valid choices."""
    text = GOOD.replace("rubrique: bons-coups", "rubrique: potins\nterritoire: beauce")
    item, problems = _read(project, text)
    errors = {p.line: p for p in _errors(problems)}
    assert item is None
    assert "potins" in errors[4].message and "« nouvelles »" in errors[4].fix
    assert "beauce" in errors[5].message and "« les-etchemins »" in errors[5].fix


def test_impossible_date_is_reported_at_its_line(project):
    """February 30th is an error on the line of « date »."""
    item, problems = _read(project, GOOD.replace("2026-11-18", "2026-02-30"))
    assert item is None
    [error] = _errors(problems)
    assert error.line == 5 and "date" in error.message


def test_missing_title(project):
    """A missing title is an error that says which line to add."""
    item, problems = _read(project, GOOD.replace("titre: Ouverture d'un frigo communautaire\n", ""))
    assert item is None and "titre" in _errors(problems)[0].message


def test_image_without_alt_text(project):
    """An image needs alt text for people who cannot see it."""
    project.write("frigo.jpg", b"\xff\xd8\xff")
    item, problems = _read(project, GOOD.replace("statut:", "image: frigo.jpg\nstatut:"))
    assert item is None
    assert "texte alternatif" in _errors(problems)[0].message


def test_image_path_tricks_are_refused(project):
    """An image name with a path is refused (no reading outside the item's folder)."""
    text = GOOD.replace("statut:", "image: ../../etc/passwd\nimage_alt: x\nstatut:")
    item, problems = _read(project, text)
    assert item is None and "invalide" in _errors(problems)[0].message


def test_event_end_before_start(project):
    """An event that ends before it starts is refused."""
    text = GOOD.replace("rubrique: bons-coups", "rubrique: agenda").replace(
        "statut:", 'evenement: {debut: "2026-12-05 14:00", fin: "2026-12-05 10:00"}\nstatut:')
    item, problems = _read(project, text)
    assert item is None and "finit avant" in _errors(problems)[0].message


def test_event_times_in_quebec_style(project):
    """« 10h30 » and « 10:30 » both read as local times in America/Montreal."""
    text = GOOD.replace("rubrique: bons-coups", "rubrique: agenda").replace(
        "statut:", 'evenement: {debut: "2026-12-05 10h30", fin: "2026-12-05 14:00", lieu: Salle}\nstatut:')
    item, problems = _read(project, text)
    assert problems == []
    assert item.evenement.debut == datetime(2026, 12, 5, 10, 30, tzinfo=item.evenement.debut.tzinfo)
    assert str(item.evenement.debut.tzinfo) == "America/Montreal"


def test_agenda_needs_event_and_funding_needs_deadline(project):
    """Agenda items need « evenement », calls for projects need « echeance »."""
    _, p1 = _read(project, GOOD.replace("bons-coups", "agenda"), "a.md")
    _, p2 = _read(project, GOOD.replace("bons-coups", "financement"), "b.md")
    assert "evenement" in _errors(p1)[0].message and "echeance" in _errors(p2)[0].message


def test_bom_and_crlf_are_read(project):
    """A UTF-8 file with a BOM and Windows line endings reads like any other."""
    item, problems = _read(project, ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8"))
    assert problems == [] and item.titre.startswith("Ouverture")
    assert "\r" not in item.corps


def test_latin1_file_is_read_with_a_warning(project):
    """A Latin-1 file is read with its accents and a warning to save it as UTF-8."""
    item, problems = _read(project, GOOD.encode("latin-1"))
    assert item is not None and "éàçô" in item.corps
    assert [p.severity for p in problems] == [Severity.WARNING]
    assert "UTF-8" in problems[0].fix


def test_binary_file_is_rejected(project):
    """A binary file renamed .md is rejected clearly."""
    item, problems = _read(project, b"\x89PNG\r\n\x1a\n\x00\x00")
    assert item is None and "octets nuls" in _errors(problems)[0].message


def test_text_files_not_named_md_are_warned_with_the_new_name(project):
    """« .markdown », « .txt », « .MD », « .md.txt » are not read: each gets a warning with
    the name to give it. Attachments an item links to, hidden files and images say
    nothing."""
    project.write("frigo.md", GOOD + "\nPièce jointe : [horaire.txt](horaire.txt)\n")
    for name in ("atelier.markdown", "souper.txt", "friperie.MD", "bazar.md.txt",
                 "horaire.txt", ".brouillon.txt", "photo.jpg", "affiche.pdf"):
        project.write(name, GOOD)
    items, problems = load_month(project.settings(), "2026-12")
    assert [i.slug for i in items] == ["frigo"]
    warned = {p.path.name: p for p in problems}
    assert set(warned) == {"atelier.markdown", "souper.txt", "friperie.MD", "bazar.md.txt"}
    assert all(p.severity is Severity.WARNING for p in problems)
    assert warned["atelier.markdown"].fix == "Si c'est une nouvelle, renommez-le en " \
                                             "« atelier.md »."
    assert "« friperie.md »" in warned["friperie.MD"].fix
    assert "« bazar.md »" in warned["bazar.md.txt"].fix


def test_utf16_file_is_an_error_saying_to_save_it_as_utf8(project):
    """A file saved as « Unicode » (UTF-16, with or without its byte-order mark) is not
    called « not a text »: the error says to save it as UTF-8."""
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        item, problems = _read(project, GOOD.encode(encoding), name=f"{encoding}.md")
        [error] = _errors(problems)
        assert item is None and "UTF-16" in error.message, encoding
        assert "enregistrez-le en UTF-8" in error.fix


def test_yaml_syntax_error_points_at_line(project):
    """Broken YAML gives the line and a hint about colons and quotes."""
    item, problems = _read(project, GOOD.replace("date: 2026-11-18", "date: [2026-11-18"))
    assert item is None
    [error] = _errors(problems)
    assert error.line and error.line >= 5 and "guillemets" in error.fix


def test_missing_front_matter(project):
    """A file with no front matter is rejected with an example of one."""
    item, problems = _read(project, "Juste du texte.\n")
    assert item is None and "---" in _errors(problems)[0].fix


def test_unknown_key_warns_with_suggestion(project):
    """A misspelled key is a warning that suggests the right one."""
    item, problems = _read(project, GOOD.replace("lien:", "lein:"))
    assert item is not None
    assert "lien" in problems[0].fix and problems[0].severity is Severity.WARNING


def test_duplicate_key_is_an_error(project):
    """A key written twice is an error naming both lines."""
    item, problems = _read(project, GOOD.replace("statut: approuve", "statut: approuve\ntitre: Autre"))
    assert item is None and "deux fois" in _errors(problems)[0].message


def test_bad_file_does_not_stop_the_others(project):
    """One broken file is reported; the other files of the month are still read."""
    project.write("a-bon.md", GOOD)
    project.write("b-mauvais.md", GOOD.replace("2026-11-18", "pas une date"))
    project.write("c-bon.md", GOOD.replace("frigo communautaire", "jardin collectif"))
    items, problems = load_month(project.settings(), "2026-12")
    assert [i.slug for i in items] == ["a-bon", "c-bon"]
    assert len(_errors(problems)) == 1 and problems[0].path.name == "b-mauvais.md"


def _warnings(problems):
    return [p for p in problems if p.severity is Severity.WARNING]


def test_held_item_from_unknown_organization_is_readable_with_warnings(project):
    """A held item (« retenu ») from outside the registry is reviewable: warnings, « regional »."""
    text = GOOD.replace("CDC des Etchemins", "Inconnu").replace("approuve", "retenu")
    item, problems = _read(project, text)
    assert item is not None and _errors(problems) == []
    assert item.organisme == "Inconnu" and item.territoire == "regional"
    unknown, territory = _warnings(problems)
    assert "absent du registre" in unknown.message and "[[organismes]]" in unknown.fix
    assert "regional" in territory.message and "territoire:" in territory.fix


def test_submitted_image_without_alt_is_a_warning_until_approved(project):
    """A submitted photo may lack alt text (a warning with the same fix); approved, it may not."""
    project.write("frigo.jpg", b"\xff\xd8\xff")
    text = GOOD.replace("statut: approuve", "image: frigo.jpg\nstatut: soumis")
    item, problems = _read(project, text)
    assert item is not None and "texte alternatif" in _warnings(problems)[0].message
    assert "image_alt" in _warnings(problems)[0].fix
    item, problems = _read(project, text.replace("soumis", "approuve"), "b.md")
    assert item is None and "texte alternatif" in _errors(problems)[0].message


def test_unknown_organization_stays_an_error_without_a_written_status(project):
    """Without « statut: » (a hand-written file), an unknown organization is still an error."""
    text = GOOD.replace("CDC des Etchemins", "Inconnu").replace("statut: approuve\n", "")
    item, problems = _read(project, text)
    assert item is None and "absent du registre" in _errors(problems)[0].message


FRANCAIS = Path(__file__).resolve().parent / "data" / "francais"
#: PyYAML's and datetime's English, as it would show if a message escaped translation.
ENGLISH = re.compile(r"mapping values|not allowed|could not|found (?:character|unexpected)|"
                     r"expected|must be in|out of range")


@pytest.mark.parametrize("case, line, expected", [
    ("yaml-deux-points-sans-guillemets", 2, "un texte qui contient « : » doit être entre "
                                            "guillemets"),
    ("yaml-guillemet-jamais-ferme", 6, "un guillemet ouvert à la ligne 2 n'est jamais fermé"),
    ("yaml-tabulation", 6, "une tabulation"),
    ("yaml-accolade-jamais-fermee", 7, "il manque une virgule ou l'accolade fermante"),
    ("date-mois-13", 5, "le mois doit aller de 1 à 12"),
    ("date-30-fevrier", 5, "ce jour n'existe pas dans ce mois"),
    ("echeance-29-fevrier-2027", 6, "ce jour n'existe pas dans ce mois"),
    ("evenement-32-decembre", 6, "ce jour n'existe pas dans ce mois"),
])
def test_parser_errors_are_french_with_the_technical_detail_after(project, case, line,
                                                                  expected):
    """A YAML or date error is a French sentence at its line; the parser's text follows."""
    text = (FRANCAIS / f"{case}.md").read_text(encoding="utf-8")
    item, problems = _read(project, text, f"{case}.md")
    assert item is None
    [error] = _errors(problems)
    assert error.line == line and expected in error.message, error.message
    french, _, detail = error.message.partition("(détail technique : ")
    assert detail and not ENGLISH.search(french), error.message


@pytest.mark.parametrize("written, status", [
    ("approuvé", Status.APPROVED), ("Approuvé", Status.APPROVED), ("APPROUVE", Status.APPROVED),
    ("refusé", Status.REFUSED), ("Soumis ", Status.SUBMITTED), ("Retenu", Status.HELD)])
def test_status_is_read_with_accents_and_capitals(project, written, status):
    """« statut: approuvé » (as a person writes it) is ``approuve``; so are capitals."""
    item, problems = _read(project, GOOD.replace("statut: approuve", f"statut: {written}"))
    assert _errors(problems) == [] and item.statut is status

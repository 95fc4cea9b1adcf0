"""TOML front matter (``+++``, as Hugo writes it): the same keys, validations and lines.

python-frontmatter finds and splits the ``+++`` block; tomllib parses it; every key keeps
its line, so an error names « fichier.md:4 » as it does for YAML.
"""

from __future__ import annotations

from datetime import date, datetime

from infolettre.content import load_month, read_item

from .test_store import _errors, _read

GOOD = '''+++
titre = "Ouverture d'un frigo communautaire à Sainte-Hénédine"
organisme = "CDC des Etchemins"
rubrique = "agenda"
date = 2026-11-18
lien = "https://example.org/frigo"
statut = "approuve"

[evenement]
debut = 2026-12-05T10:30:00
fin = "2026-12-05 14h00"
lieu = "Salle « L'Étape »"
+++
Texte en **Markdown**, avec des accents : éàçô.
'''


def test_a_toml_item_is_read_like_a_yaml_one(project):
    """Dates, the evenement table, accents: the Item a YAML header would give."""
    item, problems = _read(project, GOOD)
    assert problems == [], problems
    assert item.titre == "Ouverture d'un frigo communautaire à Sainte-Hénédine"
    assert item.date == date(2026, 11, 18) and item.territoire == "les-etchemins"
    assert item.evenement.debut == datetime(2026, 12, 5, 10, 30,
                                            tzinfo=item.evenement.debut.tzinfo)
    assert str(item.evenement.debut.tzinfo) == "America/Montreal"
    assert item.evenement.fin.hour == 14 and item.evenement.lieu == "Salle « L'Étape »"
    assert item.corps == "Texte en **Markdown**, avec des accents : éàçô.\n"


def test_a_toml_item_in_windows_style_with_a_bom(project):
    """CRLF line ends and a byte-order mark, as Windows editors save."""
    data = ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8")
    item, problems = _read(project, data)
    assert problems == [] and item.evenement.lieu == "Salle « L'Étape »"


def test_a_toml_syntax_error_names_its_line_in_french(project):
    """A missing quote on line 3 is reported on line 3, in French, with the fix."""
    item, problems = _read(project, GOOD.replace('organisme = "CDC des Etchemins"',
                                                 'organisme = CDC des Etchemins'))
    [error] = _errors(problems)
    assert item is None and error.line == 3
    assert "en-tête TOML invalide" in error.message and "guillemets" in error.message
    assert "+++" in error.fix


def test_a_key_given_twice_in_toml_names_the_second_line(project):
    item, problems = _read(project, GOOD.replace('statut = "approuve"',
                                                 'statut = "approuve"\ntitre = "Autre"'))
    [error] = _errors(problems)
    assert item is None and error.line == 8 and "deuxième valeur" in error.message


def test_wrong_types_and_impossible_values_name_their_lines(project):
    """A number as rubrique, a time as date, a text that is no date: each on its line."""
    text = GOOD.replace('rubrique = "agenda"', "rubrique = 3").replace(
        "date = 2026-11-18", "date = 10:00:00").replace(
        'statut = "approuve"', 'statut = "approuve"\necheance = "2026-02-30"')
    item, problems = _read(project, text)
    lines = {p.line for p in _errors(problems)}
    assert item is None and {4, 5, 8} <= lines, problems
    messages = " ".join(p.message for p in _errors(problems))
    assert "date" in messages and "echeance" in messages


def test_an_impossible_toml_date_is_a_syntax_error_at_its_line(project):
    item, problems = _read(project, GOOD.replace("date = 2026-11-18", "date = 2026-02-30"))
    [error] = _errors(problems)
    assert item is None and error.line == 5 and "date impossible" in error.message


def test_lines_of_quoted_and_dotted_keys_and_unknown_keys(project):
    """« "titre" = … », « evenement.debut = … » and an unknown key keep their lines."""
    text = ('+++\n"titre" = "Titre"\norganisme = "CDC des Etchemins"\n'
            'rubrique = "agenda"\ndate = 2026-11-18\nevenement.debut = 2026-12-05\n'
            "couleur = 'rouge'\n+++\nCorps\n")
    item, problems = _read(project, text)
    assert item is not None and item.evenement.debut.day == 5
    [warning] = [p for p in problems if "couleur" in p.message]
    assert warning.line == 7


def test_an_unclosed_toml_header_is_reported_as_absent(project):
    item, problems = _read(project, '+++\ntitre = "x"\nCorps\n')
    assert item is None and _errors(problems)[0].line == 1
    assert "non fermé" in _errors(problems)[0].message


def test_toml_and_yaml_items_sit_side_by_side_in_a_month(project):
    project.write("toml.md", GOOD)
    project.write("yaml.md", "---\ntitre: T\norganisme: CDC des Etchemins\n"
                             "rubrique: nouvelles\ndate: 2026-11-18\n---\nCorps\n")
    items, problems = load_month(project.settings(), "2026-12")
    assert sorted(i.slug for i in items) == ["toml", "yaml"] and not _errors(problems)


def test_approving_a_toml_item_sets_its_statut_line_in_toml(project):
    """« Approuver » writes « statut = "approuve" » in the +++ block, before its tables."""
    from infolettre.content.edit import set_front_value
    path = project.write("toml.md", GOOD.replace('statut = "approuve"\n', ""))
    assert set_front_value(path, "statut", "approuve")
    text = path.read_text(encoding="utf-8")
    assert 'lien = "https://example.org/frigo"\nstatut = "approuve"\n\n[evenement]' in text
    assert set_front_value(path, "statut", "refuse")
    assert not set_front_value(path, "statut", "refuse")
    item, problems = read_item(path, project.settings(), "2026-12")
    assert problems == [] and item.statut.value == "refuse"

"""The postal list: paper readers only, as a CSV that Excel and Word in French open as is."""

from __future__ import annotations

import csv

import pytest

from infolettre.deliver.postal import COLUMNS, default_path, postal_rows, write_postal_csv
from infolettre.deliver.recipients import load_recipients
from infolettre.errors import DeliveryError
from infolettre.models import COMPLETE, Recipient, RenderedEdition, RenderedIssue
from infolettre.organize import organize
from infolettre.content import load_month

from .conftest import REPO

MONTH = "2026-12"
TRICKY_ADDRESS = "12, rue de l'Église, app. 3\nSaint-Lambert-de-Lauzon (Québec)  G0S 2W0"


@pytest.fixture(scope="module")
def issue(sample_settings):
    items, _problems = load_month(sample_settings, MONTH)
    return organize(items, sample_settings, MONTH)


def read_back(path):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_only_paper_recipients_are_listed(sample_settings, issue):
    """Only « poste » and « les-deux » lines of recipients.csv are listed, in file order."""
    recipients, problems = load_recipients(REPO / "recipients.csv", sample_settings)
    assert problems == []
    rows = postal_rows(recipients, issue, sample_settings)
    assert [(r.nom, r.territoire, r.edition) for r in rows] == [
        ("Jérôme Thériault", "Bellechasse", "Édition complète"),
        ("Réjean Fortier", "Les Appalaches", "Édition complète"),
        ("Thérèse Nadeau", "Les Etchemins", "Édition complète"),
        ("Noémie Després", "Lotbinière", "Édition complète")]
    assert rows[1].adresse_postale == "845, avenue Champlain, Disraeli (Québec) G0N 1E0"


def test_rendered_issue_and_exclusions(sample_settings):
    """A rendered issue works too; people excluded (unsubscribed) are left out."""
    rendered = RenderedIssue(None, (RenderedEdition(COMPLETE, "Édition complète", "", "", ""),),
                             "")
    people = [Recipient("a@example.org", "Aline", format="poste", adresse_postale="1, rue A"),
              Recipient("b@example.org", "Bruno", format="les-deux", adresse_postale="2, rue B"),
              Recipient("c@example.org", "Chloé", format="courriel")]
    rows = postal_rows(people, rendered, sample_settings,
                       exclude=lambda r: r.email == "b@example.org")
    assert [(r.nom, r.territoire, r.edition) for r in rows] == [
        ("Aline", "Régional", "Édition complète")]


def test_file_has_a_bom_crlf_and_french_headers(tmp_path, sample_settings, issue):
    """The file starts with a UTF-8 BOM, then the French headers, comma-separated, CRLF."""
    recipients, _problems = load_recipients(REPO / "recipients.csv", sample_settings)
    path = tmp_path / "envoi-postal.csv"
    assert write_postal_csv(path, postal_rows(recipients, issue, sample_settings)) == 4
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfnom,organisme,adresse_postale,territoire,edition\r\n")
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_accents_survive_a_read_back_with_the_csv_module(tmp_path, sample_settings, issue):
    """Read back with csv and utf-8-sig, names, places and titles keep their accents."""
    recipients, _problems = load_recipients(REPO / "recipients.csv", sample_settings)
    path = tmp_path / "postal.csv"
    write_postal_csv(path, postal_rows(recipients, issue, sample_settings))
    rows = read_back(path)
    assert list(rows[0]) == list(COLUMNS)
    assert rows[2] == {"nom": "Thérèse Nadeau",
                       "organisme": "Comité du frigo communautaire de Lac-Etchemin",
                       "adresse_postale": "27, rue des Érables, Lac-Etchemin (Québec) G0R 1S0",
                       "territoire": "Les Etchemins", "edition": "Édition complète"}


def test_address_with_commas_quotes_and_newline_round_trips(tmp_path, sample_settings,
                                                            issue):
    """A multi-line address with commas stays one quoted cell; quotes are doubled."""
    source = tmp_path / "recipients.csv"
    quoted = TRICKY_ADDRESS.replace('"', '""')
    source.write_text("courriel,nom,organisme,territoire,format,adresse_postale\n"
                      f'club@example.org,Club « Les Aînés »,"Club ""L\'Âge d\'or""",'
                      f'lotbiniere,poste,"{quoted}"\n', encoding="utf-8")
    recipients, problems = load_recipients(source, sample_settings)
    assert problems == []
    path = tmp_path / "out" / "postal.csv"
    write_postal_csv(path, postal_rows(recipients, issue, sample_settings))
    assert b'"12, rue de l\'\xc3\x89glise, app. 3\nSaint-Lambert' in path.read_bytes()
    assert b'"Club ""L\'\xc3\x82ge d\'or"""' in path.read_bytes()
    [row] = read_back(path)
    assert row["adresse_postale"] == "12, rue de l'Église, app. 3\nSaint-Lambert-de-Lauzon " \
                                     "(Québec) G0S 2W0"
    assert row["organisme"] == 'Club "L\'Âge d\'or"' and row["nom"] == "Club « Les Aînés »"


def test_unwritable_destination_says_how_to_fix(tmp_path):
    """Writing over a folder fails with a French error naming the path and --out."""
    (tmp_path / "dossier").mkdir()
    with pytest.raises(DeliveryError) as caught:
        write_postal_csv(tmp_path / "dossier", [])
    assert caught.value.where == str(tmp_path / "dossier") and "--out" in caught.value.fix


def test_default_path_is_next_to_the_build(sample_settings):
    """By default the list goes to build/<YYYY-MM>/envoi-postal.csv."""
    assert default_path(sample_settings, MONTH) == (
        sample_settings.paths.sortie / MONTH / "envoi-postal.csv")

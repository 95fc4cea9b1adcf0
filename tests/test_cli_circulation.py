"""``infolettre circulation``: the French report, the CSV for Excel, a bad --mois explained."""

from __future__ import annotations

import csv
import io

import pytest

from infolettre import cli

from .circulation_year import MONTHS, file_counts, write_year


@pytest.fixture
def year(project):
    write_year(project.settings())
    return project


def run(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_report_is_printed_in_french(year, capsys):
    code, out, err = run(capsys, "--config", str(year.config), "circulation")
    assert code == 0, err
    counts = file_counts(year.settings(), MONTHS[-6:], history=MONTHS)
    assert "Rapport de circulation — Le Fil régional" in out
    assert "6 numéros, de juillet 2026 à décembre 2026" in out
    assert f"celles que les lecteurs ont reçues (ou recevront) : {counts.total} nouvelles" in out
    assert f"Lotbinière : {counts.territory['lotbiniere']} nouvelle" in out
    assert "SOUS-REPRÉSENTÉ" in out
    assert "Entraide Bellechasse (Bellechasse) : silencieux depuis août 2026 (5 numéros) ; " \
           "dernière nouvelle : juillet 2026" in out
    assert "CISSS de Chaudière-Appalaches (Régional) : silencieux depuis janvier 2026 " \
           "(12 numéros) ; aucune nouvelle dans les numéros lus" in out
    assert "sources : " in out and "flux" in out and "courriel" in out


def test_mois_chooses_how_many_issues(year, capsys):
    code, out, _ = run(capsys, "--config", str(year.config), "circulation", "--mois", "12")
    assert code == 0 and "12 numéros, de janvier 2026 à décembre 2026" in out


def test_the_csv_has_one_row_per_territory_and_organization_with_accents(year, capsys,
                                                                        tmp_path):
    path = tmp_path / "circulation.csv"
    code, out, err = run(capsys, "--config", str(year.config), "circulation", "--mois", "12",
                         "--csv", str(path))
    assert code == 0, err
    settings = year.settings()
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    tables = {o.table for o in settings.organizations if o.table}
    assert len(rows) == 1 + len(settings.territories) + len(tables) + len(settings.organizations)
    assert f"{len(rows)} ligne(s) écrite(s)" in out
    counts = file_counts(settings, MONTHS)
    territories = {r["nom"]: r for r in rows if r["genre"] == "territoire"}
    assert int(territories["Lotbinière"]["nouvelles"]) == counts.territory["lotbiniere"]
    assert territories["Lotbinière"]["sous-représenté"] == "oui"
    assert int(territories["Régional"]["déc. 2026"]) == counts.territory_month["regional"]["2026-12"]
    orgs = {r["nom"]: r for r in rows if r["genre"] == "organisme"}
    entraide = orgs["Entraide Bellechasse"]
    assert entraide["silencieux depuis"] == "août 2026" and entraide["numéros silencieux"] == "5"
    assert entraide["dernière nouvelle"] == "juillet 2026"
    assert int(orgs["CDC Ici Montmagny-L'Islet"]["nouvelles"]) == \
        counts.organization["CDC Ici Montmagny-L'Islet"]
    assert int(orgs["CDC de Bellechasse"]["source : flux"]) >= 0
    assert "Appels de projets et financement" in rows[0]
    table = next(r for r in rows if r["genre"] == "table"
                 and r["nom"] == "Table de développement social de Lotbinière")
    assert int(table["nouvelles"]) == counts.organization["CDC de Lotbinière"]
    assert table["territoire"] == "Lotbinière"


@pytest.mark.parametrize("bad", ["0", "abc", "200", "-3"])
def test_a_bad_mois_is_explained(year, capsys, bad):
    code, out, err = run(capsys, "--config", str(year.config), "circulation", "--mois", bad)
    assert code == 2
    assert "n'est pas un nombre de numéros valide" in err and "--mois 6" in err
    assert "Traceback" not in err and out == ""


def test_no_issue_yet_is_explained(project, capsys):
    code, _, err = run(capsys, "--config", str(project.config), "circulation")
    assert code == 2 and "aucun numéro à compter" in err and "Pour corriger" in err

"""Reading recipients.csv: good lines kept, bad lines reported with their number and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from infolettre.deliver.recipients import iter_recipients, load_recipients
from infolettre.errors import DeliveryError, Severity
from infolettre.models import REGIONAL
from infolettre.settings import load_settings

DATA = Path(__file__).parent / "data" / "recipients"


@pytest.fixture(scope="module")
def settings():
    return load_settings(DATA / "infolettre.toml")


def load(name, settings):
    return load_recipients(DATA / name, settings)


def test_valid_file_reads_every_field_with_defaults(settings):
    """A clean file yields one recipient per line, with empty cells set to their defaults."""
    recipients, problems = load("valid.csv", settings)
    assert problems == []
    assert [r.email for r in recipients] == [
        "genevieve.bedard@example.org", "Marc-Andre.Cote@example.org",
        "helene.roy@example.org", "francois@example.org"]
    genevieve, marc, helene, francois = recipients
    assert genevieve.nom == "Geneviève Bédard" and genevieve.territoire == "bellechasse"
    assert marc.format == "les-deux" and marc.adresse_postale.startswith("12, rue de l'Église")
    assert helene.wants_paper and not helene.wants_email
    assert (francois.territoire, francois.format, francois.langue) == (REGIONAL, "courriel",
                                                                      "fr_CA")


def test_bad_addresses_are_reported_by_line_and_skipped(settings):
    """Each malformed or empty address is an error naming its line; the other lines go on."""
    recipients, problems = load("bad_address.csv", settings)
    assert [r.email for r in recipients] == ["genevieve.bedard@example.org",
                                             "louise@example.org"]
    assert [p.line for p in problems] == [3, 4, 5, 6]
    assert all(p.severity is Severity.ERROR and p.path == DATA / "bad_address.csv"
               for p in problems)
    assert "Jean Tremblay <jean@example.org>" in problems[0].message
    assert "nom@domaine.ca" in problems[0].fix
    assert "bad_address.csv:5" in str(problems[2])


def test_unknown_territory_lists_the_valid_ones(settings):
    """An unknown territory is an error whose fix lists regional and every configured slug."""
    recipients, problems = load("unknown_territory.csv", settings)
    assert [r.territoire for r in recipients] == ["bellechasse", "lotbiniere"]
    [problem] = problems
    assert problem.line == 3 and "beauce-sartigan" in problem.message
    assert "regional, bellechasse, les-etchemins, lotbiniere" in problem.fix


def test_duplicate_address_keeps_first_line_and_warns_with_both_lines(settings):
    """A repeated address (any case) is merged into its first line, with a warning naming both."""
    recipients, problems = load("duplicate.csv", settings)
    assert [(r.email, r.territoire) for r in recipients] == [
        ("genevieve.bedard@example.org", "bellechasse"), ("paul@example.org", "lotbiniere")]
    [problem] = problems
    assert problem.severity is Severity.WARNING and problem.line == 4
    assert "ligne 2" in problem.message


def test_bom_and_crlf_are_tolerated(settings):
    """A file saved by Excel as « CSV UTF-8 » (BOM, CRLF) reads like any other."""
    recipients, problems = load("bom_crlf.csv", settings)
    assert problems == []
    assert [(r.email, r.nom) for r in recipients] == [
        ("genevieve.bedard@example.org", "Geneviève Bédard")]


def test_paper_formats_need_a_postal_address(settings):
    """« poste » and « les-deux » without a postal address are errors; courriel lines pass."""
    recipients, problems = load("missing_postal_address.csv", settings)
    assert [r.email for r in recipients] == ["louise@example.org"]
    assert [p.line for p in problems] == [2, 3]
    assert "adresse_postale" in problems[0].fix


def test_unknown_format_lists_the_choices(settings):
    """A format other than courriel, poste or les-deux is an error listing the three."""
    recipients, problems = load("unknown_format.csv", settings)
    assert recipients == []
    assert "papier" in problems[0].message
    assert "courriel, poste, les-deux" in problems[0].fix


def test_semicolon_separator_from_french_excel_is_detected(settings):
    """A list saved with semicolons (French Excel) is read, commas inside values intact."""
    recipients, problems = load("semicolons_excel.csv", settings)
    assert problems == []
    assert recipients[1].adresse_postale == "45, route 277, Lac-Etchemin (Québec) G0R 1S0"


def test_unquoted_comma_in_a_value_is_reported(settings):
    """A line with more values than columns is an error that suggests quoting the value."""
    recipients, problems = load("unquoted_comma.csv", settings)
    assert [r.email for r in recipients] == ["louise@example.org"]
    assert problems[0].line == 2 and "guillemets" in problems[0].fix


def test_internationalized_domain_is_lowercased_to_ascii(settings):
    """An accented domain is written in its ASCII (IDNA) form, lowercased."""
    recipients, problems = load("idn_domain.csv", settings)
    assert problems == []
    assert recipients[0].email == "marie@xn--caf-solidaire-dhb.example.org"


@pytest.mark.parametrize("name, words", [
    ("unknown_column.csv", ["teritoire", "courriel,nom,organisme"]),
    ("latin1.csv", ["UTF-8", "CSV UTF-8"]),
    ("absent.csv", ["introuvable", "[chemins] destinataires"]),
])
def test_unreadable_files_raise_one_clear_error(settings, name, words):
    """An unknown column, a non-UTF-8 file or a missing file stops with what, where and fix."""
    with pytest.raises(DeliveryError) as caught:
        load(name, settings)
    text = str(caught.value)
    assert name in text
    assert all(word in text for word in words)


def test_iter_recipients_streams_and_collects_problems(settings):
    """The streaming reader yields recipients one by one and fills the caller's problem list."""
    problems = []
    stream = iter_recipients(DATA / "duplicate.csv", settings, problems)
    assert next(stream).email == "genevieve.bedard@example.org"
    assert problems == []
    assert [r.email for r in stream] == ["paul@example.org"]
    assert len(problems) == 1

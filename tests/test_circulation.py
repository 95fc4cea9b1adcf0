"""The circulation report over a generated year: every figure checked against counts made
from the files themselves (python-frontmatter, not the code under test)."""

from __future__ import annotations

import pytest

from infolettre.circulation import report, silences, territory_chart
from infolettre.circulation.count import UNDER
from infolettre.errors import InfolettreError
from infolettre.models import Month
from infolettre.pipeline.circulation import circulation_report, read_history

from .circulation_year import MONTHS, UNKNOWN, file_counts, write_year


@pytest.fixture
def year(settings):
    write_year(settings)
    return settings


def test_the_year_has_what_the_report_must_tell_apart(year):
    """The generated year is varied enough: every source, rubrique and status is there."""
    counts = file_counts(year, MONTHS)
    assert set(counts.source) == {"fichier", "courriel", "rss"}
    assert set(counts.rubrique) == {"nouvelles", "bons-coups", "ressources", "agenda",
                                    "financement"}
    assert {"soumis", "refuse", "retenu"} <= set(counts.left_out)
    assert len(counts.silent) >= 4 and counts.total > 100


@pytest.mark.parametrize("issues", [12, 6, 1])
def test_figures_match_the_files(year, issues):
    window = MONTHS[-issues:]
    counts = file_counts(year, window, history=MONTHS)
    result = circulation_report(year, issues=issues)
    assert result.months == tuple(window)
    assert result.total == counts.total
    assert result.left_out == {k: v for k, v in counts.left_out.items() if v}
    assert result.by_rubrique == {r: counts.rubrique[r] for r in year.rubriques}
    assert result.by_source == {s: counts.source[s] for s in ("fichier", "courriel", "rss")}
    for t in result.territories:
        assert t.items == counts.territory[t.slug], t.slug
        assert t.by_month == tuple(counts.territory_month[t.slug][m] for m in window)
        assert t.by_rubrique == {r: counts.territory_rubrique[t.slug][r] for r in year.rubriques}
        assert t.by_source == {s: counts.territory_source[t.slug][s]
                               for s in ("fichier", "courriel", "rss")}
    for org in result.organizations:
        assert org.items == counts.organization[org.nom], org.nom
    assert sum(o.items for o in result.organizations) == counts.total


def test_local_news_reaches_the_other_territories_by_organize_s_rule(year):
    """A local item is in « Ailleurs » of the four other territorial editions, unless its
    event was over (or its call closed) when the issue came out; a regional item is in
    all five territorial editions."""
    counts = file_counts(year, MONTHS)
    result = circulation_report(year, issues=12)
    others = len(year.territories) - 1
    for t in result.territories[1:]:
        assert t.elsewhere_items == counts.elsewhere[t.slug], t.slug
        assert t.elsewhere_appearances == others * counts.elsewhere[t.slug]
    assert result.elsewhere_items == sum(counts.elsewhere.values())
    assert result.elsewhere_items < result.local_items  # the events already over
    assert result.regional_items == counts.regional_reached
    assert result.regional_appearances == len(year.territories) * counts.regional_reached


def test_silent_organizations_and_since_when(year):
    counts = file_counts(year, MONTHS[-6:], history=MONTHS)
    result = circulation_report(year, issues=6)
    found = {s.organisme: (s.issues, s.since, s.last_heard) for s in result.silent}
    assert found == counts.silent
    # The habits of the generated year, said plainly:
    assert found["CISSS de Chaudière-Appalaches"] == (12, "2026-01", None)
    assert found["Entraide Bellechasse"][1:] == ("2026-08", "2026-07")
    assert found["Transport collectif des Etchemins"][1] == "2026-10"  # refused: no voice
    assert "Maison de la famille des Appalaches" not in found  # wrote in November (soumis)
    assert UNKNOWN not in found  # held mail from outside the registry is nobody's silence
    assert [s.issues for s in result.silent] == sorted((s.issues for s in result.silent),
                                                       reverse=True)
    by_name = {o.nom: o for o in result.organizations}
    assert by_name["Entraide Bellechasse"].silence.since == "2026-08"
    assert by_name["CDC des Etchemins"].silence is None


def test_under_represented_territories_against_their_share_of_organizations(year):
    counts = file_counts(year, MONTHS)
    result = circulation_report(year, issues=12)
    registered = len(year.organizations)
    expected = {slug for slug in ("regional", *year.territories)
                if counts.territory[slug] / counts.total
                < UNDER * sum(o.territoire == slug for o in year.organizations) / registered}
    assert {t.slug for t in result.under_represented} == expected
    assert "lotbiniere" in expected  # the quiet territory of the generated year


def test_tables_sum_their_organizations(year):
    result = circulation_report(year, issues=12)
    counts = file_counts(year, MONTHS)
    for table in result.tables:
        members = [o.nom for o in year.organizations if o.table == table.table]
        assert table.organizations == len(members)
        assert table.items == sum(counts.organization[m] for m in members)
        assert sum(table.by_source.values()) == sum(table.by_rubrique.values()) == table.items


def test_the_charts_share_one_scale_and_say_their_numbers(year):
    result = circulation_report(year, issues=6)
    top = max(n for t in result.territories for n in t.by_month)
    charts = [territory_chart(t, result.months, top=top) for t in result.territories]
    tallest = max(b.height for c in charts for b in c.bars)
    assert tallest == 90 and all(b.y + b.height == c.baseline for c in charts for b in c.bars)
    bellechasse = charts[1]
    assert "Bellechasse" in bellechasse.title
    assert "décembre 2026 : " in bellechasse.description
    assert [b.value for b in bellechasse.bars] == list(result.territories[1].by_month)


def test_silences_need_enough_issues(year):
    history = read_history(year, 2)
    assert silences(history, year, at_least=3) == []
    assert report(history, year, window=2).silent == ()


def test_a_bad_number_of_issues_and_an_empty_content_are_explained(settings, year):
    for bad in (0, -1, 121, "six", True):
        with pytest.raises(InfolettreError) as caught:
            circulation_report(year, issues=bad)
        assert "nombre de numéros" in caught.value.message and caught.value.fix
    with pytest.raises(InfolettreError, match="aucun numéro"):
        circulation_report(year, until=Month("2025-12"))


def test_counts_read_as_french_singular_and_plural():
    """« 1 nouvelle », « 2 nouvelles »: no « nouvelle(s) » in what a table meeting reads."""
    from infolettre.circulation.text import elsewhere_sentence, news, regional_sentence

    assert (news(1), news(2)) == ("1 nouvelle", "2 nouvelles")
    assert elsewhere_sentence(1, 4).startswith("1 nouvelle, 4 fois")
    assert regional_sentence(1, 5) == ("Section régionale : 1 nouvelle régionale, parue 5 fois "
                                       "dans les éditions territoriales.")
    assert "nouvelles régionales, parues" in regional_sentence(9, 45)

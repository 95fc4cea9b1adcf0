"""« Relance des silencieux »: organizations that asked for it (``relance = true``) and said
nothing for ``relance_apres`` issues get one friendly French email per cycle, with how to
write and the deadline; never twice in a cycle, logged for the pivot. A FixedClock: the
issue of January 2027, whose relance falls on 17 December 2026 at 9 h."""

from __future__ import annotations

import email
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta
from email import policy
from zoneinfo import ZoneInfo

import pytest

from infolettre import calendar, pipeline
from infolettre.clock import FixedClock
from infolettre.errors import ConfigError
from infolettre.pipeline.relance import silent_to_remind
from infolettre.state import connect, state_file
from infolettre.state.steps import StepStore

from .circulation_year import MONTHS, file_counts, write_year

TZ = ZoneInfo("America/Toronto")
RELANCE = datetime(2026, 12, 17, 9, 0, tzinfo=TZ)  # midway: call 8 Dec, reminder 26 Dec
PIVOT_SUBJECT = "[infolettre] Relance des silencieux : numéro de janvier 2027"


@pytest.fixture
def year(project):
    write_year(project.settings())
    return project


def notices(settings) -> list[email.message.EmailMessage]:
    folder = settings.paths.donnees / "avis"
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*"))] if folder.exists() else []


def to_organizations(settings) -> list[email.message.EmailMessage]:
    return [m for m in notices(settings) if not str(m["Subject"]).startswith("[infolettre]")]


def expected(settings, after: int = 3) -> set[str]:
    """Counted from the files: silent for ``after`` issues, and asked for the reminder."""
    silent = file_counts(settings, MONTHS, history=MONTHS, silence_after=after).silent
    return {name for name in silent if settings.organization(name).relance}


def run(settings, clock):
    return pipeline.schedule.run_due(settings, clock=clock, steps=["relance"])


def test_the_relance_falls_between_the_call_and_the_reminder(year):
    settings = year.settings()
    dates = calendar.cycle(settings.calendar, "2027-01", settings.identity.timezone)
    assert dates.call < dates.relance < dates.reminder
    assert dates.relance == RELANCE
    assert "relance" in calendar.enabled_steps(settings)


def test_the_silent_who_asked_get_one_friendly_email_each(year):
    settings = year.settings()
    want = expected(settings)
    assert {"Entraide Bellechasse", "Transport collectif des Etchemins"} <= want
    assert "CISSS de Chaudière-Appalaches" not in want  # silent, but never asked
    clock = FixedClock(RELANCE + timedelta(minutes=5))
    (outcome,) = run(settings, clock)
    assert outcome.status == "fait"
    addresses = [a for name in want for a in settings.organization(name).courriels]
    got = to_organizations(settings)
    assert Counter(str(m["To"]) for m in got) == Counter(addresses)
    entraide = next(m for m in got if "Entraide" in str(m["Subject"]))
    assert str(entraide["Subject"]) == \
        "Des nouvelles de Entraide Bellechasse pour le numéro de janvier 2027 ?"
    body = entraide.get_content()
    assert "depuis le numéro de juillet 2026" in body
    assert "la date de tombée est le mardi 29 décembre 2026 à 9 h" in body
    assert settings.identity.repondre_a in body and "un seul par numéro" in body
    assert entraide["Auto-Submitted"] == "auto-generated"
    for name in want:
        assert name in outcome.message
    (pivot,) = [m for m in notices(settings) if str(m["Subject"]) == PIVOT_SUBJECT]
    assert "Entraide Bellechasse (Bellechasse) : silencieux depuis août 2026 (5 numéros)" \
        in pivot.get_content()
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = StepStore(conn)
        assert store.notified("relance", "2027-01") == {a.lower() for a in addresses}
        assert store.get("relance", "2027-01").status == "fait"


def test_never_twice_in_a_cycle_even_run_again_later(year):
    settings = year.settings()
    clock = FixedClock(RELANCE + timedelta(minutes=5))
    run(settings, clock)
    before = len(notices(settings))
    assert run(settings, clock) == []
    clock.advance(days=2)  # still within the step's grace
    assert run(settings, clock) == []
    assert len(notices(settings)) == before


def test_an_interrupted_relance_finishes_without_repeating_anyone(year):
    """A scheduler killed midway left the step « en cours » with one address reached."""
    settings = year.settings()
    first = settings.organization("Entraide Bellechasse").courriels[0]
    clock = FixedClock(RELANCE + timedelta(minutes=5))
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = StepStore(conn, clock=clock)
        store.begin("relance", "2027-01", RELANCE)
        store.mark_notified("relance", "2027-01", first)
    (outcome,) = run(settings, clock)
    assert outcome.status == "fait"
    got = [str(m["To"]) for m in to_organizations(settings)]
    assert first not in got and got


def test_an_organization_heard_for_the_issue_is_left_alone(year):
    settings = year.settings()
    year.write("entraide.md", "---\ntitre: De retour\norganisme: Entraide Bellechasse\n"
                              "rubrique: nouvelles\ndate: 2026-12-10\nstatut: soumis\n---\n"
                              "Texte.\n", month="2027-01")
    names = {s.organisme for s in silent_to_remind(settings, "2027-01")}
    assert "Entraide Bellechasse" not in names
    assert names == expected(settings) - {"Entraide Bellechasse"}


def test_the_next_cycle_reminds_again_once(year):
    """One per cycle: February's relance (mid-January) writes again to who is still silent."""
    settings = year.settings()
    run(settings, FixedClock(RELANCE + timedelta(minutes=5)))
    first = len(to_organizations(settings))
    february = calendar.cycle(settings.calendar, "2027-02", settings.identity.timezone).relance
    clock = FixedClock(february + timedelta(minutes=5))
    (outcome,) = run(settings, clock)
    assert outcome.occurrence.key == "2027-02" and outcome.status == "fait"
    assert len(to_organizations(settings)) == 2 * first
    assert run(settings, clock) == []


def test_relance_apres_sets_how_long_a_silence_is(year):
    year.calendar("relance_apres = 5")
    settings = year.settings()
    assert settings.calendar.relance_apres == 5
    names = {s.organisme for s in silent_to_remind(settings, "2027-01")}
    assert names == expected(settings, after=5)
    assert "Entraide Bellechasse" in names
    assert "Transport collectif des Etchemins" not in names  # silent for 3 issues only


def test_relance_apres_0_turns_the_step_off(year):
    year.calendar("relance_apres = 0")
    settings = year.settings()
    assert "relance" not in calendar.enabled_steps(settings)
    assert calendar.cycle(settings.calendar, "2027-01", settings.identity.timezone).relance \
        is None
    assert silent_to_remind(settings, "2027-01") == []


def test_a_new_bulletin_reminds_nobody(project):
    """Two issues read only: nobody has been silent for three yet."""
    project.write("a.md", "---\ntitre: A\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                          "date: 2026-11-02\nstatut: approuve\n---\nTexte.\n", month="2026-11")
    project.write("b.md", "---\ntitre: B\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                          "date: 2026-12-02\nstatut: approuve\n---\nTexte.\n", month="2026-12")
    settings = project.settings()
    assert silent_to_remind(settings, "2027-01") == []
    (outcome,) = run(settings, FixedClock(RELANCE + timedelta(minutes=5)))
    assert outcome.status == "fait" and to_organizations(settings) == []
    assert outcome.message == "aucun organisme à relancer."


@pytest.mark.parametrize("value", ["-1", "25", "\"trois\"", "true"])
def test_a_bad_relance_apres_names_the_key(project, value):
    project.calendar(f"relance_apres = {value}")
    with pytest.raises(ConfigError) as caught:
        project.settings()
    assert "relance_apres" in str(caught.value.where or "") + caught.value.message


def test_the_pivot_sees_the_relance_among_the_next_steps(year):
    settings = year.settings()
    clock = FixedClock(datetime(2026, 12, 2, 9, 0, tzinfo=TZ))
    lines = [pipeline.schedule.describe(o)
             for o in pipeline.schedule.overview(settings, clock=clock).upcoming]
    assert "relance des silencieux (numéro de janvier 2027)" in lines
    assert lines.index("appel de nouvelles (numéro de janvier 2027)") \
        < lines.index("relance des silencieux (numéro de janvier 2027)") \
        < lines.index("rappel aux organismes (numéro de janvier 2027)")

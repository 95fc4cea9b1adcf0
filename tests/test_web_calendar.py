"""The calendar on the home page: the issue's deadline, the next steps, the scheduler's runs."""

from __future__ import annotations

import dataclasses
from contextlib import closing
from datetime import datetime
from zoneinfo import ZoneInfo

from infolettre import pipeline
from infolettre.models import Month
from infolettre.state import connect, state_file
from infolettre.state.steps import DONE, FAILED, WAITING, StepStore
from infolettre.web import create_app

from .webfixtures import PASSWORD, app, clock, own, signed_in  # noqa: F401

MONTH = "2026-12"
TZ = ZoneInfo("America/Toronto")


def record(settings, clock, step, key, status, message):
    """Record a run of a step as the scheduler does (begin, then finish)."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = StepStore(conn, clock=clock)
        planned = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
        store.begin(step, key, planned)
        store.finish(step, key, planned, status, message)


def test_the_pivot_sees_the_next_steps_with_their_french_dates(app):
    """On 2 December 2026 the next steps are January's call, reminder, deadline and send,
    each with its local date and time in French."""
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert "Prochaines étapes" in text
    for line in ("mardi 8 décembre 2026 à 9 h : appel de nouvelles (numéro de janvier 2027)",
                 "samedi 26 décembre 2026 à 9 h : rappel aux organismes (numéro de janvier 2027)",
                 "mardi 29 décembre 2026 à 9 h : date de tombée (numéro de janvier 2027)",
                 "mardi 5 janvier 2027 à 9 h : envoi du numéro (numéro de janvier 2027)"):
        assert line in text
    assert "Le calendrier n'a encore rien fait ici" in text  # no run recorded yet


def test_a_relecteur_does_not_see_the_calendar(app):
    """The next steps and the runs are the pivot's: a relecteur's home page has neither."""
    text = signed_in(app, "releve@example.org").get(f"/?numero={MONTH}").text
    assert "Prochaines étapes" not in text and "Dernières exécutions" not in text
    assert "appel de nouvelles" not in text
    board = pipeline.dashboard.issue_dashboard(app.config["INFOLETTRE_SETTINGS"], MONTH,
                                               app.config["INFOLETTRE_CLOCK"],
                                               territoire="montmagny")
    assert board.timeline is None


def test_the_header_gives_the_deadline_and_the_send_of_the_month(app):
    """The header line says the deadline and the send computed from [calendrier]."""
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert ("Date de tombée : mardi 24 novembre 2026 à 9 h. "
            "Envoi prévu : mardi 1er décembre 2026 à 9 h.") in text
    assert "aucune n'est fixée" not in text
    from infolettre.pipeline.timeline import issue_dates  # new with the calendar's dates

    dates = issue_dates(app.config["INFOLETTRE_SETTINGS"], "2027-01")
    assert (dates.deadline, dates.send) == (datetime(2026, 12, 29, 9, 0, tzinfo=TZ),
                                            datetime(2027, 1, 5, 9, 0, tzinfo=TZ))


def test_a_month_without_an_issue_says_so(own, clock):
    """In a bimonthly calendar, a month without an issue says which issue comes next."""
    bimonthly = dataclasses.replace(own, calendar=dataclasses.replace(
        own.calendar, cadence="bimestrielle", premier_numero=Month("2027-01")))
    pipeline.user_add(bimonthly, "pivot@example.org", PASSWORD, clock=clock)
    text = signed_in(create_app(bimonthly, clock=clock, testing=True)).get(
        f"/?numero={MONTH}").text
    assert ("Pas de numéro en décembre 2026 : l'infolettre paraît tous les deux mois, "
            "le prochain numéro est celui de janvier 2027.") in text
    assert "Date de tombée :" not in text


def test_the_last_runs_show_their_step_status_time_and_escaped_message(app, own, clock):
    """Recorded runs appear with their French step name, their status in words, when they
    ended and their message, a hostile message shown as text."""
    record(own, clock, "envoi", MONTH, DONE, "<script>alert(1)</script> 120 messages envoyés.")
    record(own, clock, "envoi", "2027-01", WAITING, "le numéro n'est pas approuvé.")
    record(own, clock, "flux", "continu", FAILED, "flux injoignable.")
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert "Dernières exécutions" in text and "Le calendrier n'a encore" not in text
    assert ("envoi du numéro (numéro de décembre 2026) :\n    fait, le mercredi 2 décembre "
            "2026 à 9 h — &lt;script&gt;alert(1)&lt;/script&gt; 120 messages envoyés.") in text
    assert "<script>alert(1)" not in text
    assert ("envoi du numéro (numéro de janvier 2027) :\n    en attente d&#39;approbation, "
            "le mercredi 2 décembre 2026 à 9 h") in text
    assert ('<li class="error">relevé des flux :\n    échec, le mercredi 2 décembre 2026 à 9 h'
            " — flux injoignable.") in text

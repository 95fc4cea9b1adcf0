"""The calendar's dates over 2027 and 2028: local hours kept across the changes of time
(14 March and 7 November 2027), the bimonthly cadence, and the settings' checks."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from infolettre.calendar import cycle, due, issue_for, next_after, occurrences, send_day
from infolettre.errors import ConfigError
from infolettre.settings import Calendar, load_settings
from infolettre.state.issues import target_month

TZ = ZoneInfo("America/Toronto")


def with_calendar(settings, **values):
    return dataclasses.replace(settings, calendar=dataclasses.replace(settings.calendar, **values))


def local(moment: datetime) -> datetime:
    return moment.astimezone(TZ)


def test_the_send_is_the_first_tuesday_at_9_h_every_month_of_2027_and_2028():
    """Monthly: one send per month, on its first Tuesday, at 9 h local whatever the offset."""
    calendar = Calendar()
    sends = [cycle(calendar, f"{y}-{m:02d}", TZ).send for y in (2027, 2028) for m in range(1, 13)]
    assert [local(s).date() for s in sends[:12]] == [
        date(2027, 1, 5), date(2027, 2, 2), date(2027, 3, 2), date(2027, 4, 6),
        date(2027, 5, 4), date(2027, 6, 1), date(2027, 7, 6), date(2027, 8, 3),
        date(2027, 9, 7), date(2027, 10, 5), date(2027, 11, 2), date(2027, 12, 7)]
    assert all(local(s).weekday() == 1 and local(s).time() == time(9, 0) for s in sends)
    assert all(local(s).day <= 7 for s in sends)
    # 9 h is 14 h UTC in winter (EST) and 13 h UTC in summer (EDT).
    assert sends[2].hour == 14 and sends[3].hour == 13          # March 2 / April 6, 2027
    assert sends[10].hour == 13 and sends[11].hour == 14        # November 2 / December 7, 2027
    assert local(sends[12 + 1]).date() == date(2028, 2, 1)


def test_the_deadline_reminder_and_call_fall_in_order_before_the_send():
    """Deadline 7 days before the send, reminder 3 days before it, call on day 8 of the cycle."""
    dates = cycle(Calendar(), "2027-01", TZ)
    assert local(dates.deadline) == datetime(2026, 12, 29, 9, 0, tzinfo=TZ)
    assert local(dates.reminder) == datetime(2026, 12, 26, 9, 0, tzinfo=TZ)
    assert local(dates.call) == datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    assert dates.call < dates.reminder < dates.deadline < dates.send
    assert len(dates.attempts) == 8 and local(dates.attempts[-1]).date() == date(2027, 1, 12)


def test_a_daily_step_stays_at_its_local_hour_across_both_changes_of_time(settings):
    """The feeds at 6 h: 11 h UTC before 14 March 2027, 10 h UTC after; back on 7 November."""
    start = datetime(2027, 3, 12, tzinfo=UTC)
    found = list(occurrences(settings, "flux", start, start + timedelta(days=4)))
    assert [local(o.at).strftime("%d %H:%M") for o in found] == [
        "12 06:00", "13 06:00", "14 06:00", "15 06:00"]
    assert [o.at.hour for o in found] == [11, 11, 10, 10]
    autumn = datetime(2027, 11, 5, tzinfo=UTC)
    found = list(occurrences(settings, "flux", autumn, autumn + timedelta(days=4)))
    assert [o.at.hour for o in found] == [10, 10, 11, 11]
    assert [local(o.at).day for o in found] == [5, 6, 7, 8]


def test_an_hour_that_happens_twice_runs_once_and_one_that_does_not_exist_still_runs(settings):
    """1 h 30 on 7 November 2027 happens twice: one backup. 2 h 30 on 14 March 2027 does not
    exist: the backup runs once that night (at 3 h 30, the same instant read after the change)."""
    twice = with_calendar(settings, sauvegarde=time(1, 30))
    night = datetime(2027, 11, 7, 4, tzinfo=UTC)
    assert len(list(occurrences(twice, "sauvegarde", night, night + timedelta(hours=5)))) == 1
    missing = with_calendar(settings, sauvegarde=time(2, 30))
    night = datetime(2027, 3, 14, 4, tzinfo=UTC)
    (found,) = occurrences(missing, "sauvegarde", night, night + timedelta(hours=12))
    assert local(found.at).strftime("%H:%M") == "03:30"


def test_the_mail_reading_every_15_minutes_keeps_its_quarter_hours_across_the_change(settings):
    """Every 15 minutes counts from a fixed origin: 9 h, 9 h 15… before and after 14 March."""
    with_mail = with_calendar(settings, releve_courriel=15)
    start = datetime(2027, 3, 14, 6, 50, tzinfo=UTC)   # 1 h 50 EST, just before the change
    found = list(occurrences(with_mail, "courriel", start, start + timedelta(hours=1)))
    # 2 h EST does not exist that night: 7 h UTC is 3 h EDT.
    assert [local(o.at).strftime("%H:%M") for o in found] == ["03:00", "03:15", "03:30",
                                                             "03:45"]
    assert [b.at - a.at for a, b in zip(found, found[1:])] == [timedelta(minutes=15)] * 3


def test_bimonthly_issues_come_every_other_month_from_the_first_issue():
    """Bimonthly from January 2027: January, March, May…; the cycle opens two months before."""
    calendar = Calendar(cadence="bimestrielle")
    months = [m for m in (f"{y}-{n:02d}" for y in (2027, 2028) for n in range(1, 13))
              if calendar.is_issue_month(m)]
    assert months == ["2027-01", "2027-03", "2027-05", "2027-07", "2027-09", "2027-11",
                      "2028-01", "2028-03", "2028-05", "2028-07", "2028-09", "2028-11"]
    assert issue_for(calendar, "2027-02") == "2027-03"
    dates = cycle(calendar, "2027-03", TZ)
    assert dates.opens == date(2027, 1, 1)
    assert local(dates.call).date() == date(2027, 1, 8)
    assert local(dates.send) == datetime(2027, 3, 2, 9, 0, tzinfo=TZ)
    even = Calendar(cadence="bimestrielle", premier_numero="2027-02")
    assert even.is_issue_month("2028-02") and not even.is_issue_month("2028-03")


def test_bimonthly_sends_over_2027_2028_never_fall_in_a_month_without_an_issue(settings):
    """The send step's occurrences over two years are the six issues of each year."""
    bimonthly = with_calendar(settings, cadence="bimestrielle")
    start = datetime(2027, 1, 1, tzinfo=UTC)
    sends = [o for o in occurrences(bimonthly, "envoi", start, start + timedelta(days=731))
             if o.attempt == 0]
    assert [o.key for o in sends] == [f"{y}-{m:02d}" for y in (2027, 2028)
                                      for m in (1, 3, 5, 7, 9, 11)]


def test_news_of_a_month_without_an_issue_go_to_the_next_issue():
    """Bimonthly: mail of 10 February (January sent) goes to March, never to February."""
    calendar = Calendar(cadence="bimestrielle")
    assert target_month(date(2027, 2, 10), {"2027-01"},
                        is_issue=calendar.is_issue_month) == "2027-03"
    assert target_month(date(2027, 1, 10), {"2027-01"},
                        is_issue=calendar.is_issue_month) == "2027-03"
    assert target_month(date(2027, 2, 10), {"2027-01"}) == "2027-02"   # monthly: February


def test_a_missed_step_is_due_within_its_grace_and_not_after(settings):
    """The send of 5 January 2027 at 9 h: still due at 20 h that day, not two days later
    (then the next daily try is due instead)."""
    send = datetime(2027, 1, 5, 9, 0, tzinfo=TZ)
    (found, *_older) = due(settings, "envoi", send.astimezone(UTC) + timedelta(hours=11))
    assert (found.key, found.attempt) == ("2027-01", 0)
    assert due(settings, "envoi", send.astimezone(UTC) - timedelta(minutes=1)) == []
    later = due(settings, "envoi", send.astimezone(UTC) + timedelta(days=2, hours=3))
    assert (later[0].key, later[0].attempt) == ("2027-01", 2)
    after_window = send.astimezone(UTC) + timedelta(days=9)
    assert due(settings, "envoi", after_window) == []
    assert local(next_after(settings, "envoi", after_window).at) == datetime(
        2027, 2, 2, 9, 0, tzinfo=TZ)


def test_the_nth_weekday_can_be_chosen():
    """« deuxième jeudi »: the second Thursday of the month."""
    calendar = Calendar(envoi_jour="jeudi", envoi_semaine=2)
    assert send_day(calendar, "2027-04") == date(2027, 4, 8)
    assert send_day(calendar, "2028-02") == date(2028, 2, 10)


def _calendar_error(project, table: str) -> str:
    project.calendar(table)
    with pytest.raises(ConfigError) as info:
        load_settings(project.config)
    return str(info.value)


def test_calendar_settings_are_read_with_french_hours(project):
    """« 9 h 30 », « 6:00 » and "" (off) are understood; the weekday is a French name."""
    project.calendar('cadence = "bimestrielle"\nenvoi_heure = "9 h 30"\n'
                     'releve_flux = ""\nenvoi_jour = "Jeudi"\navis = "pivot@example.org"')
    calendar = load_settings(project.config).calendar
    assert (calendar.cadence, calendar.envoi_heure, calendar.releve_flux) == (
        "bimestrielle", time(9, 30), None)
    assert calendar.envoi_jour == "jeudi" and calendar.avis == ("pivot@example.org",)


@pytest.mark.parametrize("table, expected", [
    ('cadence = "hebdomadaire"', "« mensuelle » | « bimestrielle »"),
    ('envoi_jour = "mardy"', "lundi | mardi"),
    ('envoi_heure = "25 h"', "9 h 30"),
    ('envoi_semaine = 5', "de 1 à 4"),
    ('appel = 25', "au plus 18"),
    ('premier_numero = "janvier"', "AAAA-MM"),
    ('envoie_heure = "9:00"', "Vouliez-vous dire « envoi_heure »"),
])
def test_a_bad_calendar_value_names_the_key_and_what_is_expected(project, table, expected):
    """Each mistake names the key of [calendrier] and what it should be."""
    message = _calendar_error(project, table)
    assert expected in message
    assert "calendrier" in message

"""Time is an input: only ``infolettre.clock`` reads the system clock, and every front door
passes its clock down, so the suite gives the same results whatever day it runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infolettre.clock import SYSTEM_CLOCK, FixedClock

from .conftest import REPO

#: Ways Python code reads the wall clock (durations with time.monotonic are allowed).
READS_THE_CLOCK = re.compile(
    r"datetime\.now\(|datetime\.utcnow\(|date\.today\(|datetime\.today\(|\btime\.time\(|"
    r"\btime\.localtime\(|\btime\.gmtime\(\)|\btime\.strftime\(")


def test_no_module_but_clock_reads_the_system_clock():
    """A stray datetime.now() would make some output depend on the day the tests run."""
    offenders = []
    for path in sorted((REPO / "src" / "infolettre").rglob("*.py")):
        if path.name == "clock.py" and path.parent.name == "infolettre":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if READS_THE_CLOCK.search(line.split("#", 1)[0]):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_scheduler_reads_no_clock_of_its_own():
    text = (REPO / "scheduler.py").read_text(encoding="utf-8")
    assert not READS_THE_CLOCK.search(text)


def test_fixed_clock_gives_local_days_in_quebec():
    """23:30 in Montréal is already tomorrow in UTC: the day is Québec's."""
    tz = ZoneInfo("America/Toronto")
    clock = FixedClock(datetime(2028, 2, 29, 23, 30, tzinfo=tz))
    assert clock.now().tzinfo is UTC and clock.now().day == 1
    assert clock.today(tz).isoformat() == "2028-02-29"
    clock.advance(hours=1)
    assert clock.today(tz).isoformat() == "2028-03-01"


def test_fixed_clock_refuses_a_naive_moment():
    with pytest.raises(ValueError):
        FixedClock(datetime(2027, 1, 5, 9, 0))


def test_system_clock_is_aware_and_current():
    before = datetime.now(UTC)
    assert abs(SYSTEM_CLOCK.now() - before) < timedelta(seconds=5)


def test_cli_commands_take_their_time_from_the_clock_they_are_given(project, capsys):
    """approve, send and desabonner record the clock's moment, not the machine's."""
    import email
    import email.policy

    from infolettre.cli import main
    from infolettre.review.signoff import SignoffStore
    from infolettre.state import connect, state_file
    from infolettre.unsubscribe import UnsubscribeStore

    project.write("item.md", "---\ntitre: X\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
                             "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
    (project.root / "recipients.csv").write_text(
        "courriel,nom,territoire,format,adresse_postale\n"
        "a@example.org,Aline,les-etchemins,courriel,\n", encoding="utf-8")
    config = ["--config", str(project.config)]
    moment = datetime(2031, 6, 3, 9, 15, tzinfo=ZoneInfo("America/Toronto"))
    clock = FixedClock(moment)
    assert main([*config, "approve", "2026-12", "--par", "Julie"], clock=clock) == 0
    clock.advance(minutes=5)
    assert main([*config, "send", "2026-12"], clock=clock) == 0
    assert main([*config, "desabonner", "a@example.org"], clock=clock) == 0
    capsys.readouterr()
    sent = next((project.root / "outbox" / "2026-12").glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["Date"].datetime == moment + timedelta(minutes=5)
    with connect(state_file(project.root / "data")) as conn:
        assert SignoffStore(conn).current("2026-12").signed_at == moment
        row = conn.execute("SELECT quand FROM desabonnements").fetchone()
        assert datetime.fromisoformat(row[0]) == moment + timedelta(minutes=5)
        assert UnsubscribeStore(conn).contains("a@example.org")

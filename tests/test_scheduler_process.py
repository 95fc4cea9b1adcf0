"""``scheduler.py`` as a person runs it: a real process (APScheduler's BlockingScheduler, or
``--une-fois``) at a chosen date with Debian's ``faketime``, a real SMTP server on loopback.

Checked: a send missed while the machine was off runs once when the scheduler starts; a
second scheduler on the same data folder is refused; SIGTERM stops it cleanly; a scheduler
killed in the middle of a send, started again, completes the delivery with nobody skipped.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock

from .conftest import REPO
from .sinks import CountingSink, counting_server
from .test_scheduler import EMAILS, MONTH, make_project, sent_files

TZ = ZoneInfo("America/Toronto")
SEND = datetime(2026, 12, 1, 9, 0, tzinfo=TZ)

#: Debian's libfaketime (package faketime, installed by scripts/test), preloaded directly
#: rather than through the ``faketime`` wrapper, so that signals reach the scheduler itself.
LIBFAKETIME = sorted(glob.glob("/usr/lib/*/faketime/libfaketime.so.1"))
pytestmark = pytest.mark.skipif(not LIBFAKETIME,
                                reason="Debian's faketime is needed (scripts/test installs it)")


def scheduler(config, *args: str) -> list[str]:
    """The command that runs scheduler.py (its date comes from ``env``)."""
    return [sys.executable, str(REPO / "scheduler.py"), "--config", str(config), *args]


def env(when: str) -> dict[str, str]:
    """The environment of a process whose clock starts at ``when``, local time in Québec."""
    values = dict(os.environ, TZ="America/Toronto", FAKETIME_DONT_FAKE_MONOTONIC="1",
                  FAKETIME=f"@{when}", LD_PRELOAD=LIBFAKETIME[0])
    values["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO / "tests" / "faketime")])
    return values


class Reader(threading.Thread):
    """Collect a process's standard error as it comes."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines = stream, []

    def run(self):
        for line in self.stream:
            self.lines.append(line.decode("utf-8", "replace"))

    def text(self) -> str:
        return "".join(self.lines)


def wait_for(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not reached in time: {what}"
        time.sleep(0.05)


def test_the_scheduler_sends_a_missed_issue_at_start_once_and_refuses_a_second(project):
    """Started at 11 h on the first Tuesday: the signed issue goes out at once (missed at
    9 h); ``--une-fois`` meanwhile is refused with the running scheduler named; SIGTERM
    stops it; started again, it sends nothing more."""
    settings = make_project(project, EMAILS)
    pipeline.approve(settings, MONTH, "pivot@example.org",
                     clock=FixedClock(SEND - timedelta(days=1)))
    child = subprocess.Popen(scheduler(project.config), cwd=project.root,
                             env=env("2026-12-01 11:00:00"), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    err = Reader(child.stderr)
    err.start()
    try:
        wait_for(lambda: "calendrier démarré" in err.text(), "start")
        wait_for(lambda: "envoi du numéro (numéro de décembre 2026) : 2026-12 : envoyés 6"
                 in err.text(), "the missed send")
        assert len(sent_files(settings)) == 6
        second = subprocess.run(scheduler(project.config, "--une-fois"),
                                cwd=project.root, env=env("2026-12-01 11:00:05"),
                                capture_output=True, timeout=60)
        assert second.returncode == 2
        refusal = second.stderr.decode()
        assert "« calendrier »" in refusal and "rien n'a été fait" in refusal
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
        err.join(timeout=5)
    assert child.returncode == 0
    assert "calendrier arrêté" in err.text()
    assert err.text().count("envoi du numéro (numéro de décembre 2026) :") == 1
    again = subprocess.run(scheduler(project.config, "--une-fois"),
                           cwd=project.root, env=env("2026-12-01 11:30:00"),
                           capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr.decode()
    assert "envoi du numéro" not in again.stderr.decode()
    assert len(sent_files(settings)) == 6


def test_a_scheduler_killed_mid_send_completes_the_delivery_when_started_again(project):
    """SIGKILL while the send is under way; ``--une-fois`` 20 minutes later resumes it; the
    « incertain » messages (content handed over, no answer) go again after 24 h: every
    recipient has the issue, at most the in-flight ones twice, never zero."""
    emails = [f"r{i}@example.org" for i in range(12)]
    sink = CountingSink(data_delay=0.3)
    with counting_server(sink) as port:
        settings = make_project(
            project, emails, f'[smtp]\nhote = "127.0.0.1"\nport = {port}\n'
            'securite = "aucune"\nconnexions = 1\ndelai = 10\n'
            '[calendrier]\navis = "pivot@example.org"')
        pipeline.approve(settings, MONTH, "pivot@example.org",
                         clock=FixedClock(SEND - timedelta(days=1)))
        child = subprocess.Popen(scheduler(project.config, "--une-fois"),
                                 cwd=project.root, env=env("2026-12-01 09:00:30"),
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        try:
            wait_for(lambda: sum(sink.per_recipient()[e] for e in emails) >= 3, "3 sent")
        finally:
            child.send_signal(signal.SIGKILL)
            child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        reached = sum(sink.per_recipient()[e] for e in emails)
        assert reached < len(emails)
        outputs = []
        for when in ("2026-12-01 09:20:30", "2026-12-02 10:00:30"):
            done = subprocess.run(scheduler(project.config, "--une-fois"),
                                  cwd=project.root, env=env(when), capture_output=True,
                                  timeout=120)
            outputs.append(done.stderr.decode())
            assert done.returncode == 0, outputs[-1]
    per = sink.per_recipient()
    assert all(1 <= per[e] <= 2 for e in emails), per
    twice = [e for e in emails if per[e] == 2]
    assert len(twice) <= 1
    assert "envoi déjà commencé" in outputs[0]
    assert per["pivot@example.org"] >= 1     # the report (and who got it again, if anyone)
    status = pipeline.status(settings, MONTH)
    assert status.done, status.summary

"""Issue 15's « done when », end to end: the bounces of a month's send suspend exactly the
dead addresses, the next send skips them, and the pivot sees why.

December 2026 is sent (the sample); its real envelope senders (VERP) are where the bounce
mailbox gets the reports: two dead addresses (5.1.1), a full mailbox (4.2.2), a vacation
reply and a spam refusal (5.7.1). After ``process_bounces``, exactly the two dead ones are
suspended; sending again (the reprise of the same issue, then a new test issue) never
reaches them; ``suppressions`` and the app's page give the reason and the server's words.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.pipeline.bounces import process_bounces
from infolettre.pipeline.suppressions import bounces_of, list_suppressions, reason_label
from infolettre.settings.bounces import Bounces

MONTH = "2026-12"
NOW = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)

DSN = """\
From: MAILER-DAEMON@mx.example.net
To: {to}
Subject: Undelivered Mail Returned to Sender
Message-ID: <{mid}@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

This is the mail system at host mx.example.net.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {who}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {words}

--b--
"""
VACATION = """\
From: {who}
To: {to}
Subject: =?utf-8?q?R=C3=A9ponse_automatique_:_en_vacances?=
Auto-Submitted: auto-replied
Message-ID: <vacances@example.org>
Content-Type: text/plain; charset=utf-8

De retour le 4 janvier.
"""


def test_a_months_bounces_suspend_exactly_the_dead_and_the_next_send_skips_them(
        sample_here, monkeypatch):
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    box = sample_here.paths.donnees.parent / "rebonds"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    content = sample_here.paths.donnees.parent / "content"  # a copy: a month is added below
    shutil.copytree(sample_here.paths.contenu, content)
    settings = dataclasses.replace(
        sample_here, bounces=Bounces("example.org", maildir=box),
        paths=dataclasses.replace(sample_here.paths, contenu=content))
    clock = FixedClock(NOW)
    pipeline.approve(settings, MONTH, "Julie Roy", clock=clock)
    sent = []
    report, _problems = pipeline.send(settings, MONTH, clock=clock, progress=sent.append)
    assert report.complete and len(sent) >= 6
    envelope = {r.envelope.recipient: r.envelope.sender for r in sent}
    dead, (full, away, spam) = sorted(envelope)[:2], sorted(envelope)[2:5]
    reports = {
        "dead-0": DSN.format(to=envelope[dead[0]], who=dead[0], mid="d0", action="failed",
                             status="5.1.1", words="550 5.1.1 User unknown"),
        "dead-1": DSN.format(to=envelope[dead[1]], who=dead[1], mid="d1", action="failed",
                             status="5.1.1", words="550 5.1.1 No such mailbox"),
        "full": DSN.format(to=envelope[full], who=full, mid="f", action="delayed",
                           status="4.2.2", words="452 4.2.2 Mailbox full"),
        "spam": DSN.format(to=envelope[spam], who=spam, mid="s", action="failed",
                           status="5.7.1", words="554 5.7.1 Message refused as spam"),
        "away": VACATION.format(to=envelope[away], who=away),
    }
    for name, text in reports.items():
        (box / "new" / name).write_text(text, encoding="utf-8")

    read = process_bounces(settings, clock=clock)
    assert sorted(read.suspended) == sorted(dead)
    assert read.autoreplies == 1 and read.recorded == 4
    suspended = list_suppressions(settings)
    assert sorted(s.email for s in suspended) == sorted(dead)  # exactly the dead ones
    for s in suspended:  # the pivot sees why
        assert reason_label(s, settings) == "rebond définitif"
        assert "5.1.1" in s.diagnostic
        assert [r.code for r in bounces_of(settings, s.email)] == ["5.1.1"]

    # The next issue's send skips them.
    next_month = "2027-01"
    folder = settings.paths.contenu / next_month
    folder.mkdir(parents=True)
    (folder / "nouvelle.md").write_text(
        "---\ntitre: Nouvelle de janvier\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-12-20\nstatut: approuve\n---\nTexte.\n", encoding="utf-8")
    later = FixedClock(datetime(2027, 1, 5, 14, 0, tzinfo=UTC))
    pipeline.approve(settings, next_month, "Julie Roy", clock=later)
    again = []
    report, _problems = pipeline.send(settings, next_month, clock=later, progress=again.append)
    reached = {r.envelope.recipient for r in again}
    assert not reached & set(dead)
    assert {full, away, spam} <= reached  # a full mailbox, a vacation, a spam filter: kept
    assert report.suspended == 2

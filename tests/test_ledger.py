"""Delivery ledger: each recipient gets each edition once — never twice, never skipped."""

from __future__ import annotations

import asyncio
import csv
import inspect
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from infolettre import i18n
from infolettre.clock import FixedClock
from infolettre.deliver import DeliveryResult, Envelope, Outcome
from infolettre.deliver.ledger import Ledger, LedgerSender, RetryPolicy, State
from infolettre.deliver.outbox import OutboxSender, outbox_name
from infolettre.deliver.recipients import load_recipients
from infolettre.deliver.run import deliver_issue
from infolettre.errors import DeliveryError
from infolettre.models import COMPLETE, Edition, Issue, RenderedIssue
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings

from .conftest import REPO
from .test_outbox import rendered_edition

DATA = Path(__file__).parent / "data" / "recipients"
MONTH = "2026-12"
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)


def make_rendered() -> RenderedIssue:
    """Build a small issue: complete, bellechasse and les-etchemins editions."""
    placeholders = Placeholders()
    slugs = (COMPLETE, "bellechasse", "les-etchemins")
    issue = Issue(month=MONTH, parution=date(2026, 12, 3), items=(),
                  editions=tuple(Edition(slug=s, titre=s, sections=()) for s in slugs))
    return RenderedIssue(issue=issue, print_html="", placeholders=placeholders,
                         editions=tuple(rendered_edition(s, placeholders) for s in slugs))


def many_recipients(settings, copies: int):
    """Return the test list (5 email, 1 paper-only) repeated with distinct addresses."""
    found, problems = load_recipients(DATA / "outbox_list.csv", settings)
    assert problems == []
    if copies == 1:
        return found
    return [replace(r, email=f"n{i}.{r.email}") for i in range(copies) for r in found]


@pytest.fixture(scope="module")
def settings():
    return load_settings(DATA / "infolettre.toml")


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "data" / "infolettre.sqlite3") as opened:
        yield opened


class Clock(FixedClock):
    """A clock the test moves by hand (``clock.moment = …``), starting at T0."""

    def __init__(self, now: datetime = T0):
        super().__init__(now)


class ScriptedSender:
    """A sender answering from a script of (outcome, code, text), recording what it got."""

    concurrency = 1

    def __init__(self, *replies: tuple[Outcome, int | None, str]):
        self.replies = list(replies)
        self.seen: list[Envelope] = []

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, envelope: Envelope) -> DeliveryResult:
        self.seen.append(envelope)
        outcome, code, text = self.replies.pop(0)
        return DeliveryResult(envelope, outcome, text, code)


def envelope(address: str = "a@example.org", message_id: str = "<m1@example.org>") -> Envelope:
    return Envelope(sender="infolettre@example.org", recipient=address, month=MONTH,
                    edition=COMPLETE, message_id=message_id,
                    message=(f"Subject: t\r\nMessage-ID: {message_id}\r\nTo: {address}\r\n"
                             "\r\ncorps\r\n").encode())


def send(sender: LedgerSender, env: Envelope) -> DeliveryResult:
    return asyncio.run(sender.send(env))


def test_database_is_wal_durable_and_migrated_once(tmp_path):
    """The ledger opens in WAL with synchronous=NORMAL; reopening applies no migration twice."""
    path = tmp_path / "data" / "infolettre.sqlite3"
    with Ledger(path):
        pass
    with Ledger(path) as ledger:
        assert ledger.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert ledger.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert ledger.conn.execute("SELECT version FROM schema_versions WHERE component = "
                                   "'ledger'").fetchone()[0] == 2


def test_plan_is_idempotent_streamed_and_case_insensitive(ledger):
    """Planning again adds only new rows; a generator is consumed in batches; case is folded."""
    rows = ((f"p{i}@example.org", COMPLETE) for i in range(2500))
    assert ledger.plan(MONTH, rows) == 2500
    again = [(f"P{i}@Example.org", COMPLETE) for i in range(2500)] + [("new@example.org", "x")]
    assert ledger.plan(MONTH, again) == 1
    assert ledger.counts(MONTH) == {State.PENDING: 2501, State.SENT: 0, State.DEFERRED: 0,
                                    State.FAILED: 0, State.TRANSMITTED: 0}


def test_row_is_sent_only_after_the_sender_says_sent(ledger):
    """A started attempt is pending, a deferral is not done; only SENT marks it, for good."""
    ledger.plan(MONTH, [("a@example.org", COMPLETE)])
    claim = ledger.claim(MONTH, "a@example.org", COMPLETE, message_id="<m1@example.org>",
                         now=T0)
    assert claim.go and claim.attempt == 1
    assert ledger.get(MONTH, "a@example.org", COMPLETE).state is State.PENDING
    ledger.record(DeliveryResult(envelope(), Outcome.DEFERRED, "try later", 451), now=T0)
    assert not ledger.is_done(MONTH, "a@example.org", COMPLETE)
    ledger.record(DeliveryResult(envelope(), Outcome.SENT, "250 ok", 250), now=T0)
    assert ledger.is_done(MONTH, "A@example.org", COMPLETE)
    ledger.record(DeliveryResult(envelope(), Outcome.FAILED, "late 550", 550), now=T0)
    row = ledger.get(MONTH, "a@example.org", COMPLETE)
    assert (row.state, row.smtp_code, row.sent_at) == (State.SENT, 250, T0)


def test_deferred_backs_off_then_fails_after_max_attempts(ledger):
    """451 answers wait 60, 120, 240, 480, 960 s; the 6th fails with a French reason."""
    clock = Clock()
    inner = ScriptedSender(*[(Outcome.DEFERRED, 451, "4.7.1 réessayez")] * 6)
    sender = LedgerSender(inner, ledger, MONTH, clock=clock)
    waits = []
    for attempt in range(1, 7):
        result = send(sender, envelope(message_id=f"<try{attempt}@example.org>"))
        row = ledger.get(MONTH, "a@example.org", COMPLETE)
        assert row.attempts == attempt
        if attempt < 6:
            assert result.outcome is Outcome.DEFERRED and row.state is State.DEFERRED
            early = send(sender, envelope())  # before its time: the inner is not called
            assert early.outcome is Outcome.DEFERRED and len(inner.seen) == attempt
            waits.append((row.next_attempt_at - clock.moment).total_seconds())
            clock.moment = row.next_attempt_at
    assert waits == [60, 120, 240, 480, 960]
    assert result.outcome is Outcome.FAILED and result.code == 451
    assert RetryPolicy().delay(8) == timedelta(hours=1)
    assert row.state is State.FAILED and row.next_attempt_at is None
    assert "abandon après 6 tentatives" in row.reason and "451 4.7.1" in row.reason
    assert {e.message_id for e in inner.seen} == {"<try1@example.org>"}
    assert all(b"Message-ID: <try1@example.org>\r\n" in e.message for e in inner.seen)
    skipped = send(sender, envelope())
    assert skipped.outcome is Outcome.SKIPPED and "abandon" in skipped.detail
    assert len(inner.seen) == 6


def test_deferred_fails_once_the_total_time_is_used_up(ledger):
    """A message still refused more than 24 h after its first try is given up."""
    clock = Clock()
    sender = LedgerSender(ScriptedSender(*[(Outcome.DEFERRED, 421, "occupé")] * 2), ledger,
                          MONTH, clock=clock)
    send(sender, envelope())
    clock.moment = T0 + timedelta(hours=25)
    given_up = send(sender, envelope())
    assert given_up.outcome is Outcome.FAILED and "24 h" in given_up.detail
    row = ledger.get(MONTH, "a@example.org", COMPLETE)
    assert row.state is State.FAILED and "24 h" in row.reason and row.attempts == 2


def test_permanent_failure_is_final_and_reported_with_its_reason(ledger):
    """A 550 fails the row at once; later runs skip it with the reason, never calling out."""
    inner = ScriptedSender((Outcome.FAILED, 550, "5.1.1 boîte inconnue"))
    sender = LedgerSender(inner, ledger, MONTH, clock=Clock())
    assert send(sender, envelope()).outcome is Outcome.FAILED
    again = send(sender, envelope())
    assert again.outcome is Outcome.SKIPPED and "550 5.1.1 boîte inconnue" in again.detail
    ledger.record(again)  # a skip reported back never turns a failure into a success
    assert len(inner.seen) == 1
    assert [r.email for r in ledger.failures(MONTH)] == ["a@example.org"]
    assert ledger.counts(MONTH)[State.FAILED] == 1


def run_with_ledger(rendered, recipients, settings, root: Path, db: Path):
    with Ledger(db) as ledger:
        sender = LedgerSender(OutboxSender(root, MONTH), ledger, MONTH)
        report = deliver_issue(rendered, recipients, sender, settings)
        return report, ledger.counts(MONTH)


def test_second_run_through_the_real_outbox_sends_nothing_new(tmp_path, settings):
    """With the real outbox and deliver_issue, a second run skips everyone; counts are exact."""
    rendered, recipients = make_rendered(), many_recipients(settings, 1)
    db = tmp_path / "data" / "infolettre.sqlite3"
    report, counts = run_with_ledger(rendered, recipients, settings, tmp_path / "outbox", db)
    assert (report.sent, report.skipped, report.paper_only) == (5, 0, 1)
    before = {p: p.read_bytes() for p in (tmp_path / "outbox" / MONTH).iterdir()}
    report, counts = run_with_ledger(rendered, recipients, settings, tmp_path / "outbox", db)
    assert (report.sent, report.skipped, report.paper_only) == (0, 5, 1)
    assert counts == {State.SENT: 5, State.PENDING: 0, State.DEFERRED: 0, State.FAILED: 0,
                      State.TRANSMITTED: 0}
    assert {p: p.read_bytes() for p in (tmp_path / "outbox" / MONTH).iterdir()} == before
    with Ledger(db) as ledger:
        assert ledger.summary(MONTH) == "envoyés 5 / 5, en attente 0, échecs 0"


def test_outbox_file_written_before_the_ledger_knew_counts_as_sent(tmp_path, settings):
    """A file the outbox wrote before a kill (ledger not told) is recorded sent, not resent."""
    rendered, recipients = make_rendered(), many_recipients(settings, 1)
    deliver_issue(rendered, recipients, OutboxSender(tmp_path / "outbox", MONTH), settings)
    before = {p: p.read_bytes() for p in (tmp_path / "outbox" / MONTH).iterdir()}
    report, counts = run_with_ledger(rendered, recipients, settings, tmp_path / "outbox",
                                     tmp_path / "state.sqlite3")
    assert (report.sent, report.skipped) == (0, 5)
    assert counts[State.SENT] == 5 and sum(counts.values()) == 5
    assert {p: p.read_bytes() for p in (tmp_path / "outbox" / MONTH).iterdir()} == before


class SlowSender:
    """Log each call, wait 20 ms, then hand the message to the inner sender."""

    def __init__(self, inner, log: Path):
        self.inner, self.log = inner, log
        self.concurrency = inner.concurrency

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, envelope: Envelope) -> DeliveryResult:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(envelope.recipient + "\n")
        await asyncio.sleep(0.02)
        return await self.inner.send(envelope)


def child_send(args: list[str]) -> None:
    """Deliver the test issue to many recipients through a slow outbox (run in a subprocess)."""
    root, db, log, copies = Path(args[0]), Path(args[1]), Path(args[2]), int(args[3])
    i18n.activate("fr_CA")
    settings = load_settings(DATA / "infolettre.toml")
    with Ledger(db) as ledger:
        sender = LedgerSender(SlowSender(OutboxSender(root, MONTH), log), ledger, MONTH)
        report = deliver_issue(make_rendered(), many_recipients(settings, copies), sender,
                               settings)
    print(report.summary())


CHILD = "import sys; from tests.test_ledger import child_send; child_send(sys.argv[1:])"


def test_killed_mid_run_and_restarted_everyone_gets_exactly_one(tmp_path, settings):
    """SIGKILL in mid-send, then a restart: one file each, all sent, one message at most retried."""
    copies = 12
    recipients = [r for r in many_recipients(settings, copies) if r.wants_email]
    folder, db, log = tmp_path / "outbox" / MONTH, tmp_path / "state.sqlite3", tmp_path / "log"
    command = [sys.executable, "-c", CHILD, str(tmp_path / "outbox"), str(db), str(log),
               str(copies)]
    files = lambda: [p for p in folder.glob("*.eml")] if folder.is_dir() else []  # noqa: E731
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while len(files()) < 15:
        assert child.poll() is None, child.communicate()[1].decode()
        assert time.monotonic() < deadline, "the child sent nothing in 15 s"
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert len(files()) < len(recipients)
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in files()) == sorted(outbox_name(r.email) for r in recipients)
    calls = Counter(log.read_text(encoding="utf-8").split())
    assert set(calls) == {r.email for r in recipients}
    assert sum(1 for n in calls.values() if n > 1) <= 1  # only the one in flight at the kill
    with Ledger(db) as ledger:
        assert ledger.counts(MONTH) == {State.SENT: 60, State.PENDING: 0, State.DEFERRED: 0,
                                        State.FAILED: 0, State.TRANSMITTED: 0}


def test_summary_reads_like_the_pivot_expects(ledger):
    """« envoyés 4 812 / 5 000, en attente 150, échecs 38 », with French thousands spaces."""
    ledger.plan(MONTH, ((f"p{i:04}@example.org", COMPLETE) for i in range(5000)))
    ledger.conn.execute("UPDATE livraisons SET state = 'envoye' WHERE rowid <= 4812")
    ledger.conn.execute("UPDATE livraisons SET state = 'echec' WHERE rowid > 4962")
    ledger.conn.execute("UPDATE livraisons SET state = 'reporte' WHERE rowid > 4900 "
                        "AND rowid <= 4962")
    assert re.fullmatch("envoyés 4[\u00a0\u202f]812 / 5[\u00a0\u202f]000, en attente 150, "
                        "échecs 38", ledger.summary(MONTH))
    assert ledger.summary("2027-01") == "envoyés 0 / 0, en attente 0, échecs 0"


def test_failures_export_as_csv_with_french_headers_and_reasons(ledger, tmp_path):
    """The CSV of failures has French headers and says why each address failed."""
    clock = Clock()
    sender = LedgerSender(ScriptedSender((Outcome.FAILED, 550, "5.1.1 boîte inconnue"),
                                         *[(Outcome.DEFERRED, 451, "occupé")] * 6),
                          ledger, MONTH, clock=clock)
    send(sender, envelope("b@example.org"))
    for _n in range(6):
        send(sender, envelope("a@example.org"))
        clock.moment += timedelta(hours=1)
    out = tmp_path / "echecs.csv"
    assert ledger.export_failures_csv(MONTH, out) == 2
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:6] == ["courriel", "édition", "tentatives", "code SMTP",
                                 "réponse du serveur", "raison"]
    assert [(r["courriel"], r["code SMTP"]) for r in rows] == [("a@example.org", "451"),
                                                                ("b@example.org", "550")]
    assert rows[0]["raison"].startswith("abandon après 6 tentatives")
    assert rows[1]["raison"] == "refus définitif : 550 5.1.1 boîte inconnue"


# -- grouped verdicts (a sender with the 354 hook) -------------------------------------------

class HookedSender(ScriptedSender):
    """A scripted sender that calls ``before_content`` (as SMTP after a 354) unless told not.

    Each reply is (outcome, code, text, reaches_354).
    """

    before_content_hook = True

    async def send(self, envelope: Envelope, *, before_content=None) -> DeliveryResult:
        self.seen.append(envelope)
        outcome, code, text, reaches_354 = self.replies.pop(0)
        if reaches_354 and before_content is not None:
            pending = before_content()          # plain or async, as ``Sender`` allows
            if inspect.isawaitable(pending):
                await pending
        return DeliveryResult(envelope, outcome, text, code)


def committed(ledger: Ledger, email: str) -> tuple[str, int]:
    """Read a row's state and attempts through another connection: only what is committed."""
    import sqlite3
    with sqlite3.connect(ledger.path) as other:
        return other.execute("SELECT state, attempts FROM livraisons WHERE email = ?",
                             (email,)).fetchone()


def test_with_the_hook_the_claim_is_a_read_and_the_354_commit_counts_the_attempt(ledger):
    """check writes nothing; the 354 commits « transmis » with attempts + 1 in one go."""
    ledger.plan(MONTH, [("a@example.org", COMPLETE)])
    claim = ledger.check(MONTH, "a@example.org", COMPLETE, message_id="<m1@example.org>",
                         now=T0)
    assert claim.go and claim.attempt == 1 and claim.message_id == "<m1@example.org>"
    assert committed(ledger, "a@example.org") == ("en-attente", 0)
    ledger.mark_transmitted(MONTH, "a@example.org", COMPLETE, now=T0, claim=claim)
    assert committed(ledger, "a@example.org") == ("transmis", 1)
    row = ledger.get(MONTH, "a@example.org", COMPLETE)
    assert row.message_id == "<m1@example.org>" and row.first_attempt_at == T0


def test_verdict_after_the_354_waits_for_the_next_commit_and_never_allows_a_resend(ledger):
    """The SENT verdict of a « transmis » row is committed with the next 354 (or a read, or
    close); until then the row is still « transmis », never resent by a killed run."""
    ledger.plan(MONTH, [("a@example.org", COMPLETE), ("b@example.org", COMPLETE)])
    inner = HookedSender((Outcome.SENT, 250, "ok a", True), (Outcome.SENT, 250, "ok b", True))
    sender = LedgerSender(inner, ledger, MONTH, clock=Clock())
    assert send(sender, envelope("a@example.org")).outcome is Outcome.SENT
    assert committed(ledger, "a@example.org") == ("transmis", 1)    # a kill here: incertain
    assert send(sender, envelope("b@example.org", "<m2@example.org>")).outcome is Outcome.SENT
    assert committed(ledger, "a@example.org") == ("envoye", 1)      # went with b's 354
    assert committed(ledger, "b@example.org") == ("transmis", 1)
    assert ledger.counts(MONTH)[State.SENT] == 2                      # a read commits first
    assert committed(ledger, "b@example.org") == ("envoye", 1)


def test_waiting_verdicts_are_committed_at_close(tmp_path):
    """Closing the ledger (the end of ``pipeline.send``) commits every verdict waiting."""
    path = tmp_path / "state.sqlite3"
    with Ledger(path) as ledger:
        ledger.plan(MONTH, [("a@example.org", COMPLETE)])
        sender = LedgerSender(HookedSender((Outcome.SENT, 250, "ok", True)), ledger, MONTH)
        send(sender, envelope())
        assert committed(ledger, "a@example.org")[0] == "transmis"
    with Ledger(path) as again:
        assert again.get(MONTH, "a@example.org", COMPLETE).state is State.SENT


def test_grouped_deferral_and_refusal_before_354_keep_attempts_and_backoff(ledger):
    """A 4xx after the content (grouped) and a 4xx to RCPT (at once) both count the attempt
    and back off exactly as ``record`` does; retries used up turn into FAILED with reason."""
    ledger.plan(MONTH, [("a@example.org", COMPLETE), ("b@example.org", COMPLETE)])
    clock = Clock()
    inner = HookedSender((Outcome.DEFERRED, 451, "plus tard", True),
                         (Outcome.DEFERRED, 450, "boîte occupée", False))
    sender = LedgerSender(inner, ledger, MONTH, clock=clock)
    assert send(sender, envelope("a@example.org")).outcome is Outcome.DEFERRED
    assert committed(ledger, "b@example.org") == ("en-attente", 0)
    assert send(sender, envelope("b@example.org", "<m2@example.org>")).outcome is Outcome.DEFERRED
    assert committed(ledger, "b@example.org") == ("reporte", 1)      # at once, with attempt
    for email in ("a@example.org", "b@example.org"):
        row = ledger.get(MONTH, email, COMPLETE)
        assert (row.state, row.attempts, row.first_attempt_at) == (State.DEFERRED, 1, T0)
        assert row.next_attempt_at == T0 + timedelta(seconds=60)
        assert row.reason.startswith("refus temporaire")
    # the deferred row's next tries: the last one allowed fails it, with the reason
    policy_attempts = ledger.policy.max_attempts
    for _attempt in range(2, policy_attempts + 1):
        clock.moment = ledger.get(MONTH, "a@example.org", COMPLETE).next_attempt_at
        inner.replies.append((Outcome.DEFERRED, 451, "plus tard", True))
        result = send(sender, envelope("a@example.org"))
    assert result.outcome is Outcome.FAILED and "abandon après" in result.detail
    row = ledger.get(MONTH, "a@example.org", COMPLETE)
    assert (row.state, row.attempts) == (State.FAILED, policy_attempts)


def test_a_recipient_the_plan_missed_counts_one_attempt_through_the_hook(ledger):
    """A row first heard of at send time (the list edited during a send) counts its attempt
    once, whether the 354 came or not, as with a lock-step sender: never twice."""
    inner = HookedSender((Outcome.SENT, 250, "ok", True),
                         (Outcome.DEFERRED, 450, "occupé", False))
    sender = LedgerSender(inner, ledger, MONTH, clock=Clock())
    assert send(sender, envelope("a@example.org")).outcome is Outcome.SENT
    assert send(sender, envelope("b@example.org", "<m2@example.org>")).outcome is Outcome.DEFERRED
    assert ledger.get(MONTH, "a@example.org", COMPLETE).attempts == 1
    row = ledger.get(MONTH, "b@example.org", COMPLETE)
    assert (row.state, row.attempts, row.message_id) == (State.DEFERRED, 1, "<m2@example.org>")


def test_only_a_sender_that_declares_the_hook_is_sent_pipelined(ledger):
    """A sender taking ``**kwargs`` without declaring ``before_content_hook`` is lock-step:
    its attempt is committed before it is called, as for any sender without the hook."""
    from infolettre.deliver.dkim import DkimSender
    from infolettre.deliver.ledger import takes_before_content

    class Wrapper(ScriptedSender):
        async def send(self, envelope: Envelope, **kwargs) -> DeliveryResult:
            seen_before.append(committed(ledger, envelope.recipient))
            return await super().send(envelope)

    seen_before: list[tuple[str, int]] = []
    inner = Wrapper((Outcome.SENT, 250, "ok"))
    assert not takes_before_content(inner)
    assert not takes_before_content(DkimSender(inner, None))
    assert takes_before_content(DkimSender(HookedSender(), None))
    ledger.plan(MONTH, [("a@example.org", COMPLETE)])
    assert send(LedgerSender(inner, ledger, MONTH, clock=Clock()), envelope()).outcome \
        is Outcome.SENT
    assert seen_before == [("en-attente", 1)]      # claimed (lock-step), not merely read


def test_messages_at_their_354_in_the_same_turn_share_one_commit_made_before_any_content(
        ledger):
    """Group commit (``Table.commit_soon``): four connections reach their 354 together; one
    commit makes the four rows « transmis », with the verdict that was waiting; no content
    is written before its row is committed (read through another connection)."""
    emails = [f"{c}@example.org" for c in "abcde"]
    ledger.plan(MONTH, [(e, COMPLETE) for e in emails])
    statements: list[str] = []
    ledger.conn.set_trace_callback(statements.append)
    at_content: dict[str, tuple[str, int]] = {}

    class FourConnections(HookedSender):
        concurrency = 4

        async def send(self, envelope: Envelope, *, before_content=None) -> DeliveryResult:
            await asyncio.sleep(0)                   # the 354s arrive in the same turn
            await before_content()
            at_content[envelope.recipient] = committed(ledger, envelope.recipient)
            return DeliveryResult(envelope, Outcome.SENT, "ok", 250)

    sender = LedgerSender(FourConnections(), ledger, MONTH, clock=Clock())

    async def run() -> None:
        await sender.send(envelope(emails[0], "<m0@example.org>"))   # alone: its own commit
        await asyncio.gather(*(sender.send(envelope(e, f"<m{i}@example.org>"))
                               for i, e in enumerate(emails[1:], start=1)))

    asyncio.run(run())
    assert at_content == {e: ("transmis", 1) for e in emails}
    assert statements.count("COMMIT") == 2
    assert committed(ledger, emails[0]) == ("envoye", 1)   # its verdict went with the four
    assert ledger.counts(MONTH)[State.SENT] == 5


def test_a_row_moved_behind_the_senders_back_stops_only_its_own_message(ledger):
    """In a shared commit, a row another run already moved fails its own hook (nothing of it
    is sent) and the others of the commit go on."""
    ledger.plan(MONTH, [("a@example.org", COMPLETE), ("b@example.org", COMPLETE)])

    class TwoConnections(HookedSender):
        concurrency = 2
        contents: list[str] = []

        async def send(self, envelope: Envelope, *, before_content=None) -> DeliveryResult:
            if envelope.recipient == "a@example.org":   # another run sends it meanwhile
                ledger.conn.execute("UPDATE livraisons SET state = 'envoye' "
                                    "WHERE email = 'a@example.org'")
            await asyncio.sleep(0)
            await before_content()
            self.contents.append(envelope.recipient)
            return DeliveryResult(envelope, Outcome.SENT, "ok", 250)

    sender = LedgerSender(TwoConnections(), ledger, MONTH, clock=Clock())

    async def run() -> list:
        return await asyncio.gather(sender.send(envelope("a@example.org")),
                                    sender.send(envelope("b@example.org", "<m2@x>")),
                                    return_exceptions=True)

    first, second = asyncio.run(run())
    assert isinstance(first, DeliveryError) and "n'attendait pas" in str(first)
    assert second.outcome is Outcome.SENT and TwoConnections.contents == ["b@example.org"]

"""Delivery against real SMTP servers on loopback: injected faults, SIGKILL, exact counts.

Every test goes through the real path (``pipeline.send`` or the ``infolettre send`` command
in a subprocess, with an ``[smtp]`` table pointing at the sink) and counts what arrived at
the server itself: aiosmtpd (``sinks.CountingSink``, in this process) or Postfix's
``smtp-sink`` (``sinks.postfix_sink``). The promise checked: every deliverable recipient
received the edition exactly once; a row the ledger reports « incertain » (content handed to
the server by a run killed before its answer) at most once; permanent refusals are reported
with their reason and never retried.
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import aiosmtplib
import pytest

from infolettre import cli, pipeline
from infolettre.deliver import DeliveryResult, Envelope, Outcome
from infolettre.deliver.ledger import Ledger, State
from infolettre.deliver.smtp import SmtpSender
from infolettre.settings import SmtpConfig
from infolettre.models import COMPLETE
from infolettre.state import state_file

from .conftest import REPO
from .sinks import CountingSink, PostfixSink, counting_server, postfix_sink  # noqa: F401

MONTH = "2026-12"
ITEM = ("---\ntitre: Nouvelle\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-11-02\nstatut: approuve\n---\nTexte de la nouvelle.\n")
TERRITORIES = ("bellechasse", "les-appalaches", "les-etchemins", "lotbiniere", "montmagny",
               "regional")
#: Seed of the kill points; set INFOLETTRE_KILL_SEED to replay a failing run.
SEED = int(os.environ.get("INFOLETTRE_KILL_SEED", random.SystemRandom().randrange(10**6)))


# -- helpers -------------------------------------------------------------------------------

def smtp_project(project, port: int, emails: list[str], *, connexions: int = 4):
    """Write an approved issue, a recipient list and an ``[smtp]`` table; return settings."""
    project.write("item.md", ITEM)
    lines = ["courriel,nom,territoire,format,adresse_postale"]
    lines += [f"{e},Personne {i},{TERRITORIES[i % len(TERRITORIES)]},courriel,"
              for i, e in enumerate(emails)]
    (project.root / "recipients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open(project.config, "a", encoding="utf-8") as handle:
        handle.write(f'\n[smtp]\nhote = "127.0.0.1"\nport = {port}\nsecurite = "aucune"\n'
                     f"connexions = {connexions}\ndelai = 10\n")
    settings = project.settings()
    pipeline.approve(settings, MONTH, "Test")
    return settings


def database(settings) -> Path:
    return state_file(settings.paths.donnees)


def clock_moves_forward(db: Path, delta: timedelta) -> None:
    """Shift every recorded time of the ledger back by ``delta``: as if ``delta`` had passed."""
    conn = sqlite3.connect(db)
    try:
        columns = ("first_attempt_at", "last_attempt_at", "sent_at", "next_attempt_at")
        rows = conn.execute(f"SELECT rowid, {', '.join(columns)} FROM livraisons").fetchall()
        with conn:
            for rowid, *times in rows:
                shifted = [(datetime.fromisoformat(t) - delta).isoformat() if t else None
                           for t in times]
                conn.execute(f"UPDATE livraisons SET {', '.join(c + ' = ?' for c in columns)} "
                             "WHERE rowid = ?", (*shifted, rowid))
    finally:
        conn.close()


def cli_run(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out + err


def send_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "infolettre.cli", "--config", str(config), "send", MONTH]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "src"),
                                                      env.get("PYTHONPATH")]))
    return env


def kill_when(command: list[str], ready, *, timeout: float = 60.0,
              jitter: float = 0.0) -> None:
    """Start ``command``; SIGKILL it as soon as ``ready()`` is true (after ``jitter`` s)."""
    child = subprocess.Popen(command, cwd=REPO, env=child_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if child.poll() is not None:
                out, err = child.communicate()
                pytest.fail("the send finished before the kill point:\n"
                            + out.decode() + err.decode())
            assert time.monotonic() < deadline, "kill point not reached in time"
            time.sleep(0.002)
        if jitter:
            time.sleep(jitter)
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL


def run_to_end(command: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO, env=child_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def ledger_rows(db: Path) -> dict[str, tuple[State, str | None]]:
    """Return each recipient's (state, Message-ID) of the issue, as the ledger has them."""
    with Ledger(db) as ledger:
        return {row["email"]: (State(row["state"]), row["message_id"]) for row in
                ledger.conn.execute("SELECT email, state, message_id FROM livraisons "
                                    "WHERE month = ?", (MONTH,))}


def sent_count(db: Path) -> int:
    """Count the issue's sent rows, read beside the running sender (0 before it starts)."""
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return conn.execute("SELECT COUNT(*) FROM livraisons WHERE month = ? AND "
                                "state = 'envoye'", (MONTH,)).fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def assert_exactly_once(emails: list[str], received: Counter, db: Path) -> set[str]:
    """Each recipient received the ledger's Message-ID exactly once, « incertain » at most once.

    Returns the uncertain addresses. Also checks that the ledger has nothing else left.
    """
    rows = ledger_rows(db)
    assert set(rows) == set(emails)
    per_recipient: Counter[str] = Counter()
    for (rcpt, _mid), n in received.items():
        per_recipient[rcpt] += n
    uncertain = {e for e, (state, _mid) in rows.items() if state is State.TRANSMITTED}
    assert {state for state, _mid in rows.values()} <= {State.SENT, State.TRANSMITTED}
    for email in emails:
        mid = rows[email][1]
        if email in uncertain:
            assert per_recipient[email] <= 1, (email, per_recipient[email])
        else:
            assert per_recipient[email] == 1, (email, per_recipient[email])
            assert received[(email, mid)] == 1, (email, mid)
    assert set(per_recipient) <= set(emails)
    return uncertain


def expected_status(total: int, uncertain: int) -> str:
    """The status line expected once nothing is left (thousands spaced as ``normalize``)."""
    number = lambda n: f"{n:,}".replace(",", " ")  # noqa: E731
    text = f"envoyés {number(total - uncertain)} / {number(total)}, en attente 0, échecs 0"
    return text + (f", incertains {number(uncertain)}" if uncertain else "")


def normalize(text: str) -> str:
    """French thousands separators (narrow or no-break spaces) as plain spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


# -- the aiosmtplib internals smtp.py relies on ---------------------------------------------

def test_aiosmtplib_is_the_version_whose_data_command_smtp_py_replicates():
    """smtp.py drives DATA with aiosmtplib 5 internals: a new major version must fail here."""
    major = int(aiosmtplib.__version__.split(".")[0])
    assert major == 5, (
        f"aiosmtplib {aiosmtplib.__version__}: transaction._data replicates "
        "SMTPProtocol.execute_data_command of aiosmtplib 5 (pinned >=5,<6); re-read it and "
        "update _data before changing the pin")
    from aiosmtplib.protocol import SMTPProtocol

    source = __import__("inspect").getsource(SMTPProtocol.execute_data_command)
    for name in ("_command_lock", "_response_pending", "self.write(", "read_response(",
                 'b".\\r\\n"', "PERIOD_REGEX"):
        assert name in source, f"aiosmtplib changed execute_data_command: {name} is gone"
    assert callable(SMTPProtocol.write) and callable(SMTPProtocol.read_response)
    assert callable(aiosmtplib.email.parse_address)          # used by transaction.run_transaction
    assert aiosmtplib.SMTPStatus.start_input == 354


def _envelope(address: str) -> Envelope:
    mid = f"<{address}@test>"
    return Envelope(sender="infolettre@example.org", recipient=address, month=MONTH,
                    edition=COMPLETE, message_id=mid,
                    message=(f"Message-ID: {mid}\r\nSubject: t\r\n\r\n.point\r\nfin\r\n")
                    .encode())


def test_hook_runs_after_354_before_any_content_and_a_failing_hook_delivers_nothing():
    """before_content runs once the server said 354, before content; if it raises, nothing
    arrives, the error goes through, and the next message goes out on a new connection."""
    sink = CountingSink()
    seen: list[tuple[int, int]] = []

    async def hook() -> None:               # an async hook works as well as a plain one
        seen.append((sink.data_commands(), sink.total()))

    def failing() -> None:
        raise RuntimeError("registre indisponible")

    with counting_server(sink) as port:
        sender = SmtpSender(SmtpConfig("127.0.0.1", port=port, securite="aucune",
                                       connexions=1, delai=5))

        async def run() -> list[DeliveryResult]:
            await sender.open()
            try:
                first = await sender.send(_envelope("a@example.org"), before_content=hook)
                with pytest.raises(RuntimeError, match="registre indisponible"):
                    await sender.send(_envelope("b@example.org"), before_content=failing)
                return [first, await sender.send(_envelope("c@example.org"))]
            finally:
                await sender.close()

        results = asyncio.run(run())
    assert seen == [(1, 0)]        # DATA answered 354, nothing received yet
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert sink.per_recipient() == Counter(["a@example.org", "c@example.org"])
    assert sink.received()[("a@example.org", "<a@example.org@test>")] == 1
    assert sink.data_commands() == 3 and sink.sessions == 2


# -- the ledger side: migration, flushes, which senders get the hook ------------------------

def test_a_version_1_ledger_migrates_with_its_rows_and_accepts_transmis(tmp_path):
    """A ledger made before « transmis » existed is rebuilt in place: rows kept, new state ok."""
    from infolettre.deliver import ledger as ledger_module
    from infolettre.state import connect, migrate

    db = tmp_path / "infolettre.sqlite3"
    conn = connect(db)
    migrate(conn, ledger_module.COMPONENT, ledger_module.MIGRATIONS[:1])
    conn.execute("INSERT INTO livraisons (month, email, edition, state, attempts, message_id) "
                 "VALUES (?, 'a@example.org', ?, 'envoye', 1, '<m@x>')", (MONTH, COMPLETE))
    conn.execute("INSERT INTO livraisons (month, email, edition) VALUES (?, 'b@example.org', ?)",
                 (MONTH, COMPLETE))
    conn.close()
    with Ledger(db) as ledger:
        assert ledger.get(MONTH, "a@example.org", COMPLETE).message_id == "<m@x>"
        ledger.claim(MONTH, "b@example.org", COMPLETE, message_id="<b@x>")
        ledger.mark_transmitted(MONTH, "b@example.org", COMPLETE)
        assert ledger.counts(MONTH)[State.TRANSMITTED] == 1
        assert ledger.summary(MONTH) == ("envoyés 1 / 2, en attente 0, échecs 0, "
                                         "incertains 1")
        claim = ledger.claim(MONTH, "b@example.org", COMPLETE, message_id="<b2@x>")
        assert not claim.go and claim.outcome is Outcome.UNCERTAIN
        assert claim.detail.startswith("incertain : ")


def test_commits_skip_the_disk_flush_except_one_a_second(tmp_path, monkeypatch):
    """Commits run with synchronous=NORMAL; one every SYNC_EVERY seconds is made FULL."""
    from infolettre.deliver.ledger import table as ledger_module

    with Ledger(tmp_path / "infolettre.sqlite3") as ledger:
        assert ledger.conn.execute("PRAGMA synchronous").fetchone()[0] == 1   # NORMAL
        statements: list[str] = []
        ledger.conn.set_trace_callback(statements.append)
        ledger.plan(MONTH, [("a@example.org", COMPLETE)])
        assert not any("synchronous=FULL" in s for s in statements)
        monkeypatch.setattr(ledger_module, "SYNC_EVERY", 0.0)
        ledger.plan(MONTH, [("b@example.org", COMPLETE)])
        assert [s for s in statements if "synchronous" in s] == [
            "PRAGMA synchronous=FULL", "PRAGMA synchronous=NORMAL"]
        assert ledger.conn.execute("PRAGMA synchronous").fetchone()[0] == 1


def test_the_hook_reaches_smtp_through_wrappers_and_old_senders_are_called_as_before():
    """LedgerSender passes before_content to SMTP (also through the DKIM wrapper's **hooks);
    a sender whose send() has no such parameter is called without it."""
    from infolettre.deliver.dkim import DkimSender
    from infolettre.deliver.ledger import takes_before_content
    from infolettre.deliver.outbox import OutboxSender

    class OldSender:
        concurrency = 1

        async def send(self, envelope): ...

    smtp = SmtpSender(SmtpConfig("127.0.0.1", port=25, securite="aucune"))
    assert takes_before_content(smtp)
    assert takes_before_content(DkimSender(smtp, None))
    assert takes_before_content(OutboxSender(Path("/nonexistent"), MONTH))  # accepts, ignores
    assert not takes_before_content(OldSender())


# -- (1) injected faults through pipeline.send -----------------------------------------------

def test_421_451_and_a_cut_connection_are_retried_later_and_550_fails_for_good(
        project, capsys):
    """421 and 451 at RCPT, 451 after the content, a connection cut in the middle of DATA:
    deferred, then delivered once the backoff has passed; a 550 fails with its code and
    text in ``status --failed`` and the CSV, and is never tried again."""
    emails = [f"p{i}@example.org" for i in range(8)]
    sink = CountingSink(defer_once={"p1@example.org": "451 4.7.1 Réessayez plus tard",
                                    "p2@example.org": "421 4.3.2 Service fermé"},
                        drop_mid_data={"p3@example.org"},
                        refuse={"p4@example.org": "550 5.1.1 Boîte inconnue"},
                        reply_nth={3: "451 4.3.0 File d'attente pleine"})
    with counting_server(sink) as port:
        settings = smtp_project(project, port, emails, connexions=1)
        db = database(settings)
        report, _problems = pipeline.send(settings, MONTH)
        assert (report.sent, report.deferred, report.failed) == (3, 4, 1)
        assert sink.total() == 3
        with Ledger(db) as ledger:
            counts = ledger.counts(MONTH)
            assert (counts[State.SENT], counts[State.DEFERRED], counts[State.FAILED]) == (3, 4, 1)
            state, reason = ledger.conn.execute(
                "SELECT state, reason FROM livraisons WHERE email = 'p3@example.org'").fetchone()
            assert state == State.DEFERRED.value and "connexion perdue" in reason

        again, _problems = pipeline.send(settings, MONTH)   # too early: nothing is retried
        assert (again.sent, again.deferred, sink.total()) == (0, 4, 3)

        clock_moves_forward(db, timedelta(minutes=2))       # past the first 60 s backoff
        later, _problems = pipeline.send(settings, MONTH)
        assert (later.sent, later.deferred, later.skipped) == (4, 0, 4)

    deliverable = [e for e in emails if e != "p4@example.org"]
    assert sink.per_recipient() == Counter(deliverable)
    assert sink.rcpt_seen()["p4@example.org"] == 1          # the 550 was never retried
    assert {what for _a, what in sink.faults()} == {
        "451 4.7.1 Réessayez plus tard", "421 4.3.2 Service fermé", "coupure pendant DATA",
        "550 5.1.1 Boîte inconnue", "451 4.3.0 File d'attente pleine"}
    rows = ledger_rows(db)
    for email in deliverable:
        assert rows[email][0] is State.SENT
        assert sink.received()[(email, rows[email][1])] == 1

    config = ["--config", str(project.config)]
    out_csv = project.root / "echecs.csv"
    code, out = cli_run(capsys, *config, "status", MONTH, "--failed", "--csv", str(out_csv))
    assert code == 1
    assert "envoyés 7 / 8, en attente 0, échecs 1" in normalize(out)
    assert "p4@example.org" in out and "refus définitif : 550 5.1.1 Boîte inconnue" in out
    with open(out_csv, encoding="utf-8-sig", newline="") as handle:
        (failed,) = list(csv.DictReader(handle))
    assert (failed["courriel"], failed["code SMTP"]) == ("p4@example.org", "550")
    assert failed["réponse du serveur"] == "5.1.1 Boîte inconnue"


# -- (2) SIGKILL in the middle of DATA answers, aiosmtpd ------------------------------------

def test_uncertain_row_is_not_resent_is_reported_and_can_be_released(project, capsys):
    """Killed while the server holds its answer to a message it already has: the row is
    « incertain » — counted and explained by status, not resent — until released."""
    emails = ["a@example.org", "b@example.org", "c@example.org"]
    sink = CountingSink(hold_once={"b@example.org": 30.0})
    with counting_server(sink) as port:
        settings = smtp_project(project, port, emails, connexions=1)
        db = database(settings)
        command = send_command(project.config)
        kill_when(command, lambda: sink.per_recipient()["b@example.org"] == 1)
        assert ledger_rows(db)["b@example.org"][0] is State.TRANSMITTED

        done = run_to_end(command)
        assert done.returncode == 1 and "incertains 1" in done.stdout, done.stdout + done.stderr
        assert sink.per_recipient() == Counter(emails)        # b was not sent again
        config = ["--config", str(project.config)]
        code, out = cli_run(capsys, *config, "status", MONTH, "--failed")
        assert code == 1 and expected_status(3, 1) in normalize(out)
        assert "b@example.org (" in out and "incertain : " in out
        with Ledger(db) as ledger:
            (row,) = ledger.uncertain(MONTH)
            assert row.email == "b@example.org" and row.reason.startswith("incertain : ")
            assert f"infolettre send {MONTH} --renvoyer-incertains" in row.reason
            assert ledger.release_uncertain(MONTH, ["autre@example.org"]) == 0
        done = run_to_end(command + ["--renvoyer-incertains"])
        assert done.returncode == 0, done.stdout + done.stderr
    # The price of releasing, said in release_uncertain's docstring: b had it, b gets it again.
    assert sink.per_recipient() == Counter(emails + ["b@example.org"])
    assert ledger_rows(db)["b@example.org"][0] is State.SENT


def test_three_sigkills_then_a_full_run_every_recipient_exactly_once(project, capsys):
    """``infolettre send`` killed with SIGKILL at three random points of a 300-recipient run
    (the sink answers each message after 4 ms), then run to the end: each recipient got its
    Message-ID exactly once at the sink, « incertain » ones at most once; status is exact."""
    rng = random.Random(SEED)
    emails = [f"p{i:03}@example.org" for i in range(300)]
    sink = CountingSink(data_delay=0.004)
    with counting_server(sink) as port:
        settings = smtp_project(project, port, emails, connexions=4)
        db, command = database(settings), send_command(project.config)
        target = 0
        for _kill in range(3):
            target += rng.randint(25, 70)
            kill_when(command, lambda goal=target: sink.total() >= goal,
                      jitter=rng.uniform(0, 0.008))
        done = run_to_end(command)
    uncertain = assert_exactly_once(emails, sink.received(), db)
    assert done.returncode == (1 if uncertain else 0), done.stdout + done.stderr
    assert len(uncertain) <= 3 * 4, uncertain          # at most one per connection per kill
    code, out = cli_run(capsys, "--config", str(project.config), "status", MONTH)
    assert expected_status(300, len(uncertain)) in normalize(out), (SEED, out)
    assert code == (1 if uncertain else 0)
    print(f"seed {SEED}: {len(uncertain)} incertain(s), "
          f"{sum(sink.per_recipient()[e] for e in uncertain)} of them received")


# -- (3) 5,000 recipients to Postfix smtp-sink, one kill ------------------------------------

def test_five_thousand_to_postfix_smtp_sink_killed_once_then_resumed(
        project, capsys, postfix_sink: PostfixSink):  # noqa: F811 (the fixture, imported)
    """5,000 recipients over 4 connections to Postfix's smtp-sink, SIGKILL once mid-run, then
    resumed: counted in smtp-sink's dump, each recipient got its Message-ID exactly once
    (« incertain » ones at most once), and status gives the exact counts."""
    rng = random.Random(SEED)
    emails = [f"p{i:04}@example.org" for i in range(5000)]
    settings = smtp_project(project, postfix_sink.port, emails, connexions=4)
    db, command = database(settings), send_command(project.config)
    point = rng.randint(1500, 3500)
    kill_when(command, lambda: sent_count(db) >= point, jitter=rng.uniform(0, 0.01),
              timeout=90)
    done = run_to_end(command, timeout=180)
    received = postfix_sink.received()
    uncertain = assert_exactly_once(emails, received, db)
    assert done.returncode == (1 if uncertain else 0), done.stdout + done.stderr
    assert len(uncertain) <= 4
    code, out = cli_run(capsys, "--config", str(project.config), "status", MONTH)
    assert expected_status(5000, len(uncertain)) in normalize(out), (SEED, out)
    assert code == (1 if uncertain else 0)
    print(f"seed {SEED}: killed after {point} sent; {len(uncertain)} incertain(s)")

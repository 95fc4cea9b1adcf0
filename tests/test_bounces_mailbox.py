"""Bounces, the mailbox: real DSNs addressed to VERP addresses, an auto-reply, forged and
unrelated mail, through a Maildir and through a real Dovecot IMAP server; the CLI and the
scheduler's daily step."""

from __future__ import annotations

import dataclasses
import email
import email.policy
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infolettre import verp
from infolettre.calendar.steps import Occurrence, due, enabled_steps
from infolettre.cli import main
from infolettre.clock import FixedClock
from infolettre.deliver.ledger import Ledger
from infolettre.mailbox.imap import imap_utf7_encode
from infolettre.pipeline.bounces import process_bounces
from infolettre.pipeline.notices import notice_folder
from infolettre.pipeline.schedule_steps import ACTIONS
from infolettre.pipeline.suppressions import list_suppressions
from infolettre.settings.bounces import ENV_PASSWORD, Bounces
from infolettre.state import connect, state_file
from infolettre.state.bounces import BounceStore
from infolettre.state.secret import load_secret
from infolettre.state.steps import OK, StepStore

from .dovecot import DovecotServer, dovecot_server  # noqa: F401 - the fixture
from .dovecot import empty_mailbox, folder_messages, imap_client

DSN = Path(__file__).parent / "data" / "rebonds"
NOW = datetime(2027, 3, 9, 15, 0, tzinfo=UTC)
MONTH = "2027-03"
DEAD, FULL, POLICY = "morte@example.org", "pleine@example.org", "politique@example.org"

AUTOREPLY = b"""\
From: Marie Tremblay <marie@example.org>
To: {to}
Subject: =?utf-8?q?R=C3=A9ponse_automatique_=3A_Absence_du_bureau?=
Auto-Submitted: auto-replied
Message-ID: <absence-1@example.org>
Date: Tue, 9 Mar 2027 09:00:00 -0500
Content-Type: text/plain; charset=utf-8

Je suis en vacances jusqu'au 20 mars. Je vous r\xc3\xa9pondrai \xc3\xa0 mon retour.
"""
UNRELATED = b"""\
From: Paul Gagnon <paul@example.net>
To: rebonds@example.org
Subject: Question sur l'infolettre
Message-ID: <question-1@example.net>
Date: Tue, 9 Mar 2027 10:00:00 -0500
Content-Type: text/plain; charset=utf-8

Bonjour, comment publier une nouvelle dans le prochain num\xc3\xa9ro ?
"""


def with_verp(name: str, address: str | None) -> bytes:
    """A DSN of the corpus as the bounce mailbox gets it: Delivered-To its VERP address."""
    raw = (DSN / name).read_bytes()
    return (f"Delivered-To: {address}\n".encode() if address else b"") + raw


@pytest.fixture
def data(sample_here, monkeypatch):
    """The sample with [rebonds] (a Maildir), and the issue of March sent to three people."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    box = sample_here.paths.donnees.parent / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    settings = dataclasses.replace(sample_here, bounces=Bounces("example.org", maildir=box))
    with Ledger(state_file(settings.paths.donnees)) as ledger:
        ledger.plan(MONTH, [(p, "complete") for p in (DEAD, FULL, POLICY, "marie@example.org")])
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        conn.execute("UPDATE livraisons SET state = 'envoye'")
    return settings


def messages(settings) -> dict[str, bytes]:
    """The bounce mailbox's messages, by file name."""
    secret = load_secret(settings.paths.donnees)
    address = lambda who: verp.address(secret, who, MONTH, "rebonds", "example.org")  # noqa
    forged = address(DEAD)
    forged = forged[:-len("@example.org") - 1] + ("a" if forged[-13] != "a" else "b") \
        + "@example.org"
    return {
        "1-dead": with_verp("lhost-postfix-04.eml", address(DEAD)),
        "2-full": with_verp("lhost-postfix-08.eml", address(FULL)),
        "3-policy": with_verp("lhost-postfix-28.eml", address(POLICY)),
        "4-autoreply": AUTOREPLY.replace(b"{to}", address("marie@example.org").encode()),
        "5-unrelated": UNRELATED,
        "6-forged": with_verp("lhost-postfix-04.eml", forged).replace(
            b"20100524100650.7FE851AC10D", b"forged-1"),
        "7-no-verp": with_verp("lhost-postfix-04.eml", None).replace(
            b"20100524100650.7FE851AC10D", b"old-1"),
    }


def fill(maildir: Path, found: dict[str, bytes]) -> None:
    for name, raw in found.items():
        (maildir / "new" / name).write_bytes(raw)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name.split(":")[0]: p.read_bytes()
            for sub in ("new", "cur") for p in sorted((folder / sub).glob("*"))}


def check_outcome(settings, report) -> None:
    """What the seven messages must lead to, whichever mailbox they came from."""
    assert report.recorded == 3 and report.autoreplies == 1 and report.forged == 1
    assert report.suspended == [DEAD]
    assert len(report.to_review) == 3  # unrelated, forged, no VERP
    reasons = " ".join(reason for _label, reason in report.to_review)
    assert "jeton de retour invalide" in reasons and "pas devinée" in reasons
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        records = {r.email: r for r in BounceStore(conn).records(month=MONTH)}
    assert {e: r.kind for e, r in records.items()} == {
        DEAD: "definitif", FULL: "temporaire", POLICY: "a-verifier"}
    assert records[DEAD].code == "5.1.1" and len(records[DEAD].diagnostic) <= 500
    assert [s.email for s in list_suppressions(settings)] == [DEAD]
    assert "marie@example.org" not in records  # the vacation reply counts for nothing


def test_maildir_of_real_dsns(data):
    box = data.bounces.maildir
    sent = messages(data)
    fill(box, sent)
    report = process_bounces(data, clock=FixedClock(NOW))
    check_outcome(data, report)
    done, review = files(box / ".Traite"), files(box / ".A-verifier")
    assert set(done) == {"1-dead", "2-full", "3-policy", "4-autoreply"}
    assert set(review) == {"5-unrelated", "6-forged", "7-no-verp"}
    assert done["4-autoreply"] == sent["4-autoreply"]  # moved byte for byte
    assert review["5-unrelated"].endswith(sent["5-unrelated"])  # only a reason header added
    assert review["5-unrelated"].startswith(b"X-Infolettre-Raison:")
    assert not files(box)  # the inbox is empty, nothing else was touched
    # read again (the messages put back in the inbox): nothing is counted twice
    fill(box, {k: v for k, v in sent.items() if k.startswith(("1", "2"))})
    again = process_bounces(data, clock=FixedClock(NOW))
    assert again.recorded == 0 and again.suspended == []


def test_retention_runs_at_each_reading(data):
    fill(data.bounces.maildir, {k: v for k, v in messages(data).items() if k == "2-full"})
    process_bounces(data, clock=FixedClock(NOW))
    later = FixedClock(NOW.replace(year=2028, month=6))
    assert process_bounces(data, clock=later).purged == 1


# -- the real IMAP server ---------------------------------------------------------------------

def _folder(server: DovecotServer, name: str) -> list[bytes]:
    return folder_messages(server, f'"{imap_utf7_encode(name)}"')


@pytest.fixture
def imap_box(dovecot_server: DovecotServer):  # noqa: F811
    """The test user's mailbox, emptied (every folder but INBOX removed)."""
    empty_mailbox(dovecot_server)
    return dovecot_server


def test_real_imap_server(data, imap_box):
    settings = dataclasses.replace(data, bounces=dataclasses.replace(
        data.bounces, maildir=None, imap_hote=imap_box.host, imap_port=imap_box.port,
        imap_utilisateur=imap_box.user))
    client = imap_client(imap_box)
    try:
        for raw in messages(settings).values():
            assert client.append("INBOX", None, None, raw.replace(b"\n", b"\r\n"))[0] == "OK"
    finally:
        client.logout()
    report = process_bounces(settings, clock=FixedClock(NOW), plain_loopback=True,
                             environ={ENV_PASSWORD: imap_box.password})
    check_outcome(settings, report)
    assert _folder(imap_box, "INBOX") == []
    assert len(_folder(imap_box, "Traité")) == 4
    review = _folder(imap_box, "À vérifier")
    assert len(review) == 3 and all(m.startswith(b"X-Infolettre-Raison:") for m in review)


# -- the command and the scheduler ------------------------------------------------------------

def config_with_rebonds(tmp_path: Path, data) -> Path:
    """The sample configuration in tmp_path (its data/ is ``data``'s), with [rebonds]."""
    from .conftest import Project

    project = Project(tmp_path)
    assert project.settings().paths.donnees == data.paths.donnees
    with project.config.open("a", encoding="utf-8") as config:
        config.write(f'\n[rebonds]\nmaildir = "{data.bounces.maildir.as_posix()}"\n')
    return project.config


def test_cli_rebonds_suppressions_reactiver(data, tmp_path, capsys):
    config = config_with_rebonds(tmp_path, data)
    fill(data.bounces.maildir, messages(data))
    clock = FixedClock(NOW)
    code = main(["--config", str(config), "rebonds"], clock=clock)
    out = capsys.readouterr().out
    assert code == 1  # messages wait in « À vérifier »
    assert "Rebonds : 3 enregistré(s)" in out and f"suspendue : {DEAD}" in out
    assert main(["--config", str(config), "suppressions", "--csv",
                 str(tmp_path / "s.csv")], clock=clock) == 0
    out = capsys.readouterr().out
    assert f"{DEAD} : rebond définitif, depuis le mardi 9 mars 2027 (numéro {MONTH})" in out
    assert (tmp_path / "s.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert main(["--config", str(config), "status", MONTH], clock=clock) in (0, 1)
    out = capsys.readouterr().out
    assert "rebonds : définitifs 1, temporaires 1, à vérifier 1 ; adresses suspendues 1" in out
    assert main(["--config", str(config), "reactiver", DEAD, "--par", "Julie"],
                clock=clock) == 0
    assert "est réactivée" in capsys.readouterr().out
    assert main(["--config", str(config), "reactiver", DEAD], clock=clock) == 2
    assert "déjà été réactivée" in capsys.readouterr().err
    assert main(["--config", str(config), "suppressions"], clock=clock) == 0
    assert "Aucune adresse suspendue." in capsys.readouterr().out
    assert main(["--config", str(config), "suspendre", "Paul@Example.org", "--par", "Julie",
                 "--note", "rebond sans jeton lu le 9 mars"], clock=clock) == 0
    assert "paul@example.org est suspendue" in capsys.readouterr().out
    assert main(["--config", str(config), "suppressions"], clock=clock) == 0
    assert ("paul@example.org : suspendue à la main, depuis le mardi 9 mars 2027 (numéro —) — "
            "suspendue par Julie : rebond sans jeton lu le 9 mars") in capsys.readouterr().out
    assert main(["--config", str(config), "suspendre", "pas une adresse"], clock=clock) == 2


def test_the_daily_step(data):
    assert "rebonds" in enabled_steps(data)
    without = dataclasses.replace(data, bounces=None)
    assert "rebonds" not in enabled_steps(without)
    at_seven = datetime(2027, 3, 9, 12, 0, tzinfo=UTC)  # 7 h in Montréal (EST)
    assert [o.step for o in due(data, "rebonds", at_seven)] == ["rebonds"]
    fill(data.bounces.maildir, {k: v for k, v in messages(data).items() if k == "1-dead"})
    occurrence = Occurrence(at_seven, "rebonds", "continu")
    with closing(connect(state_file(data.paths.donnees))) as conn:
        store = StepStore(conn)
        status, text = ACTIONS["rebonds"](data, occurrence, store, FixedClock(at_seven))
        assert status == OK and "1 adresse(s) suspendue(s)" in text
        told = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                for p in notice_folder(data).rglob("*.eml")]
        assert len(told) == 1 and "1 adresse(s) suspendue(s)" in told[0]["Subject"]
        assert f"- {DEAD} (rebond définitif, numéro {MONTH} : 550 5.1.1" in \
            told[0].get_body(("plain",)).get_content()
        # without a mailbox: quiet, nothing read, no notice
        quiet = dataclasses.replace(data, bounces=Bounces("example.org"))
        status, text = ACTIONS["rebonds"](quiet, occurrence, store, FixedClock(at_seven))
        assert status == OK and "aucune boîte" in text
        status, text = ACTIONS["rebonds"](data, occurrence, store, FixedClock(at_seven))
        assert "0 adresse(s) suspendue(s)" in text  # nothing new: no second notice
        assert len(list(notice_folder(data).rglob("*.eml"))) == 1


def test_cli_without_rebonds_says_what_to_write(project, capsys):
    code = main(["--config", str(project.config), "rebonds"], clock=FixedClock(NOW))
    err = capsys.readouterr().err
    assert code == 2 and "la table [rebonds] est absente" in err
    assert "Pour corriger" in err and "infolettre.toml" in err
    assert main(["--config", str(project.config), "suppressions"],
                clock=FixedClock(NOW)) == 0  # no state yet: nothing suspended, nothing made
    assert "Aucune adresse suspendue." in capsys.readouterr().out
    assert not (project.root / "data").exists()


TWO_RECIPIENTS = """\
From: MAILER-DAEMON@mx.example.org
To: {to}
Subject: Delivery Status Notification
Message-ID: <dsn-deux@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Delivery is delayed for one recipient; another one failed.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; autre@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

Final-Recipient: rfc822; {who}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

--b--
"""


def test_a_report_listing_others_counts_the_failure_of_the_verp_recipient(data):
    """An alias expanded, a copy: the report names another address too. The one the VERP
    address names is counted with its own failure, never another's (a full mailbox is not
    a dead address)."""
    secret = load_secret(data.paths.donnees)
    to = verp.address(secret, FULL, MONTH, "rebonds", "example.org")
    fill(data.bounces.maildir, {"deux": TWO_RECIPIENTS.format(to=to, who=FULL).encode()})
    report = process_bounces(data, clock=FixedClock(NOW))
    assert report.recorded == 1 and report.suspended == []
    with closing(connect(state_file(data.paths.donnees))) as conn:
        [record] = BounceStore(conn).records(month=MONTH)
    assert (record.email, record.kind, record.code) == (FULL, "temporaire", "4.2.2")

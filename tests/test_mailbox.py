"""The one mailbox runner: every message screened, handled, filed by its result, never lost.

Real Maildir folders in tmp_path (stdlib ``mailbox.Maildir``) read by ``MaildirFolder``,
and a handler that records what it is given; a source kept in memory only where a server's
refusal or a lost connection is the case (``ListSource``). Then what the runner serves: the
intake announcing each item written (``events.item_written``, subscribed for the run only)
and the pipeline's actions ``gather_mail`` (acknowledgments through ``[smtp]``) and
``unsubscribe_requests``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import mailbox as maildirs
import sqlite3
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.events import item_written
from infolettre.gather.intake import process_maildir
from infolettre.mailbox import (REASON_HEADER, MaildirFolder, Message, MessageProblem,
                                each_message, with_reason)
from infolettre.unsubscribe import UnsubscribeStore, make_token

from .sinks import CountingSink, counting_server
from .test_intake import DELIVERED_AT, deliver, sample
from .test_mail_limits import folded_subject

DELEGATE = "info@cdc-etchemins.example.org"


@dataclass(frozen=True)
class Said:
    """A test handler's result: done, or for review with ``reason``."""

    reason: str = ""

    @property
    def filed_for_review(self) -> bool:
        return bool(self.reason)


class Recorder:
    """A handler that records the bytes it is given and raises where told (``fail``)."""

    def __init__(self, fail: dict[bytes, BaseException] | None = None,
                 archive_to: Path | None = None):
        self.fail, self.archive_to = fail or {}, archive_to
        self.taken: list[bytes] = []
        self.refused: list[str] = []

    def take(self, message: Message) -> Said:
        self.taken.append(message.raw)
        for marker, exc in self.fail.items():
            if marker in message.raw:
                raise exc
        return Said()

    def refuse(self, message: Message, reason: str) -> Said:
        self.refused.append(reason)
        return Said(reason)


def mail(tag: str) -> bytes:
    return (f"From: info@cdc-etchemins.example.org\nTo: infolettre@example.org\n"
            f"Subject: Message {tag}\nMessage-ID: <{tag}@example.org>\n\nBonjour {tag}.\n"
            ).encode()


def maildir(tmp_path: Path, *raws: bytes) -> Path:
    folder = tmp_path / "Maildir"
    box = maildirs.Maildir(folder, create=True)
    for raw in raws:
        box.add(raw)
    return folder


def files(root: Path, folder: str = "") -> list[bytes]:
    base = root / f".{folder}" if folder else root
    return [p.read_bytes() for sub in ("new", "cur") for p in sorted((base / sub).iterdir())]


def run(root: Path, handler: Recorder) -> list:
    source = MaildirFolder(root, fix="--maildir")
    try:
        return list(each_message(source, handler))
    finally:
        source.close()


# -- the runner's contract --------------------------------------------------------------------

def test_a_handler_that_crashes_sends_the_message_to_a_verifier_with_the_reason(tmp_path):
    """A handler raising on one message (a bug): that message goes to « A-verifier » with
    the error in its reason header, the next one is done; nothing is lost."""
    root = maildir(tmp_path, mail("panne"), mail("ensuite"))
    handled = run(root, Recorder({b"panne": RuntimeError("panne simulée")}))
    assert [(h.result.filed_for_review, h.folder) for h in handled] == [
        (True, "A-verifier"), (False, "Traite")]
    [kept] = files(root, "A-verifier")
    reason = str(message_from_bytes(kept, policy=policy.default)[REASON_HEADER])
    assert "RuntimeError: panne simulée" in reason and "remettez-le" in reason
    assert kept.endswith(mail("panne"))
    assert files(root) == [] and files(root, "Traite") == [mail("ensuite")]


def test_a_failure_of_the_surroundings_leaves_the_message_for_the_next_run(tmp_path):
    """A locked database (any SQLite, OS or infolettre error) is not the message's fault:
    it stays in the inbox, reported, the others go on, and the next run takes it."""
    root = maildir(tmp_path, mail("verrou"), mail("ensuite"))
    locked = sqlite3.OperationalError("database is locked")
    first = run(root, Recorder({b"verrou": locked}))
    assert [h.left for h in first] == [True, False]
    assert "database is locked" in first[0].problem and first[0].folder is None
    assert files(root) == [mail("verrou")] and files(root, "A-verifier") == []
    again = run(root, Recorder())
    assert [(h.left, h.folder) for h in again] == [(False, "Traite")]
    assert files(root) == [] and len(files(root, "Traite")) == 2


def test_the_raw_bytes_are_archived_before_the_handler_reads_them(tmp_path):
    """With an ``archive_to`` folder, the bytes are on disk before the handler runs, so a
    crash loses nothing; without one, nothing is archived."""
    raw = mail("archive")
    digest = hashlib.sha256(raw).hexdigest()
    path = tmp_path / "archive" / digest[:2] / f"{digest}.eml"

    class Checks(Recorder):
        def take(self, message: Message) -> Said:
            assert path.read_bytes() == message.raw == raw
            raise RuntimeError("après l'archive")

    root = maildir(tmp_path, raw)
    [handled] = run(root, Checks(archive_to=tmp_path / "archive"))
    assert handled.folder == "A-verifier" and path.is_file()


def test_a_message_too_big_to_parse_is_refused_unread(tmp_path):
    """A Subject folded over 3,300 lines is measured, not parsed: the handler never sees it,
    the reason goes with it to « A-verifier »; the next message is taken."""
    root = maildir(tmp_path, folded_subject(), mail("normal"))
    handler = Recorder()
    handled = run(root, handler)
    assert [h.folder for h in handled] == ["A-verifier", "Traite"]
    assert handler.taken == [mail("normal")]
    [reason] = handler.refused
    assert "Subject" in reason and "démesurés" in reason


def test_a_reason_left_by_an_earlier_run_is_dropped_never_doubled(tmp_path):
    """A message put back from « A-verifier » is read as it first arrived: the handler never
    sees the old reason; filed again, it carries only the new one; done, none."""
    root = maildir(tmp_path, with_reason(mail("retour"), "ancienne raison"),
                   with_reason(mail("fini"), "ancienne raison"))
    handler = Recorder({b"retour": RuntimeError("nouvelle raison")})
    run(root, handler)
    assert handler.taken == [mail("retour"), mail("fini")]
    [kept] = files(root, "A-verifier")
    assert kept.count(REASON_HEADER.encode()) == 1 and b"nouvelle raison" in kept
    assert files(root, "Traite") == [mail("fini")]


class ListSource:
    """Messages kept in memory; ``refuse_filing`` and ``lose_at`` play a server's part."""

    def __init__(self, raws: list[bytes], *, refuse_filing: bytes = b"", lose_at: int = -1):
        self.raws, self.refuse_filing, self.lose_at = raws, refuse_filing, lose_at
        self.filed: dict[int, str] = {}

    def keys(self) -> list[int]:
        return list(range(len(self.raws)))

    def label(self, key: int) -> str:
        return f"n°{key}"

    def fetch(self, key: int) -> Message:
        if key == self.lose_at:
            raise OSError("connexion perdue")
        return Message(key, self.label(key), self.raws[key])

    def file_done(self, message: Message) -> str:
        if self.refuse_filing and self.refuse_filing in message.raw:
            raise MessageProblem("déplacement refusé par le serveur")
        self.filed[message.key] = "done"
        return "done"

    def file_for_review(self, message: Message, raw: bytes | None) -> str:
        self.filed[message.key] = "review"
        return "review"


def test_a_filing_the_source_refuses_is_reported_and_the_others_go_on():
    """The server refuses to move one message: its result is kept, the problem reported,
    the message not filed (the next run finds it done); the next one is filed."""
    source = ListSource([mail("refus"), mail("ensuite")], refuse_filing=b"refus")
    handled = list(each_message(source, Recorder()))
    assert [(h.left, h.folder, h.problem) for h in handled] == [
        (False, None, "déplacement refusé par le serveur"), (False, "done", "")]
    assert source.filed == {1: "done"}


def test_a_source_that_fails_stops_the_run_after_what_was_done():
    """A lost connection stops the run; what was handled before it was already given out."""
    source = ListSource([mail("un"), mail("deux"), mail("trois")], lose_at=1)
    seen = []
    with pytest.raises(OSError, match="connexion perdue"):
        for handled in each_message(source, Recorder()):
            seen.append(handled)
    assert [h.folder for h in seen] == ["done"] and source.filed == {0: "done"}


# -- what the runner serves -------------------------------------------------------------------

def test_item_written_is_heard_only_for_the_run_and_its_project(settings, tmp_path):
    """Each item written is announced with the project's settings as sender: a subscriber of
    that project hears it and its changes reach the report; another project's does not;
    nothing stays connected after the run (the acknowledgment included)."""
    heard, other = [], []
    settings = dataclasses.replace(settings, mail_intake=dataclasses.replace(
        settings.mail_intake, accuse_reception=False))  # the only change is the listener's

    def listener(project, *, result, **_kw):
        heard.append(result.path)
        return {"ack_problem": "noté par le test"}

    root = tmp_path / "Maildir"
    deliver(maildirs.Maildir(root, create=True), sample("key_lines"))
    with item_written.connected_to(listener, sender=settings), \
            item_written.connected_to(lambda *a, **k: other.append(a),
                                      sender=dataclasses.replace(settings)):
        report = process_maildir(settings, root, clock=FixedClock(DELIVERED_AT))
    [result] = report.results
    assert heard == [result.path] and other == []
    assert result.ack_problem == "noté par le test"
    assert not item_written.receivers


def test_gather_mail_acknowledges_through_the_configured_smtp_server(project, tmp_path):
    """``pipeline.gather_mail`` gives the acknowledgment the sender of ``[smtp]``: the reply
    reaches the SMTP server, none is written in accuses/."""
    sink = CountingSink()
    with counting_server(sink) as port:
        with open(project.config, "a", encoding="utf-8") as handle:
            handle.write(f'\n[smtp]\nhote = "127.0.0.1"\nport = {port}\nsecurite = "aucune"\n')
        settings = project.settings()
        root = tmp_path / "Maildir"
        deliver(maildirs.Maildir(root, create=True), sample("delegate_latin1_photo_pdf"))
        report = pipeline.gather_mail(settings, maildir=root, clock=FixedClock(DELIVERED_AT))
    [result] = report.results
    assert result.kind == "item" and result.ack_sent and not result.ack_problem
    assert sink.per_recipient() == {DELEGATE: 1}
    assert not (settings.paths.donnees / "accuses").exists()


def test_an_unreadable_dkim_key_costs_the_acknowledgment_never_the_item(settings, tmp_path):
    """The reply's sender is made for each reply: a DKIM key that cannot be read is reported
    on that reply; the item is written and the message filed as done."""
    from infolettre.settings import Dkim

    (tmp_path / "cle.pem").write_text("pas une clé\n", encoding="utf-8")
    signed = dataclasses.replace(settings, dkim=Dkim("s1", "example.org", tmp_path / "cle.pem"))
    root = tmp_path / "Maildir"
    deliver(maildirs.Maildir(root, create=True), sample("delegate_latin1_photo_pdf"))
    report = pipeline.gather_mail(signed, maildir=root, clock=FixedClock(DELIVERED_AT))
    [result] = report.results
    assert result.kind == "item" and result.path.is_file() and not result.ack_sent
    assert "non envoyé" in result.ack_problem
    assert files(root, "Traite") and not files(root, "A-verifier")


def test_unsubscribe_requests_come_through_the_runner(settings, tmp_path, monkeypatch):
    """``pipeline.unsubscribe_requests`` reads the Maildir of ``[desabonnement]``; a request
    the database cannot record is left in the inbox, said in the summary, taken next time."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    root = maildir(tmp_path)
    settings = dataclasses.replace(settings, unsubscribe=dataclasses.replace(
        settings.unsubscribe, maildir=root))
    from infolettre.unsubscribe import load_secret

    token = make_token(load_secret(settings.paths.donnees), "marie.cote@example.net")
    maildirs.Maildir(root).add(mail(f"desabonnement {token}").replace(b"Message ", b""))

    def locked(self, email, source):
        raise sqlite3.OperationalError("database is locked")

    with monkeypatch.context() as patch:
        patch.setattr(UnsubscribeStore, "add", locked)
        report = pipeline.unsubscribe_requests(settings)
    assert report.unsubscribed == 0 and len(report.left) == 1
    assert "laissé(s) dans la boîte de réception" in report.summary()
    assert len(files(root)) == 1
    again = pipeline.unsubscribe_requests(settings)
    assert (again.unsubscribed, again.left, again.to_review) == (1, [], [])
    assert files(root) == [] and len(files(root, "Traite")) == 1


def test_maildir_messages_are_read_in_their_order_of_arrival(tmp_path):
    """Maildir names carry the microseconds without leading zeros: « .M5000 » (5 ms) came
    before « .M10000 » in the same second, though a plain sort of the names says otherwise."""
    root = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    names = ["1733400000.M5000P12Q1.hote", "1733400000.M10000P12Q2.hote",
             "1733400001.M20P12Q3.hote", "sans-date"]
    for name in reversed(names):
        (root / "new" / name).write_bytes(mail(name))
    assert [p.name for p in MaildirFolder(root, fix="--maildir").keys()] == names

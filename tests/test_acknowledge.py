"""Acknowledgments: a known delegate gets one short French reply per item; nobody else does.

Real Maildir folders in tmp_path (as in test_intake); with no [smtp], replies are ``.eml``
files in ``accuses/`` of the data folder, read back with the stdlib parser.
"""

from __future__ import annotations

import dataclasses
import mailbox as maildirs
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from infolettre.clock import FixedClock
from infolettre.deliver import DeliveryResult, Outcome
from infolettre.gather import acknowledge as ack
from infolettre.gather.intake import process_maildir
from infolettre.state import connect, state_file

from .dovecot import dovecot_server  # noqa: F401 - the fixture
from .test_imap import (
    append,
    intake_settings,  # noqa: F401 - the fixture
    mailbox,  # noqa: F401 - the fixture (an emptied Dovecot mailbox)
    run,
)
from .test_intake import DELIVERED_AT, deliver, sample

DELEGATE = "info@cdc-etchemins.example.org"


def inbox(tmp_path: Path, *raws: bytes) -> Path:
    folder = tmp_path / "Maildir"
    box = maildirs.Maildir(folder, create=True)
    for raw in raws:
        deliver(box, raw)
    return folder


def replies(settings) -> list:
    folder = ack.ack_outbox(settings)
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]


def variant(n: int) -> bytes:
    """The delegate's sample with its own Message-ID and subject."""
    raw = sample("delegate_latin1_photo_pdf")
    return raw.replace(b"<delegate_latin1_photo_pdf@example.org>",
                       f"<envoi-{n}@example.org>".encode()) \
        .replace(b"Subject: Ouverture d'un frigo communautaire",
                 f"Subject: Nouvelle numero {n}".encode())


def test_known_sender_gets_exactly_one_acknowledgment(settings, tmp_path):
    """One reply, RFC 3834 headers, French text intact; polling again sends nothing more."""
    maildir = inbox(tmp_path, sample("delegate_latin1_photo_pdf"))
    report = process_maildir(settings, maildir, clock=FixedClock(DELIVERED_AT))
    [result] = report.results
    assert result.kind == "item" and result.ack_sent and not result.ack_problem
    assert "Accusés de réception envoyés : 1." in report.summary()
    [reply] = replies(settings)
    assert reply["From"] == settings.identity.expediteur
    assert reply["To"].addresses[0].addr_spec == DELEGATE
    assert reply["Subject"] == "Reçu : Ouverture d'un frigo communautaire"
    assert reply["In-Reply-To"] == "<delegate_latin1_photo_pdf@example.org>"
    assert reply["References"] == "<delegate_latin1_photo_pdf@example.org>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["Message-ID"].endswith("@example.org>") and reply["Date"] is not None
    assert reply.get_content_type() == "text/plain"
    text = reply.get_content().replace("\r\n", "\n")  # wire-ready: CRLF on disk
    assert text.startswith("Bonjour,\n")
    assert ("Votre nouvelle « Ouverture d'un frigo communautaire » a bien été reçue pour le "
            "numéro de décembre 2026 (parution prévue le mardi 1er décembre 2026). L'équipe la "
            "relira avant publication.") in " ".join(text.split())
    assert text.rstrip().endswith("— Le Fil régional")
    assert "\ufffd" not in text and "Ã" not in text

    deliver(maildirs.Maildir(maildir, create=False), sample("delegate_latin1_photo_pdf"))
    again = process_maildir(settings, maildir)
    assert [r.kind for r in again.results] == ["duplicate"]
    assert len(replies(settings)) == 1


def test_stranger_automatic_and_spoofed_mail_get_no_acknowledgment(settings, tmp_path):
    """Unknown sender (held), out-of-office, Auto-Submitted, dmarc=fail: no reply at all."""
    names = ("unknown_sender", "out_of_office_absent", "auto_submitted",
             "forged_known_dmarc_fail")
    report = process_maildir(settings, inbox(tmp_path, *(sample(n) for n in names)))
    assert len(report.results) == 4
    assert not any(r.ack_sent or r.ack_problem for r in report.results)
    assert replies(settings) == []


def test_at_most_three_acknowledgments_per_sender_per_day(settings, tmp_path):
    """The 4th item of the day from one address is written, but gets no reply."""
    report = process_maildir(settings, inbox(tmp_path, *(variant(n) for n in range(4))))
    assert [r.kind for r in report.results] == ["item"] * 4
    assert [r.ack_sent for r in report.results] == [True, True, True, False]
    assert not any(r.ack_problem for r in report.results)
    assert len(replies(settings)) == 3


def test_limit_is_counted_per_day_in_the_bulletin_time_zone(settings):
    """Late evening in Québec is still the same day, although UTC says tomorrow."""
    with connect(state_file(settings.paths.donnees)) as conn:
        for n, hour in enumerate((14, 20, 23)):  # UTC; 9 h, 15 h, 18 h in Québec
            sent = ack.acknowledge(settings, variant(n), titre="T", month="2026-12", conn=conn,
                                   now=datetime(2026, 11, 24, hour, 0, tzinfo=UTC))
            assert sent.sent
        late = ack.acknowledge(settings, variant(9), titre="T", month="2026-12", conn=conn,
                               now=datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 22 h in Québec
        assert not late.sent and "limite" in late.detail
        morning = ack.acknowledge(settings, variant(10), titre="T", month="2026-12", conn=conn,
                                  now=datetime(2026, 11, 25, 13, 0, tzinfo=UTC))
        assert morning.sent


class Broken:
    concurrency = 1

    async def open(self) -> None:
        pass

    async def send(self, envelope, **kw) -> DeliveryResult:
        raise OSError("serveur SMTP injoignable")

    async def close(self) -> None:
        pass


def test_failed_acknowledgment_keeps_the_item_and_is_reported(settings, tmp_path):
    """A sender that raises: the item is written and filed as done; the report says why."""
    maildir = inbox(tmp_path, sample("delegate_latin1_photo_pdf"))
    report = process_maildir(settings, maildir, ack_sender=Broken())
    [result] = report.results
    assert result.kind == "item" and result.path.is_file() and not result.filed_for_review
    assert not result.ack_sent and "serveur SMTP injoignable" in result.ack_problem
    assert report.ack_problems == [result]
    assert "Accusé de réception en échec" in report.summary()
    assert "serveur SMTP injoignable" in report.summary()
    assert list((maildir / ".Traite" / "cur").iterdir())


def test_deferred_acknowledgment_does_not_use_up_the_daily_limit(settings):
    """A reply that did not leave is not counted: the 3 replies of the day stay available."""
    class Deferred(Broken):
        async def send(self, envelope, **kw) -> DeliveryResult:
            return DeliveryResult(envelope, Outcome.DEFERRED, "421 plus tard")

    with connect(state_file(settings.paths.donnees)) as conn:
        failed = ack.acknowledge(settings, variant(1), titre="T", month="2026-12", conn=conn,
                                 sender=Deferred())
        assert not failed.sent and "421 plus tard" in failed.problem
        assert conn.execute("SELECT COUNT(*) FROM accuses_reception").fetchone()[0] == 0


def test_switched_off_no_acknowledgment(settings, tmp_path):
    off = dataclasses.replace(settings, mail_intake=dataclasses.replace(
        settings.mail_intake, accuse_reception=False))
    report = process_maildir(off, inbox(tmp_path, sample("delegate_latin1_photo_pdf")))
    assert report.results[0].kind == "item" and not report.results[0].ack_sent
    assert replies(settings) == []


def test_never_to_the_bulletin_itself(settings):
    """Mail from the bulletin's own address (even if registered) gets no reply: no loop."""
    own = settings.identity.sender_address
    org = dataclasses.replace(settings.organizations[0], courriels=(own,))
    looped = dataclasses.replace(settings, organizations=(org, *settings.organizations[1:]))
    raw = variant(1).replace(f"<{DELEGATE}>".encode(), f"<{own}>".encode())
    with connect(state_file(settings.paths.donnees)) as conn:
        result = ack.acknowledge(looped, raw, titre="T", month="2026-12", conn=conn)
    assert not result.sent and "elle-même" in result.detail


def test_setting_must_be_a_boolean(project):
    from infolettre.errors import ConfigError
    from infolettre.settings import load_settings

    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text + '\n[courriel_entrant]\naccuse_reception = "oui"\n',
                              encoding="utf-8")
    with pytest.raises(ConfigError, match="accuse_reception"):
        load_settings(project.config)



def test_imap_poll_acknowledges_known_sender_only(intake_settings, mailbox):  # noqa: F811
    """Polled over IMAP (Dovecot): the delegate gets a reply, the stranger none."""
    append(mailbox, "delegate_latin1_photo_pdf", "ack-delegue@example.org")
    append(mailbox, "unknown_sender", "ack-inconnu@example.org")
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["item", "item"]
    assert [m.result.ack_sent for m in report.messages] == [True, False]
    [reply] = replies(intake_settings)
    assert reply["In-Reply-To"] == "<ack-delegue@example.org>"


def test_a_held_item_is_decided_without_reading_the_message(settings, monkeypatch):
    """Held (stranger, forged From): no reply, decided before any parsing."""
    def no_parsing(raw):
        raise AssertionError("parsed")

    monkeypatch.setattr(ack, "parse_headers", no_parsing)
    with connect(state_file(settings.paths.donnees)) as conn:
        result = ack.acknowledge(settings, variant(1), titre="T", month="2026-12", conn=conn,
                                 held=True)
    assert not result.sent and "retenue" in result.detail

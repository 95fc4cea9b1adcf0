"""The IMAP intake by batches (issue 16): one UID MOVE per batch, never a message lost.

Real Dovecot on loopback (tests/dovecot.py), as in test_imap.py. The messages done in a
batch leave the inbox together, after their items are durable and recorded; an interrupted
poll leaves them in the inbox, and the next one finds them done and moves them.
"""

from __future__ import annotations

import pytest

from infolettre.gather import intake
from infolettre.mailbox import imap as mailbox_imap

from .dovecot import dovecot_server  # noqa: F401 - the fixture
from .test_imap import TRAITE, append, intake_settings, mailbox, messages, run  # noqa: F401

SAMPLES = ["key_lines", "delegate_latin1_photo_pdf", "unknown_sender", "auto_submitted"]


def moves(monkeypatch) -> list[tuple[str, str]]:
    """Record every move the server is asked for: (UIDs, folder)."""
    real, asked = mailbox_imap._Mailbox.move, []

    def move(self, uid, folder):
        asked.append((uid, folder))
        return real(self, uid, folder)

    monkeypatch.setattr(mailbox_imap._Mailbox, "move", move)
    return asked


def test_the_messages_of_a_batch_leave_with_one_move(intake_settings, mailbox, monkeypatch):
    """Four messages (three items, automatic mail): one UID MOVE with the four UIDs."""
    for i, name in enumerate(SAMPLES):
        append(mailbox, name, f"lot-imap-{i}@example.org")
    asked = moves(monkeypatch)
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["item", "item", "item", "rejected"]
    assert [m.folder for m in report.messages] == [TRAITE] * 4
    [(uids, folder)] = asked
    assert folder == TRAITE and uids.split(",") == [m.uid for m in report.messages]
    assert messages(mailbox, "INBOX") == [] and len(messages(mailbox, TRAITE)) == 4


def test_a_refused_batch_move_is_reported_for_each_and_done_next_time(intake_settings,
                                                                      mailbox, monkeypatch):
    """The server refuses the batch's MOVE: each message is reported, stays in the inbox;
    the next poll finds them done (duplicates) and moves them: still one item each."""
    for i, name in enumerate(SAMPLES[:2]):
        append(mailbox, name, f"lot-refus-{i}@example.org")

    def refused(self, uid, folder):
        raise mailbox_imap.imaplib.IMAP4.error(b"[SERVERBUG] refus simule")

    monkeypatch.setattr(mailbox_imap._Mailbox, "move", refused)
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["item", "item"]
    assert all("refus simule" in m.problem and m.folder is None for m in report.messages)
    assert len(messages(mailbox, "INBOX")) == 2
    monkeypatch.undo()
    again = run(intake_settings, mailbox)
    assert [m.kind for m in again.messages] == ["duplicate", "duplicate"]
    assert messages(mailbox, "INBOX") == [] and len(messages(mailbox, TRAITE)) == 2
    items = list(intake_settings.paths.contenu.glob("*/*.md"))
    assert len(items) == 2


def test_interrupted_in_the_middle_of_a_batch_every_item_once(intake_settings, mailbox,
                                                              monkeypatch):
    """Ctrl-C during the 3rd message: the two done are durable and recorded but not moved;
    the next poll moves them as duplicates and takes the rest: every item once."""
    for i, name in enumerate(SAMPLES):
        append(mailbox, name, f"lot-stop-{i}@example.org")
    real, calls = intake.convert_message, []

    def convert(raw, settings, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(raw, settings, **kwargs)

    monkeypatch.setattr(intake, "convert_message", convert)
    with pytest.raises(KeyboardInterrupt):
        run(intake_settings, mailbox)
    assert len(messages(mailbox, "INBOX")) == 4
    assert len(list(intake_settings.paths.contenu.glob("*/*.md"))) == 2
    monkeypatch.undo()
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["duplicate", "duplicate", "item", "rejected"]
    assert messages(mailbox, "INBOX") == [] and len(messages(mailbox, TRAITE)) == 4
    items = list(intake_settings.paths.contenu.glob("*/*.md"))
    assert len(items) == 3
    for i in range(3):
        assert sum(f"lot-stop-{i}@example.org" in p.read_text(encoding="utf-8")
                   for p in items) == 1


def fetches(monkeypatch) -> list[list[str]]:
    """Record every fetch command: the UIDs it asked for."""
    real, asked = mailbox_imap._Mailbox.fetch_many, []

    def fetch_many(self, uids):
        asked.append(list(uids))
        return real(self, uids)

    monkeypatch.setattr(mailbox_imap._Mailbox, "fetch_many", fetch_many)
    return asked


def test_messages_are_fetched_by_groups_bounded_in_bytes(intake_settings, mailbox,
                                                         monkeypatch):
    """The four messages come with one UID FETCH; with groups of at most 8 KB, the 28 KB
    message with a photo comes alone and the small ones together — each message once."""
    from infolettre.mailbox import imap_fetch

    for i, name in enumerate(SAMPLES):
        append(mailbox, name, f"lot-fetch-{i}@example.org")
    asked = fetches(monkeypatch)
    report = run(intake_settings, mailbox)
    assert asked == [[m.uid for m in report.messages]]
    for i, name in enumerate(SAMPLES):
        append(mailbox, name, f"lot-petit-{i}@example.org")
    monkeypatch.setattr(imap_fetch, "GROUP_BYTES", 8 * 1024)
    asked.clear()
    report = run(intake_settings, mailbox)
    uids = [m.uid for m in report.messages]
    assert asked == [uids[:1], uids[1:2], uids[2:]]  # the photo's message alone
    assert [m.kind for m in report.messages] == ["item", "item", "item", "rejected"]
    assert messages(mailbox, "INBOX") == []


def test_a_refused_group_fetch_falls_back_to_one_message_at_a_time(intake_settings,
                                                                   mailbox, monkeypatch):
    """The server refuses the group's FETCH (one broken message in it): the messages are
    then fetched one at a time, and every one is taken in."""
    for i, name in enumerate(SAMPLES):
        append(mailbox, name, f"lot-seul-{i}@example.org")
    real, asked = mailbox_imap._Mailbox.fetch_many, []

    def refuse_groups(self, uids):
        asked.append(len(uids))
        if len(uids) > 1:
            raise mailbox_imap.imaplib.IMAP4.error(b"[SERVERBUG] refus simule")
        return real(self, uids)

    monkeypatch.setattr(mailbox_imap._Mailbox, "fetch_many", refuse_groups)
    report = run(intake_settings, mailbox)
    assert [m.kind for m in report.messages] == ["item", "item", "item", "rejected"]
    assert asked == [4, 1, 1, 1, 1] and messages(mailbox, "INBOX") == []

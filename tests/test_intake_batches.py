"""The intake by batches (issue 16): nothing lost, no item twice, a stop anywhere recoverable.

Messages are handled by batches (``intake.BATCH``): their files written under temporary
names, then, at the end of the batch, made durable and put in place, the messages recorded
as seen, and only then filed out of the inbox. These tests stop a run in the middle of a
batch — an interruption raised from a hook (Ctrl-C), a disk that fails at the sync, a real
SIGKILL of the process, a file name taken meanwhile by another program — and check that
the next run ends with every message's item exactly once and an empty inbox.
"""

from __future__ import annotations

import mailbox
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from infolettre import fsutil
from infolettre.gather import intake
from infolettre.gather.intake import process_maildir
from infolettre.mailbox import maildir as maildir_module
from infolettre.state import state_file

from .test_intake import DELIVERED, MAIL, filed

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ["key_lines", "delegate_latin1_photo_pdf", "subject_tag_agenda", "unknown_sender",
           "key_lines_event", "html_only", "out_of_office_absent"]  # the last: no item


def numbered(name: str, i: int) -> bytes:
    """A sample with its own Message-ID and a numbered subject (titles differ)."""
    raw = (MAIL / f"{name}.eml").read_bytes()
    raw = raw.replace(b"<case@example.org>", f"<lot-{i}@example.org>".encode())
    return re.sub(rb"(?m)^(Subject:[^\r\n]*)", rb"\1" + f" ({i})".encode(), raw, count=1)


def inbox(tmp_path: Path) -> Path:
    """A Maildir holding the samples (7 messages, 6 items), as a mail server delivers them."""
    folder = tmp_path / "Maildir"
    box = mailbox.Maildir(folder, create=True)
    for i, name in enumerate(SAMPLES):
        key = box.add(numbered(name, i))
        os.utime(Path(box._path) / box._lookup(key), (DELIVERED, DELIVERED))
    return folder


def items_by_message(settings) -> dict[str, list[Path]]:
    """Every visible item file, by the Message-ID its origin note names."""
    found: dict[str, list[Path]] = {}
    for path in settings.paths.contenu.glob("*/*.md"):
        text = path.read_text(encoding="utf-8")
        for i in range(len(SAMPLES)):
            if f"lot-{i}@example.org" in text:
                found.setdefault(f"lot-{i}", []).append(path)
    return found


def seen(settings) -> int:
    path = state_file(settings.paths.donnees)
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM courriels_vus").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not made yet
            return 0


def assert_each_item_once(settings, maildir: Path) -> None:
    """Six items, one per message that is one; the inbox empty, all seven filed once."""
    found = items_by_message(settings)
    assert sorted(found) == [f"lot-{i}" for i in range(6)]
    assert all(len(paths) == 1 for paths in found.values()), found
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
    assert len(filed(maildir, "Traite")) == len(SAMPLES)
    assert seen(settings) == len(SAMPLES)


def stop_at(monkeypatch, count: int, stop: BaseException) -> list[int]:
    """Raise ``stop`` from the conversion of the ``count``-th message (a hook of the run)."""
    real, calls = intake.convert_message, []

    def convert(raw, settings, **kwargs):
        calls.append(1)
        if len(calls) == count:
            raise stop
        return real(raw, settings, **kwargs)

    monkeypatch.setattr(intake, "convert_message", convert)
    return calls


def test_a_run_is_one_batch_and_files_after_recording(settings, tmp_path, monkeypatch):
    """In order: the files synced, the messages recorded as seen, then filed (renamed)."""
    order: list[str] = []
    real_sync, real_commit = fsutil.Pending.sync, intake.IntakeHandler.commit
    real_rename = maildir_module.MaildirFolder._rename

    def sync(self):
        order.append("sync")
        real_sync(self)

    def commit(self, failed=()):
        order.append("commit")
        real_commit(self, failed)

    def rename(self, *args):
        order.append("file")
        real_rename(self, *args)

    monkeypatch.setattr(fsutil.Pending, "sync", sync)
    monkeypatch.setattr(intake.IntakeHandler, "commit", commit)
    monkeypatch.setattr(maildir_module.MaildirFolder, "_rename", rename)
    maildir = inbox(tmp_path)
    report = process_maildir(settings, maildir)
    assert [r.kind for r in report.results].count("item") == 6
    # (an acknowledgment going out syncs and records earlier: the item is on disk first)
    assert order[-len(SAMPLES) - 2:] == ["sync", "commit", *["file"] * len(SAMPLES)]
    assert all(order[i - 1] == "sync" for i, step in enumerate(order) if step == "commit")
    assert_each_item_once(settings, maildir)


def test_interrupted_in_the_middle_of_a_batch_the_next_run_takes_the_rest(
        settings, tmp_path, monkeypatch):
    """Ctrl-C during the 4th message: the 3 done are made durable and recorded, nothing is
    filed; the next run finds them done, takes the rest: every item once."""
    maildir = inbox(tmp_path)
    stop_at(monkeypatch, 4, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        process_maildir(settings, maildir)
    assert len(items_by_message(settings)) == 3 and seen(settings) == 3
    assert len(list((maildir / "new").iterdir())) == len(SAMPLES)  # originals all there
    monkeypatch.undo()
    report = process_maildir(settings, maildir)
    assert [r.kind for r in report.results].count("duplicate") == 3
    assert_each_item_once(settings, maildir)


def test_a_disk_failing_at_the_sync_leaves_no_item_and_no_record(settings, tmp_path,
                                                                 monkeypatch):
    """The sync fails (a disk error, as a power cut would find it): no item under its
    name, nothing recorded, the originals in the inbox; the next run writes each once."""
    maildir = inbox(tmp_path)

    def failing(self):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(fsutil.Pending, "_sync_paths", failing)
    with pytest.raises(OSError):
        process_maildir(settings, maildir)
    assert items_by_message(settings) == {} and seen(settings) == 0
    month = next(settings.paths.contenu.iterdir())
    assert {p.name.startswith(".") for p in month.iterdir()} == {True}  # temporary files
    assert len(list((maildir / "new").iterdir())) == len(SAMPLES)
    monkeypatch.undo()
    process_maildir(settings, maildir)
    assert_each_item_once(settings, maildir)


KILLER = """
import os, signal, sys
from infolettre import i18n
from infolettre.gather import intake
from infolettre.settings import load_settings
from pathlib import Path
real, calls = intake.convert_message, []
def convert(raw, settings, **kwargs):
    calls.append(1)
    if len(calls) == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no flush: as a power cut would
    return real(raw, settings, **kwargs)
intake.convert_message = convert
i18n.activate("fr_CA")
intake.process_maildir(load_settings(Path(sys.argv[1])), Path(sys.argv[2]))
"""


@pytest.mark.parametrize("killed_at", [1, 4, 7])
def test_killed_in_the_middle_of_a_batch_nothing_lost_nothing_twice(project, tmp_path,
                                                                    killed_at):
    """SIGKILL during the n-th message: what the batch had not synced yet was neither put
    in place nor recorded (an acknowledgment going out syncs and records the items before
    it: visible items and records agree); the next run writes every other item once."""
    settings = project.settings()
    maildir = inbox(tmp_path)
    child = subprocess.run([sys.executable, "-c", KILLER, str(project.config), str(maildir),
                            str(killed_at)], env={**os.environ, "PYTHONPATH": str(REPO / "src")},
                           capture_output=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    visible = items_by_message(settings)
    assert seen(settings) == len(visible) < killed_at
    assert len(list((maildir / "new").iterdir())) == len(SAMPLES)
    process_maildir(settings, maildir)
    assert_each_item_once(settings, maildir)


def test_a_name_taken_meanwhile_leaves_that_message_for_the_next_run(settings, tmp_path,
                                                                     monkeypatch):
    """Another program writes the very file name an item waits for, before the end of the
    batch: its file is kept, that message stays in the inbox (reported), the others go on;
    the next run writes the item under the next free name."""
    maildir = inbox(tmp_path)
    real, other = intake.write_draft, []

    def write_then_taken(settings, month, draft):
        path = real(settings, month, draft)
        if not other:  # the first item: « another program » takes its name
            path.write_text("écrit par un autre programme\n", encoding="utf-8")
            other.append(path)
        return path

    monkeypatch.setattr(intake, "write_draft", write_then_taken)
    report = process_maildir(settings, maildir)
    [left] = [r for r in report.results if r.kind == "failed"]
    assert "pris entre-temps" in left.reason
    assert other[0].read_text(encoding="utf-8") == "écrit par un autre programme\n"
    assert len(list((maildir / "new").iterdir())) == 1 and seen(settings) == len(SAMPLES) - 1
    monkeypatch.undo()
    process_maildir(settings, maildir)
    assert_each_item_once(settings, maildir)


def test_deferred_writes_are_invisible_until_the_sync(tmp_path):
    """In a ``deferred_sync`` block a file is only a temporary one, its name reserved
    (no_clobber refuses it twice); ``sync`` puts it in place; outside, writes are at once."""
    target = tmp_path / "a.md"
    with fsutil.deferred_sync() as pending:
        assert fsutil.write_durably(target, lambda h: h.write(b"un"), no_clobber=True)
        assert not target.exists() and fsutil.reserved_names(tmp_path) == {"a.md"}
        assert not fsutil.write_durably(target, lambda h: h.write(b"deux"), no_clobber=True)
        pending.sync()
        assert target.read_bytes() == b"un" and fsutil.reserved_names(tmp_path) == set()
        assert [p.name for p in tmp_path.iterdir()] == ["a.md"]  # no temporary file left
    fsutil.write_durably(tmp_path / "b.md", lambda h: h.write(b"trois"))
    assert (tmp_path / "b.md").read_bytes() == b"trois"


def test_a_batch_ends_early_once_its_messages_hold_enough_bytes(settings, tmp_path,
                                                                monkeypatch):
    """Messages are kept in memory until filed: a batch holding ``BATCH_BYTES`` ends there
    (here 1 byte: one message per batch, each synced, recorded and filed on its own)."""
    from infolettre.mailbox import runner

    syncs: list[int] = []
    real_sync = fsutil.Pending.sync

    def sync(self):
        syncs.append(1)
        real_sync(self)

    monkeypatch.setattr(runner, "BATCH_BYTES", 1)
    monkeypatch.setattr(fsutil.Pending, "sync", sync)
    maildir = inbox(tmp_path)
    process_maildir(settings, maildir)
    assert len(syncs) >= len(SAMPLES)
    assert_each_item_once(settings, maildir)


def test_a_jpeg_without_a_frame_header_is_unreadable_at_once():
    """Damaged JPEG data with no frame header anywhere: the same note Pillow's long scan
    would give, the bytes kept; a real JPEG still goes through Pillow (here, narrowed)."""
    import io

    from PIL import Image

    from infolettre.content.images import IMAGE_MAX_WIDTH, fit_image

    damaged = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 80
    kept, note = fit_image(damaged)
    assert kept == damaged and "illisible" in note
    photo = io.BytesIO()
    Image.new("RGB", (1500, 800), "red").save(photo, "JPEG")
    narrowed, note = fit_image(photo.getvalue())
    assert note is None and Image.open(io.BytesIO(narrowed)).width == IMAGE_MAX_WIDTH


def test_a_message_left_in_the_inbox_leaves_no_file_behind(settings, tmp_path, monkeypatch):
    """The database fails after the item's files were written (a surroundings failure):
    the message stays in the inbox, and its files, never put in place, are dropped."""
    maildir = inbox(tmp_path)
    real = intake.announce

    def locked_after_writing(settings, raw, result, **kwargs):
        if b"lot-1@" in raw:
            raise sqlite3.OperationalError("database is locked")
        return real(settings, raw, result, **kwargs)

    monkeypatch.setattr(intake, "announce", locked_after_writing)
    report = process_maildir(settings, maildir)
    [left] = [r for r in report.results if r.kind == "failed"]
    assert "database is locked" in left.reason
    month = next(settings.paths.contenu.iterdir())
    assert not list(month.glob("frigo*")) and not list(month.glob("horaire*"))
    assert len(items_by_message(settings)) == 5 and len(list((maildir / "new").iterdir())) == 1
    monkeypatch.undo()
    process_maildir(settings, maildir)
    assert_each_item_once(settings, maildir)


def test_what_a_killed_batch_left_is_removed_at_the_next_run_but_a_fresh_write_is_kept(
        settings, tmp_path):
    """Hidden ``.<name>.*.tmp`` files older than an hour (a killed batch's) go at the next
    intake; a younger one (a write in progress elsewhere) and visible files stay."""
    month = settings.paths.contenu / "2026-12"
    archive = intake.archive_folder(settings) / "ab"
    for folder in (month / "images", archive):
        folder.mkdir(parents=True, exist_ok=True)
    old = [month / ".item.md.x1y2.tmp", month / "images" / ".photo.jpg.a1.tmp",
           archive / ".ab12.eml.q9.tmp"]
    fresh, visible = month / ".other.md.z3.tmp", month / "old-but-visible.tmp"
    for path in (*old, fresh, visible):
        path.write_bytes(b"partial")
    hour_ago = fresh.stat().st_mtime - fsutil.STALE_SECONDS - 5
    for path in (*old, visible):
        os.utime(path, (hour_ago, hour_ago))
    process_maildir(settings, inbox(tmp_path))
    assert [p.exists() for p in old] == [False, False, False]
    assert fresh.exists() and visible.exists()
    assert not list(month.glob(".*.probe"))      # the age probe leaves nothing either

"""Append-only journals: private, durable lines; a torn last line is dropped, nothing else."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from infolettre.errors import InfolettreError
from infolettre.state.journal import Journal

from .test_delivery_faults import child_env


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_entries_come_back_in_order_by_kind_and_the_file_is_private(tmp_path):
    """Each append is one line, read back in order; ``genre`` selects a kind; mode 0600."""
    old = os.umask(0o022)
    try:
        journal = Journal(tmp_path / "data" / "adresses.jsonl")
        journal.append("desabonnement", courriel="marie@example.net", source="lien")
        journal.append("suspension", courriel="jean@example.net", raison="5.1.1")
        journal.append("desabonnement", courriel="élise@example.net", source="pivot")
    finally:
        os.umask(old)
    assert [e["courriel"] for e in journal.entries("desabonnement")] == [
        "marie@example.net", "élise@example.net"]
    assert [e["genre"] for e in journal.entries()] == [
        "desabonnement", "suspension", "desabonnement"]
    assert mode(journal.path) == 0o600
    assert journal.path.read_text(encoding="utf-8").count("\n") == 3


def test_a_missing_journal_has_no_entries(tmp_path):
    journal = Journal(tmp_path / "absent.jsonl")
    assert list(journal.entries()) == [] and not journal.exists()


def test_a_line_cut_by_a_crash_is_skipped_then_removed_by_the_next_append(tmp_path):
    """A write interrupted before its newline was never acknowledged: readers skip it and the
    next append cuts it off, so the journal stays one object per line."""
    journal = Journal(tmp_path / "j.jsonl")
    journal.append("desabonnement", courriel="a@example.org")
    with open(journal.path, "ab") as handle:
        handle.write(b'{"genre":"desabonnement","courriel":"b@exa')
    assert [e["courriel"] for e in journal.entries()] == ["a@example.org"]
    journal.append("desabonnement", courriel="c@example.org")
    assert [e["courriel"] for e in journal.entries()] == ["a@example.org", "c@example.org"]
    assert b"b@exa" not in journal.path.read_bytes()


def test_a_damaged_line_in_the_middle_is_an_error_naming_file_and_line(tmp_path):
    """A journal is never half-read in silence: a bad complete line stops with where and how."""
    path = tmp_path / "j.jsonl"
    path.write_text('{"genre":"desabonnement","courriel":"a@example.org"}\n'
                    "pas du JSON\n"
                    '{"genre":"desabonnement","courriel":"c@example.org"}\n', encoding="utf-8")
    with pytest.raises(InfolettreError) as info:
        list(Journal(path).entries())
    assert info.value.where == f"{path}:2"
    assert "sauvegarde" in info.value.fix


def test_appends_from_many_processes_never_interleave(tmp_path):
    """Four processes appending 50 long lines each at once: 200 whole lines, none mixed."""
    path = tmp_path / "j.jsonl"
    script = ("import sys; from pathlib import Path; from infolettre.state.journal import Journal\n"
              "j = Journal(Path(sys.argv[1]))\n"
              "for i in range(50): j.append('essai', qui=sys.argv[2], i=i, texte='x' * 5000)\n")
    children = [subprocess.Popen([sys.executable, "-c", script, str(path), str(n)],
                                 env=child_env()) for n in range(4)]
    assert [child.wait(timeout=60) for child in children] == [0, 0, 0, 0]
    entries = list(Journal(path).entries("essai"))
    assert len(entries) == 200
    assert {(e["qui"], e["i"]) for e in entries} == {(str(n), i) for n in range(4)
                                                      for i in range(50)}

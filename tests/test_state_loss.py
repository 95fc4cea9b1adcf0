"""Losing ``data/infolettre.sqlite3`` never resends an issue nor reaches an unsubscribed
person: journals and send records beside it, reading commands that create nothing, private
files, corruption named as such, and ``infolettre sauvegarde`` copies that restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infolettre.cli import main
from infolettre.clock import FixedClock
from infolettre.state import connect, state_file
from infolettre.unsubscribe import UnsubscribeStore

MONTH = "2026-12"
ITEM = ("---\ntitre: Frigo communautaire\norganisme: CDC des Etchemins\nrubrique: nouvelles\n"
        "date: 2026-11-02\nstatut: approuve\n---\nTexte\n")
PEOPLE = ("a@example.org", "b@example.org", "c@example.org")
TZ = ZoneInfo("America/Toronto")


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 12, 1, 9, 30, tzinfo=TZ))


@pytest.fixture
def cli(project, clock, capsys, monkeypatch):
    """Run ``infolettre`` on the project with the fixed clock: (exit code, stdout, stderr)."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    project.write("item.md", ITEM)
    project.write("item.md", ITEM, month="2027-01")
    write_recipients(project, PEOPLE)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--config", str(project.config), *args], clock=clock)
        out, err = capsys.readouterr()
        return code, " ".join(out.split()), " ".join(err.split())
    return run


def write_recipients(project, emails) -> None:
    lines = ["courriel,nom,territoire,format,adresse_postale"]
    lines += [f"{e},Personne,les-etchemins,courriel," for e in emails]
    (project.root / "recipients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def database(project) -> Path:
    return state_file(project.root / "data")


def lose_the_database(project) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database(project)}{suffix}").unlink(missing_ok=True)


def outbox(project, month: str = MONTH) -> set[str]:
    return {p.name for p in (project.root / "outbox" / month).glob("*.eml")}


def restore(project, copy: Path) -> None:
    """What README « Restaurer une sauvegarde » says: the database file, without -wal/-shm."""
    lose_the_database(project)
    shutil.copy2(copy / "infolettre.sqlite3", database(project))


# -- the scenario of the issue -------------------------------------------------------------

def test_losing_the_database_after_a_send_resends_nothing_and_keeps_unsubscribes(
        project, cli, clock):
    """Approve, send, unsubscribe b, delete the database: status says the ledger is lost
    (exit 2), send refuses with how to restore — even after a new approval — and b stays
    unsubscribed: the next issue does not reach b."""
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    code, out, _ = cli("send", MONTH)
    assert code == 0 and "envoyés 3" in out
    clock.advance(days=1)
    assert cli("desabonner", "b@example.org")[0] == 0

    lose_the_database(project)
    code, out, err = cli("status", MONTH)
    assert code == 2
    assert "a commencé le mardi 1er décembre 2026 à 9 h 30" in err
    assert "n'en garde aucune trace" in err and "infolettre sauvegarde" in err
    assert not database(project).exists()  # status created nothing

    for attempt in range(2):
        code, out, err = cli("send", MONTH)
        assert code == 2, (attempt, out, err)
        assert "infolettre refuse d'envoyer ce numéro" in err and "pas été approuvé" not in err
        assert "Restaurer une sauvegarde" in err
        assert cli("approve", MONTH, "--par", "Julie")[0] == 0  # approving again is not enough
    assert outbox(project) == {"a_at_example.org.eml", "b_at_example.org.eml",
                               "c_at_example.org.eml"}

    code, out, _ = cli("desabonner", "B@example.org")
    assert code == 0 and "était déjà désabonnée" in out
    with connect(database(project)) as conn:
        assert UnsubscribeStore(conn).contains("b@example.org")
    assert cli("approve", "2027-01", "--par", "Julie")[0] == 0
    code, out, _ = cli("send", "2027-01")
    assert code == 0 and "envoyés 2" in out
    assert outbox(project, "2027-01") == {"a_at_example.org.eml", "c_at_example.org.eml"}


def test_unsubscribes_are_rebuilt_from_the_journal_which_always_wins(tmp_path):
    """The journal is the record: a new database gets every address of it; an address only
    in an old database (before the journal existed) is added to the journal."""
    data = tmp_path / "data"
    store = UnsubscribeStore(connect(state_file(data)))
    store.add("marie@example.net", "lien")
    store.conn.execute("INSERT INTO desabonnements VALUES ('jean@example.net', "
                       "'2026-01-05T10:00:00+00:00', 'pivot')")  # as an older version did
    store.conn.close()
    reopened = UnsubscribeStore(connect(state_file(data)))
    journal = (data / "desabonnements.jsonl").read_text(encoding="utf-8")
    assert "marie@example.net" in journal and "jean@example.net" in journal
    reopened.conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state_file(data)}{suffix}").unlink(missing_ok=True)
    rebuilt = UnsubscribeStore(connect(state_file(data)))
    assert rebuilt.restored == 2 and rebuilt.count() == 2
    assert rebuilt.contains("MARIE@example.net") and rebuilt.contains("jean@example.net")
    assert rebuilt.conn.execute("SELECT source FROM desabonnements WHERE courriel = "
                                "'jean@example.net'").fetchone()[0] == "pivot"


# -- reading commands ----------------------------------------------------------------------

def test_reading_commands_create_no_database_and_status_says_never_sent(project, cli):
    """status, postal and feeds on a fresh project leave ``data/`` as it was (absent)."""
    with open(project.config, "a", encoding="utf-8") as handle:
        handle.write('\n[[flux]]\nurl = "https://table.example.org/feed"\nnom = "Table"\n'
                     'territoire = "regional"\nrubrique = "nouvelles"\n')
    code, out, _ = cli("status", MONTH)
    assert code == 0 and "aucun envoi enregistré pour ce numéro" in out
    assert cli("postal", MONTH)[0] == 0
    code, out, _ = cli("feeds")
    assert code == 0 and "jamais lu" in out
    assert not (project.root / "data").exists()


def test_status_reads_what_a_writer_left_in_the_wal(project, cli):
    """Read-only opening sees what another connection, still open, committed to the WAL and
    has not checkpointed into the database file yet."""
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    assert cli("send", MONTH)[0] == 0
    writer = connect(database(project))
    try:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE livraisons SET state = 'echec', reason = 'essai' "
                       "WHERE email = 'c@example.org'")
        assert Path(f"{database(project)}-wal").stat().st_size > 0
        code, out, _ = cli("status", MONTH, "--failed")
        assert code == 1 and "envoyés 2 / 3" in out and "c@example.org" in out
    finally:
        writer.close()


def test_status_of_a_month_never_sent_beside_others_says_so(project, cli):
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    assert cli("send", MONTH)[0] == 0
    code, out, _ = cli("status", "2027-01")
    assert code == 0 and "2027-01 : aucun envoi enregistré" in out


# -- private files -------------------------------------------------------------------------

def test_database_wal_journals_and_records_are_created_private(project, cli):
    """With the usual umask (022), every state file is 0600 and the data folder 0700."""
    old = os.umask(0o022)
    try:
        assert cli("approve", MONTH, "--par", "Julie")[0] == 0
        assert cli("send", MONTH)[0] == 0
        assert cli("desabonner", "b@example.org")[0] == 0
        conn = connect(database(project))  # hold it open: the -wal and -shm exist
        conn.execute("INSERT INTO desabonnements VALUES ('x@example.org', 'q', 'pivot')")
        data = project.root / "data"
        files = [database(project), Path(f"{database(project)}-wal"),
                 Path(f"{database(project)}-shm"), data / "desabonnements.jsonl",
                 data / "envois" / f"{MONTH}.json", data / "verrou"]
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
        conn.close()
    finally:
        os.umask(old)
    assert modes == {p.name: 0o600 for p in files}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "envois").stat().st_mode) == 0o700


def test_an_older_database_left_readable_by_others_is_tightened(tmp_path):
    path = state_file(tmp_path)
    sqlite3.connect(path).close()
    os.chmod(path, 0o644)
    connect(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# -- corruption ----------------------------------------------------------------------------

def test_a_corrupt_database_is_named_corrupt_with_the_way_to_restore(project, cli):
    """Not « check permissions or disk space »: the file is damaged, here is how to restore."""
    data = project.root / "data"
    data.mkdir()
    database(project).write_bytes(b"Ceci n'est pas une base SQLite.\n" * 200)
    for args in (("send", MONTH), ("status", MONTH), ("desabonner", "a@example.org")):
        code, _, err = cli(*args)
        assert code == 2, args
        assert "la base d'état est endommagée" in err and "infolettre sauvegarde" in err
        assert "disque n'est pas plein" not in err and "Erreur inattendue" not in err


def test_damage_found_in_the_middle_of_a_command_is_named_corrupt_too(project, cli):
    """A damaged page read during a query (« database disk image is malformed »)."""
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    assert cli("send", MONTH)[0] == 0
    conn = sqlite3.connect(database(project))
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'livraisons'"
                        ).fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    with open(database(project), "r+b") as handle:
        handle.seek((root - 1) * page)
        handle.write(b"\xff" * page)
    code, _, err = cli("status", MONTH)
    assert code == 2 and "la base d'état est endommagée" in err
    assert "Restaurer une sauvegarde" in err


# -- sauvegarde and restore ----------------------------------------------------------------

def test_backup_copies_everything_privately_and_restoring_it_resumes_without_duplicates(
        project, cli, monkeypatch):
    """``infolettre sauvegarde`` writes a dated folder (Québec time) with the database (online
    backup API, one file), the journal, the send records and the secret, all private;
    putting the database back makes status exact and send resend nothing."""
    monkeypatch.delenv("INFOLETTRE_SECRET")
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    assert cli("send", MONTH)[0] == 0
    assert cli("desabonner", "b@example.org")[0] == 0
    code, out, _ = cli("sauvegarde")
    copy = project.root / "data" / "sauvegardes" / "20261201-093000"
    assert code == 0 and "4 fichier(s) copié(s)" in out and str(copy) in out
    names = {p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()}
    assert names == {"infolettre.sqlite3", "desabonnements.jsonl", f"envois/{MONTH}.json",
                     "secret.key"}
    assert {stat.S_IMODE(p.stat().st_mode) for p in copy.rglob("*") if p.is_file()} == {0o600}
    assert stat.S_IMODE(copy.stat().st_mode) == 0o700
    with sqlite3.connect(copy / "infolettre.sqlite3") as check:
        assert check.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert check.execute("SELECT count(*) FROM livraisons").fetchone()[0] == 3

    restore(project, copy)
    code, out, _ = cli("status", MONTH)
    assert code == 0 and "envoyés 3 / 3" in out
    code, out, _ = cli("send", MONTH)
    assert code == 0 and "envoyés 0, déjà faits 2" in out  # b left meanwhile
    code, _, err = cli("sauvegarde", str(copy))
    assert code == 2 and "n'est pas vide" in err


def test_a_copy_made_before_the_send_is_refused(project, cli):
    """Restoring a copy taken after the approval but before the send: no ledger rows for a
    send that started, so send refuses (the copy is older than the send)."""
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    copy = project.root / "copie"
    assert cli("sauvegarde", str(copy))[0] == 0
    assert cli("send", MONTH)[0] == 0
    restore(project, copy)
    code, _, err = cli("send", MONTH)
    assert code == 2 and "restaurée d'une copie faite avant cet envoi" in err


def test_a_copy_made_during_the_send_is_refused(project, cli):
    """Restoring a copy whose ledger knows fewer attempted messages than the end of the last
    send recorded: those missing would get the issue twice, so send refuses."""
    write_recipients(project, PEOPLE[:2])
    assert cli("approve", MONTH, "--par", "Julie")[0] == 0
    assert cli("send", MONTH)[0] == 0
    copy = project.root / "copie"
    assert cli("sauvegarde", str(copy))[0] == 0
    write_recipients(project, PEOPLE)
    assert cli("send", MONTH)[0] == 0  # c gets it: 3 attempted at the end
    restore(project, copy)
    code, _, err = cli("status", MONTH)
    assert code == 2 and "il compte 2 message(s) tenté(s), il y en avait 3" in err
    code, _, err = cli("send", MONTH)
    assert code == 2 and "copie faite pendant l'envoi" in err
    assert outbox(project) == {"a_at_example.org.eml", "b_at_example.org.eml",
                               "c_at_example.org.eml"}

"""The state database: WAL, durable, each component's migrations applied once."""

from __future__ import annotations

import pytest

from infolettre.state import MissingState, connect, migrate

STEPS = ["CREATE TABLE a (x INTEGER)", "ALTER TABLE a ADD COLUMN y TEXT; CREATE TABLE b (z)"]


def test_wal_and_migrations_applied_once(tmp_path):
    """Migrations run in order, once; a second run (or a new process) applies nothing."""
    path = tmp_path / "data" / "infolettre.sqlite3"
    conn = connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    migrate(conn, "essai", STEPS[:1])
    migrate(conn, "essai", STEPS)
    migrate(connect(path), "essai", STEPS)
    assert [r[1] for r in conn.execute("PRAGMA table_info(a)")] == ["x", "y"]
    assert conn.execute("SELECT version FROM schema_versions").fetchone()[0] == 2


def test_read_only_opening_never_creates_the_database(tmp_path):
    """A reading command gets MissingState for an absent file, and the folder stays empty."""
    with pytest.raises(MissingState):
        connect(tmp_path / "data" / "infolettre.sqlite3", readonly=True)
    assert not (tmp_path / "data").exists()


def test_read_only_connection_reads_but_does_not_migrate(tmp_path):
    """Tables already there are read; a component never migrated is reported missing."""
    path = tmp_path / "infolettre.sqlite3"
    writer = connect(path)
    migrate(writer, "essai", STEPS)
    writer.execute("INSERT INTO a (x, y) VALUES (1, 'un')")
    reader = connect(path, readonly=True)
    migrate(reader, "essai", STEPS)  # up to date: nothing to do, no write attempted
    assert reader.execute("SELECT y FROM a").fetchone()[0] == "un"
    with pytest.raises(MissingState):
        migrate(reader, "autre", STEPS)
    writer.close()
    reader.close()

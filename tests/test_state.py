"""The state database: WAL, durable, each component's migrations applied once."""

from __future__ import annotations

from infolettre.state import connect, migrate

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

"""Numbered SQL migrations, each applied once in its own transaction.

Files in `migrations/` are named `NNNN_name.sql` and never edited once shipped;
the applied version is recorded in `schema_version`.
"""

from __future__ import annotations

import sqlite3
from importlib import resources

from ..errors import ConfigError


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("paperfeed.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text()))
    return sorted(found)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to date; returns the version now in force."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    current = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
    migrations = _migrations()
    newest = migrations[-1][0] if migrations else 0
    if current > newest:
        raise ConfigError(f"the database is at schema version {current}, newer than this "
                          f"paperfeed ({newest}); upgrade paperfeed")
    for number, _name, sql in migrations:
        if number <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = number
    return current

"""The schema on every backend: a new database is migrated to head, and one made by a
newer paperfeed is refused at startup (and by `paperfeed db migrate`), untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from paperfeed.cli import cli
from paperfeed.errors import ConfigError
from paperfeed.store import Store, migrate_schema
from paperfeed.store.database import Database
from paperfeed.store.migrate import current_revision, head


def _set_revision(url: str, revision: str) -> None:
    db = Database(url)
    with db.write() as tx:
        tx.run(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.close()


def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return current_revision(db)
    finally:
        db.close()


def test_a_new_database_is_migrated_once_to_head(empty_database_url: str) -> None:
    assert migrate_schema(empty_database_url) == (None, head())
    assert migrate_schema(empty_database_url) == (head(), head())
    store = Store(empty_database_url)
    assert store.members.add_user("ada", "ada@example.org", "h").username == "ada"
    store.close()


def test_a_database_from_a_newer_paperfeed_is_refused(database_url: str) -> None:
    migrate_schema(database_url)
    _set_revision(database_url, "9999")
    with pytest.raises(ConfigError, match="revision '9999', newer than this paperfeed "
                                          rf"\(which knows up to '{head()}'\); upgrade"):
        Store(database_url)
    with pytest.raises(ConfigError, match="newer than this paperfeed"):
        migrate_schema(database_url)
    assert _revision(database_url) == "9999", "left as it was"


def test_db_migrate_prints_where_the_schema_was_and_is(empty_database_url: str,
                                                       tmp_path: Path) -> None:
    env = {"PAPERFEED_DATABASE_URL": empty_database_url}
    args = ["--data-dir", str(tmp_path), "db", "migrate"]
    first = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert first.output == f"schema migrated from revision (empty database) to {head()}\n"
    again = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert again.output == f"schema already at revision {head()}\n"
    assert _revision(empty_database_url) == head()
    _set_revision(empty_database_url, "9999")
    refused = CliRunner().invoke(cli, args, env=env)
    assert refused.exit_code != 0 and "newer than this paperfeed" in str(refused.exception)

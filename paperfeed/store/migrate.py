"""The schema, brought up to date by Alembic when a store opens.

Revisions live in `migrations/versions/`, one file each, numbered, never edited
once shipped; written with SQLAlchemy's types and Alembic's operations, they
build the same schema on SQLite and PostgreSQL, with a dialect branch only
where the two need different DDL. Every upgrade runs inside one write
transaction (both databases have transactional DDL): a failed step leaves the
database as it was, and a second process starting at the same moment waits,
then finds the work done.

- A new database gets every revision.
- A database made before Alembic (a `schema_version` table at 1-4, no
  `alembic_version`) is stamped at that revision and upgraded from there.
- A database at a revision this code does not know was made by a newer
  paperfeed: it is refused rather than misread.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from ..errors import ConfigError
from .database import Database

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

LEGACY_VERSIONS = {1: "0001", 2: "0002", 3: "0003", 4: "0004"}  # schema_version -> revision
PG_MIGRATION_LOCK = 7_203_511  # advisory lock id: one migrating process at a time


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_folder()))
    return config


def _folder() -> Path:
    return Path(str(resources.files("paperfeed.store") / "migrations"))


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


@cache
def head() -> str:
    """The newest revision, read from the file names (`NNNN_name.py` holds revision
    NNNN, as a test checks): opening an up-to-date store does not import Alembic
    (~0.4 s)."""
    return max(path.name.split("_", 1)[0] for path in (_folder() / "versions").glob("*.py"))


def migrate(db: Database) -> str:
    """Bring the schema up to date; returns the revision now in force."""
    if current_revision(db) == head():  # the usual case: a read, no write lock
        return head()
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with db.write() as tx:
        conn = tx.connection  # SQLAlchemy's, inside the transaction just begun
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": PG_MIGRATION_LOCK})
        current, legacy = _current(conn)
        if current == head():
            return current
        if current is not None:
            _check_known(current)
        # Alembic runs inside our transaction, not one of its own: it sees the connection
        # already in one (SQLAlchemy began it with the reads above) and leaves it to us.
        assert conn.in_transaction()
        if legacy:
            assert current is not None
            MigrationContext.configure(conn).stamp(_script(), current)
        config = _config()
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    return head()


def current_revision(db: Database) -> str | None:
    with db.read() as tx:
        return _current(tx.connection)[0]


def _current(conn: Connection) -> tuple[str | None, bool]:
    """(revision in force, whether it was read from the pre-Alembic `schema_version`)."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar(), False
    if "schema_version" in tables:
        number = conn.execute(text("SELECT max(version) FROM schema_version")).scalar()
        if number in LEGACY_VERSIONS:
            return LEGACY_VERSIONS[number], True
        if number:
            raise ConfigError(f"the database is at schema version {number}, which this "
                              "paperfeed does not know; upgrade paperfeed")
    return None, False


def _check_known(revision: str) -> None:
    from alembic.util.exc import CommandError

    try:
        _script().get_revision(revision)
    except CommandError:
        raise ConfigError(f"the database is at schema revision {revision!r}, newer than this "
                          f"paperfeed (which knows up to {head()!r}); upgrade paperfeed"
                          ) from None

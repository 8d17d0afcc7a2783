"""The store's contract: every test in tests/store drives a `Store` only through its
public interface, on a real database, once per backend in BACKENDS (test ids end in
[sqlite] or [postgresql]). PostgreSQL is a real server the session starts itself
(tests/postgres.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperfeed.store import Store, sqlite_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each backend (PostgreSQL's with the schema already at head)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "pf.sqlite")
        return
    postgres = request.getfixturevalue("postgres")
    url = postgres.fresh_database()
    yield url
    postgres.drop(url)


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of each backend with no schema at all."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "pf.sqlite")
        return
    postgres = request.getfixturevalue("postgres")
    url = postgres.empty_database()
    yield url
    postgres.drop(url)


@pytest.fixture
def make_store(database_url: str) -> Iterator[Callable[[], Store]]:
    """Opens a `Store` on this test's database; call it again for a second process's view."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Store(database_url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    return make_store()

"""The store's contract: every test in tests/store drives a `Store` only through its
public interface, on a real database. A second backend passes the same tests by
adding its name to BACKENDS (and a URL for a fresh, empty database below)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from paperfeed.store import Store, sqlite_url

BACKENDS = ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each backend."""
    return sqlite_url(tmp_path / "pf.sqlite")


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

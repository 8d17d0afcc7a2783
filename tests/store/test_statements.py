"""Hot paths run a fixed, small number of statements. Through SQLAlchemy a statement
costs ~60-85 µs of Python, and on PostgreSQL a network round trip: per-paper or
per-row statements would make ingest and votes slow on both (see store/ingest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import TextClause

from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.database import Executor

TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK")


@contextmanager
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements the store sends its driver while the block runs (an executemany
    counts once), whichever database it is."""
    seen: list[str] = []
    execute, many = Executor._execute, Executor.many

    def counted_execute(self: Executor, sql: TextClause, params: object) -> object:
        seen.append(sql.text.strip())
        return execute(self, sql, params)  # type: ignore[arg-type]

    def counted_many(self: Executor, sql: TextClause, rows: object) -> None:
        if rows:
            seen.append(sql.text.strip())
        many(self, sql, rows)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(Executor, "_execute", counted_execute)
        patch.setattr(Executor, "many", counted_many)
        yield seen


def _batch(n: int, start: int = 0, version: int = 1) -> list[Paper]:
    return [Paper(title=f"Paper {i} on constant statement counts", arxiv_id=f"2601.{i:05d}",
                  version=version, abstract=f"Version {version}.", doi=f"10.1/{i}",
                  categories=["cs.DB", "cs.PF"], source="t", source_ref=str(i))
            for i in range(start, start + n)]


def test_an_ingest_batch_costs_the_same_statements_whatever_its_size(
        make_store: Callable[[], Store], monkeypatch: pytest.MonkeyPatch) -> None:
    counts = []
    for size in (5, 2000):
        store = make_store()
        with statements(monkeypatch) as new:
            store.papers.upsert(_batch(size))
        with statements(monkeypatch) as unchanged:
            store.papers.upsert(_batch(size))
        with statements(monkeypatch) as revised:
            store.papers.upsert(_batch(size, version=2))
        counts.append((len(new), len(unchanged), len(revised)))
        assert store.papers.count() == size
    assert counts[0] == counts[1], counts
    assert max(counts[1]) <= 12, counts


def test_a_vote_is_one_transaction_of_at_most_three_statements(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.papers.upsert(_batch(1))
    key = store.papers.get("2601.00000").key
    user = store.members.add_user("ada", "ada@example.org", "h").id
    for up in (None, None, True, True, False):
        with statements(monkeypatch) as seen:
            store.community.vote(user, key, up)
        work = [s for s in seen if not s.startswith(TRANSACTION)]
        assert len(work) <= 3 and [s.split()[0] for s in seen if s not in work] == [
            "BEGIN", "COMMIT"], seen


def test_what_a_cached_page_depends_on_is_one_statement(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    with statements(monkeypatch) as seen:
        store.state()
    assert len(seen) == 1

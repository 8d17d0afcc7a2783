"""Transactions and errors: what the database object promises every noun."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from paperfeed.errors import BadRequest, Conflict, StoreBusy
from paperfeed.models import Paper
from paperfeed.store import Store


def _paper(n: int) -> Paper:
    return Paper(title=f"A paper about transactions, number {n}", arxiv_id=f"2601.{n:05d}",
                 source="t", source_ref=str(n))


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    store.members.add_user("ada", "ada@example.org", "h")
    with pytest.raises(RuntimeError), store.db.write():
        store.papers.upsert([_paper(1)])
        store.members.add_user("bob", "bob@example.org", "h")
        raise RuntimeError("a bug after two writes")
    assert store.papers.get("2601.00001") is None and store.members.user_by_name("bob") is None
    assert store.members.add_user("bob", "bob@example.org", "h").username == "bob"


def test_a_clash_is_a_conflict_and_the_transaction_is_undone(store: Store) -> None:
    store.members.add_user("ada", "ada@example.org", "h")
    with pytest.raises(Conflict), store.db.write():
        store.papers.upsert([_paper(2)])
        store.members.add_user("ada", "other@example.org", "h")
    assert store.papers.get("2601.00002") is None
    assert len(store.members.users()) == 1


def test_text_the_database_cannot_hold_is_a_bad_request(store: Store) -> None:
    """PostgreSQL's text refuses NUL, which SQLite stores: a field nobody cleaned is a clear
    BadRequest (a 400), not the driver's error (a 500); nothing is half-written and the
    connection goes on working."""
    try:
        store.members.add_user("nul\x00name", "nul@example.org", "h")
    except BadRequest as refused:
        assert store.db.dialect == "postgresql" and "NUL" in str(refused)
        assert store.members.users() == []
    else:
        assert store.db.dialect == "sqlite"
    assert store.members.add_user("ada", "ada@example.org", "h").username == "ada"


def test_readers_do_not_wait_for_a_writer(make_store: Callable[[], Store]) -> None:
    writer, reader = make_store(), make_store()
    writer.papers.upsert([_paper(3)])
    inside, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with writer.db.write():
            writer.papers.upsert([_paper(4)])
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    try:
        assert inside.wait(10)
        started = time.monotonic()
        assert reader.papers.count() == 1, "the open transaction is not visible"
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join()
    assert reader.papers.count() == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lock_held_past_the_busy_timeout_is_store_busy(
        make_store: Callable[[], Store]) -> None:
    """SQLite only: another process holding the write lock too long (here a raw
    exclusive lock, as a stuck writer would) surfaces as StoreBusy, not a driver error."""
    holder, waiter = make_store(), make_store()
    with holder.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA busy_timeout = 0")
        with waiter.db.read() as mine:  # this thread's connection, used by its writes too
            mine.connection.exec_driver_sql("PRAGMA busy_timeout = 100")
        conn.exec_driver_sql("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreBusy):
                waiter.members.add_user("ada", "ada@example.org", "h")
        finally:
            conn.exec_driver_sql("ROLLBACK")
    assert waiter.members.add_user("ada", "ada@example.org", "h").is_admin

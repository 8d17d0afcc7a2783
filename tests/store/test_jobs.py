"""Leases for single-runner jobs, and harvest cursors."""

from __future__ import annotations

import threading
from collections.abc import Callable

from paperfeed.store import Store


def test_a_lease_has_one_owner_until_released_or_over(make_store: Callable[[], Store]) -> None:
    ours, theirs = make_store().leases, make_store().leases
    assert ours.acquire("harvest", "host-a:1", 60)
    assert not theirs.acquire("harvest", "host-b:2", 60)
    assert ours.acquire("harvest", "host-a:1", 60), "the owner may extend it"
    assert theirs.acquire("digest", "host-b:2", 60), "leases are per job"
    theirs.release("harvest", "host-b:2")  # not theirs: nothing happens
    assert not theirs.acquire("harvest", "host-b:2", 60)
    ours.release("harvest", "host-a:1")
    assert theirs.acquire("harvest", "host-b:2", -1), "free again"
    assert ours.acquire("harvest", "host-a:1", 60), "an ended lease can be taken"


def test_harvest_cursor_is_saved_and_overwritten(store: Store) -> None:
    harvests = store.harvests
    assert harvests.cursor("arxiv-oai:cs::") is None
    harvests.save("arxiv-oai:cs::", resumption_token="t1", from_date="2026-01-01", pages=1,
                  records=1000)
    harvests.save("arxiv-oai:cs::", resumption_token=None, from_date="2026-01-01", pages=2,
                  records=1500, last_error="done")
    cursor = harvests.cursor("arxiv-oai:cs::")
    assert cursor is not None
    assert (cursor.resumption_token, cursor.pages, cursor.records, cursor.last_error) == (
        None, 2, 1500, "done")
    assert cursor.updated_at.startswith("20")


def test_of_many_processes_racing_for_a_lease_one_gets_it(
        make_store: Callable[[], Store]) -> None:
    """The worker's harvest lease on several hosts: 20 takers at once (threads with their
    own connections, on two Store objects), exactly one wins."""
    stores = [make_store(), make_store()]
    start = threading.Barrier(20)
    won: list[str] = []

    def take(n: int) -> None:
        start.wait()
        if stores[n % 2].leases.acquire("harvest", f"host-{n}:1", 60):
            won.append(f"host-{n}:1")

    threads = [threading.Thread(target=take, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    assert not stores[0].leases.acquire("harvest", "host-x:9", 60)
    assert stores[1].leases.acquire("harvest", won[0], 60), "the winner holds it"

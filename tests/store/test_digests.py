"""Subscriptions and the outbox: planning reserves papers per address, claims are
exclusive, and a failed digest gives its papers back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from paperfeed.models import Paper
from paperfeed.store import Store


def _store_with_papers(make_store: Callable[[], Store], n: int = 6) -> tuple[Store, list[int]]:
    store = make_store()
    store.papers.upsert([Paper(title=f"A digest paper about topic {i}", arxiv_id=f"2601.{i:05d}",
                               source="t", source_ref=str(i)) for i in range(n)])
    keys = [store.papers.get(f"2601.{i:05d}").key for i in range(n)]
    return store, keys


def test_subscription_lifecycle(store: Store) -> None:
    subs = store.subscriptions
    first = subs.add("Reader@Example.org", "daily", True, None)
    assert (first.status, first.trending, first.query, first.failures) == (
        "pending", True, None, 0)
    assert subs.due("daily") == []
    subs.set_status(first.id, "active")
    active = subs.get(first.id)
    assert active is not None and active.status == "active" and active.confirmed_at
    assert [s.id for s in subs.due("daily")] == [first.id] and subs.due("weekly") == []
    second = subs.add("reader@example.org", "weekly", False, "graph neural networks")
    assert [s.id for s in subs.of_email("READER@example.org")] == [first.id, second.id]
    assert subs.recent("reader@example.org", "1970-01-01") == 2
    subs.set_status(second.id, "unsubscribed")
    assert [s.id for s in subs.of_email("reader@example.org")] == [first.id]
    assert subs.get(999) is None


def test_failures_pause_and_a_success_resets(store: Store) -> None:
    subs = store.subscriptions
    sub = subs.add("reader@example.org", "daily", True, None)
    subs.set_status(sub.id, "active")
    assert not subs.record_failure(sub.id, "550 no such user", pause_after=2)
    subs.record_success(sub.id)
    assert subs.get(sub.id).failures == 0
    assert not subs.record_failure(sub.id, "550 no such user", pause_after=2)
    assert subs.record_failure(sub.id, "550 no such user", pause_after=2)
    paused = subs.get(sub.id)
    assert paused.status == "paused" and paused.failures == 2 and "550" in paused.last_error
    subs.set_status(sub.id, "active")
    assert subs.get(sub.id).failures == 0, "reactivating starts the count again"


def test_plan_reserves_papers_per_address_once(make_store: Callable[[], Store]) -> None:
    store, keys = _store_with_papers(make_store)
    daily = store.subscriptions.add("reader@example.org", "daily", True, None)
    weekly = store.subscriptions.add("READER@example.org", "weekly", True, "ranking")
    outbox = store.outbox
    item = outbox.plan(daily, "daily:2026-01-05", {"trending": keys[:4], "search": keys[2:5]},
                       limit=3, message_id="<a@x>")
    assert item is not None and item.status == "queued"
    assert item.sections == {"trending": keys[:3], "search": [keys[3], keys[4]]}
    assert outbox.plan(daily, "daily:2026-01-05", {"trending": keys}, 3, "<b@x>") is None
    assert outbox.is_planned(daily.id, "daily:2026-01-05")
    assert outbox.already_sent("reader@example.org", keys) == set(keys[:5])
    other = outbox.plan(weekly, "weekly:2026-W02", {"trending": keys}, 3, "<c@x>")
    assert other is not None and other.sections == {"trending": [keys[5]]}, \
        "another subscription of the address gets only what the address has not had"
    empty = outbox.plan(weekly, "weekly:2026-W03", {"trending": keys}, 3, "<d@x>")
    assert empty is not None and empty.status == "empty" and empty.sections == {}
    assert outbox.counts() == {"queued": 2, "empty": 1}
    assert outbox.counts("weekly:2026-W03") == {"empty": 1}
    assert [i.id for i in outbox.items(daily.id)] == [item.id]


def test_claims_are_exclusive_and_leases_end(make_store: Callable[[], Store]) -> None:
    store, keys = _store_with_papers(make_store)
    other_process = make_store()
    subs = [store.subscriptions.add(f"r{i}@example.org", "daily", True, None) for i in range(4)]
    for sub in subs:
        store.outbox.plan(sub, "daily:2026-01-05", {"trending": keys}, 2, f"<{sub.id}@x>")
    first = store.outbox.claim("host:1:a", lease_s=60, limit=2)
    second = other_process.outbox.claim("host:2:b", lease_s=60, limit=1)
    overdue = other_process.outbox.claim("host:3:c", lease_s=-1, limit=5)  # lease already over
    assert [len(first), len(second), len(overdue)] == [2, 1, 1]
    assert len({i.id for i in first + second + overdue}) == 4, "no digest has two owners"
    assert sorted(store.outbox.sending_owners()) == ["host:1:a", "host:2:b", "host:3:c"]
    assert other_process.outbox.mark_sent(second[0].id, "host:2:b")
    assert not store.outbox.mark_sent(first[0].id, "host:2:b"), "only the owner settles it"
    # host:3's lease ran out: the next claim takes its digest over
    assert [i.id for i in store.outbox.claim("host:4:d", 60, 5)] == [overdue[0].id]
    # host:1 dies after handing one digest over: that one is recorded, the other resent
    store.outbox.mark_handed_over(first[0].id, "host:1:a")
    taken = other_process.outbox.claim("host:2:b", 60, 5, dead_owners=["host:1:a"])
    assert [i.id for i in taken] == [first[1].id], "a handed-over digest is not sent again"
    assert store.outbox.counts() == {"sent": 2, "sending": 2}
    assert store.outbox.claim("host:5:e", 60, 5) == [], "running leases are respected"


def test_retry_waits_and_failure_gives_papers_back(make_store: Callable[[], Store]) -> None:
    store, keys = _store_with_papers(make_store)
    subs = [store.subscriptions.add(f"r{i}@example.org", "daily", True, None) for i in range(2)]
    for sub in subs:
        store.outbox.plan(sub, "daily:2026-01-05", {"trending": keys}, 3, f"<{sub.id}@x>")
    retried, failed = store.outbox.claim("me", 60, 5)
    retry_at = time.time() + 3600
    store.outbox.mark_retry(retried.id, "me", "421 try later", retry_at)
    store.outbox.mark_failed(failed.id, "me", "550 gone")
    store.outbox.mark_failed(retried.id, "someone else", "no")  # not theirs: nothing happens
    assert store.outbox.claim("me", 60, 5) == [], "the retry is not due yet"
    assert store.outbox.next_retry_at() == retry_at
    by_id = {item.id: item for item in store.outbox.items()}
    assert (by_id[retried.id].status, by_id[retried.id].attempts,
            by_id[retried.id].last_error) == ("queued", 1, "421 try later")
    assert (by_id[failed.id].status, by_id[failed.id].attempts) == ("failed", 1)
    assert store.outbox.already_sent("r1@example.org", keys) == set(), \
        "a failed digest's papers may go out in a later one"
    assert store.outbox.already_sent("r0@example.org", keys) == set(keys[:3])


def test_concurrent_claimers_take_each_digest_once(make_store: Callable[[], Store]) -> None:
    """Eight senders (threads with their own connections, on two Store objects as two
    processes) claim at once until nothing is left: no digest twice, none left behind.
    On PostgreSQL this is what `FOR UPDATE SKIP LOCKED` is for."""
    store, keys = _store_with_papers(make_store)
    stores = [store, make_store()]
    for i in range(40):
        sub = store.subscriptions.add(f"r{i}@example.org", "daily", True, None)
        store.outbox.plan(sub, "daily:2026-01-05", {"trending": keys}, 2, f"<{sub.id}@x>")
    claimed: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def send(n: int) -> None:
        try:
            start.wait()
            while batch := stores[n % 2].outbox.claim(f"host:{n}", lease_s=60, limit=3):
                claimed.extend(item.id for item in batch)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(claimed) == len(set(claimed)) == 40
    assert store.outbox.counts() == {"sending": 40}

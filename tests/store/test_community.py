"""Submissions, hiding and upvotes, and the lists and trending order they shape."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest

from paperfeed.models import Paper
from paperfeed.store import Store

DAY = date(2025, 3, 10)


def _papers(n: int, day: date = DAY) -> list[Paper]:
    return [Paper(title=f"A study of topic number {i} in depth", abstract=f"About {i}.",
                  arxiv_id=f"2503.{i:05d}", published=day, source="test", source_ref=str(i))
            for i in range(n)]


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    store = make_store()
    store.papers.upsert(_papers(5))
    return store


def _member(store: Store, name: str) -> int:
    return store.members.add_user(name, f"{name}@example.org", "hash").id


def _key(store: Store, paper_id: str) -> int:
    found = store.papers.get(paper_id)
    assert found is not None
    return found.key


def test_vote_toggles_and_counts(store: Store) -> None:
    community = store.community
    key = _key(store, "2503.00001")
    ada, bob = _member(store, "ada"), _member(store, "bob")
    assert community.vote(ada, key).voted
    assert community.vote(bob, key, True).votes == 2
    assert community.vote(bob, key, True).votes == 2, "setting twice is one vote"
    state = community.vote(ada, key)  # toggle off
    assert (state.votes, state.voted) == (1, False)
    assert community.vote(ada, key, False).votes == 1, "taking back twice is one vote"
    assert community.vote_counts([key]) == {key: 1}
    assert community.voted_by(bob, [key]) == {key}
    assert community.voted_by(ada, [key]) == set()
    assert community.upvoted(bob, 10) == [key] and community.upvoted(ada, 10) == []


def test_fifty_concurrent_voters_are_counted_exactly(make_store: Callable[[], Store]) -> None:
    """Each thread has its own connection, as each web worker thread does; two Store
    objects stand for two processes on one database."""
    stores = [make_store(), make_store()]
    stores[0].papers.upsert(_papers(1))
    key = _key(stores[0], "2503.00000")
    members = [_member(stores[0], f"voter{i}") for i in range(50)]
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def vote(n: int, user_id: int) -> None:
        try:
            start.wait()
            for _ in range(3):  # up, down, up: ends voted
                stores[n % 2].community.vote(user_id, key)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(n, m)) for n, m in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert stores[1].community.vote_counts([key]) == {key: 50}
    assert all(stores[1].community.voted_by(m, [key]) == {key} for m in members)


def test_submission_features_paper_once_and_hiding_removes_it(store: Store) -> None:
    community, papers = store.community, store.papers
    old = Paper(title="An old classic paper about pointer networks", arxiv_id="1506.03134",
                published=date(2015, 6, 9), source="test", source_ref="old")
    papers.upsert([old])
    key = _key(store, "1506.03134")
    ada = _member(store, "ada")
    today = date(2025, 3, 12)
    submission, created = community.submit(key, ada, today)
    assert created and submission.username == "ada" and submission.paper_key == key
    again, created = community.submit(key, _member(store, "bob"), today)
    assert not created and again.username == "ada"
    assert papers.latest_date() == today
    listed = [p.id for p in papers.between(today, today, 10)]
    assert listed == ["1506.03134"] and papers.count_between(today, today) == 1
    assert papers.nearest_date(today, before=True) == DAY
    community.vote(ada, key, True)
    other = _key(store, "2503.00001")
    community.vote(ada, other, True)
    old_day = date(2015, 6, 9)
    assert [p.key for p in papers.newest_matching(old_day, old_day, [], 10)] == [key]
    assert set(community.upvoted(ada, 10)) == {other, key}
    community.set_hidden(key, True)
    assert papers.between(today, today, 10) == [] and papers.count_between(today, today) == 0
    assert papers.latest_date() == DAY
    assert papers.newest_matching(old_day, old_day, [], 10) == []
    assert community.upvoted(ada, 10) == [other], "a member's upvotes leave it out too"
    assert [v.paper_key for v in community.voted_papers()] == [other], "and trending"
    assert community.hidden([key, other]) == {key}
    assert community.submission(key).hidden


def test_most_upvoted_first_within_a_day(store: Store) -> None:
    ada, bob = _member(store, "ada"), _member(store, "bob")
    third, second = _key(store, "2503.00003"), _key(store, "2503.00002")
    for member in (ada, bob):
        store.community.vote(member, third, True)
    store.community.vote(ada, second, True)
    ids = [p.id for p in store.papers.between(DAY, DAY, 10, sort="votes")]
    assert ids[:2] == ["2503.00003", "2503.00002"]
    assert [p.id for p in store.papers.between(DAY, DAY, 10)][0] == "2503.00000", \
        "newest: ingest order"


def test_every_public_change_moves_the_state_pages_are_cached_by(store: Store) -> None:
    key, ada = _key(store, "2503.00001"), _member(store, "ada")
    seen = [store.state()]

    def changed() -> bool:
        seen.append(store.state())
        return seen[-1] != seen[-2]

    store.community.vote(ada, key, True)
    assert changed(), "a vote"
    store.community.vote(ada, key, True)
    assert not changed(), "a vote that changes nothing"
    store.community.submit(key, ada, DAY)
    assert changed(), "a submission"
    store.community.set_hidden(key, True)
    assert changed(), "hiding"
    store.papers.upsert(_papers(6))
    assert changed() and seen[-1].seq > seen[-2].seq, "a new paper"
    assert store.community.version() == seen[-1].community
    assert store.papers.max_seq() == seen[-1].seq

"""Private ratings, a member's signals (ratings, upvotes, saved papers), picked
categories, private feed tokens and the digest switch, on a real database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from paperfeed.models import Paper
from paperfeed.store import Store


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    store = make_store()
    store.papers.upsert([Paper(title=f"Paper number {i}", arxiv_id=f"2503.{i:05d}",
                               source="test", source_ref=str(i)) for i in range(6)])
    return store


def _keys(store: Store) -> list[int]:
    return [store.papers.get(f"2503.{i:05d}").key for i in range(6)]  # type: ignore[union-attr]


def _member(store: Store, name: str = "ada") -> int:
    return store.members.add_user(name, f"{name}@example.org", "hash").id


def _save(store: Store, user_id: int, paper_key: int) -> None:
    # The library's own interface lives on its branch (store/library.py); its tables are
    # migration 0007's, which is all a saved paper needs to count as a signal.
    with store.db.write() as tx:
        cid = tx.scalar(text("INSERT INTO collections (user_id, name, created_at)"
                             " VALUES (:u, 'Reading', '2026-01-01') RETURNING id"), {"u": user_id})
        tx.run(text("INSERT INTO collection_papers (collection_id, paper_key, added_at)"
                    " VALUES (:c, :p, '2026-01-01')"), {"c": cid, "p": paper_key})


def test_rate_changes_and_takes_back(store: Store) -> None:
    ada, k = _member(store), _keys(store)
    store.ratings.rate(ada, k[0], 1)
    store.ratings.rate(ada, k[1], -1)
    store.ratings.rate(ada, k[0], -1)  # changed mind: one row, the new rating
    assert store.ratings.rated(ada, k) == {k[0]: -1, k[1]: -1}
    store.ratings.rate(ada, k[1], 0)
    assert [(r.paper_key, r.rating) for r in store.ratings.ratings(ada)] == [(k[0], -1)]
    with pytest.raises(ValueError):
        store.ratings.rate(ada, k[2], 2)
    assert store.ratings.rated(ada, k) == {k[0]: -1}


def test_ratings_are_private_and_apart_from_upvotes(store: Store) -> None:
    ada, bob, k = _member(store), _member(store, "bob"), _keys(store)
    store.ratings.rate(ada, k[0], 1)
    assert store.ratings.rated(bob, k) == {}
    assert store.community.vote_counts(k) == {}  # a rating is no upvote


def test_signals_join_ratings_upvotes_and_saved_papers(store: Store) -> None:
    ada, bob, k = _member(store), _member(store, "bob"), _keys(store)
    store.ratings.rate(ada, k[0], 1)
    store.ratings.rate(ada, k[1], -1)
    store.community.vote(ada, k[2], up=True)
    store.community.vote(ada, k[1], up=True)  # rated -1 and upvoted: the -1 wins
    _save(store, ada, k[3])
    store.community.vote(bob, k[4], up=True)
    store.ratings.set_categories(ada, ["cs.LG", "cs.CL", "cs.LG"])
    signals = store.ratings.signals(ada)
    assert signals.positive == tuple(sorted([k[0], k[2], k[3]]))
    assert signals.negative == (k[1],)
    assert signals.categories == ("cs.CL", "cs.LG")
    assert store.ratings.signals(bob).positive == (k[4],)
    assert not signals.empty and store.ratings.signals(_member(store, "cy")).empty


def test_picked_categories_are_replaced(store: Store) -> None:
    ada = _member(store)
    store.ratings.set_categories(ada, ["cs.LG"])
    store.ratings.set_categories(ada, ["math.PR", "cs.IR"])
    assert store.ratings.categories(ada) == ["cs.IR", "math.PR"]
    store.ratings.set_categories(ada, [])
    assert store.ratings.categories(ada) == []


def test_feed_tokens_and_the_digest_switch(store: Store) -> None:
    ada, bob = _member(store), _member(store, "bob")
    token = store.ratings.add_feed_token(ada, "a" * 64)
    assert store.ratings.feed_user("a" * 64) == ada
    assert [t.id for t in store.ratings.feed_tokens(ada)] == [token.id]
    assert not store.ratings.revoke_feed_token(bob, token.id)  # not bob's to revoke
    assert store.ratings.revoke_feed_token(ada, token.id)
    assert store.ratings.feed_user("a" * 64) is None
    assert not store.ratings.digest_for_you(ada)
    store.ratings.set_digest_for_you(ada, True)
    assert store.ratings.digest_for_you(ada) and not store.ratings.digest_for_you(bob)

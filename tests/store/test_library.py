"""A member's collections: owner checks in every statement, counts, order, share tokens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from paperfeed.errors import Conflict
from paperfeed.models import Paper
from paperfeed.store import Store


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    store = make_store()
    store.papers.upsert([Paper(title=f"A study of topic number {i} in depth",
                               arxiv_id=f"2503.{i:05d}", published=date(2025, 3, 10),
                               source="test", source_ref=str(i)) for i in range(4)])
    return store


def _member(store: Store, name: str) -> int:
    return store.members.add_user(name, f"{name}@example.org", "hash").id


def _keys(store: Store) -> list[int]:
    return [store.papers.get(f"2503.{i:05d}").key for i in range(4)]  # type: ignore[union-attr]


def test_collections_hold_papers_newest_added_first_with_counts(store: Store) -> None:
    ada, bob = _member(store, "ada"), _member(store, "bob")
    keys = _keys(store)
    reading = store.library.create(ada, "Reading")
    mine = store.library.create(ada, "Mine")
    for key in keys[:3]:
        assert store.library.add(ada, reading.id, key)
    assert not store.library.add(ada, reading.id, keys[0]), "already there"
    store.library.add(ada, mine.id, keys[3])
    assert [(c.name, c.count) for c in store.library.of_member(ada)] == [("Reading", 3),
                                                                         ("Mine", 1)]
    assert store.library.of_member(bob) == []
    listed = store.library.papers(reading.id, 10)
    assert sorted(listed) == sorted(keys[:3]) and len(listed) == 3
    assert store.library.papers(reading.id, 2, 2) == listed[2:]
    assert store.library.holding(ada, keys) == {keys[0]: {reading.id}, keys[1]: {reading.id},
                                                keys[2]: {reading.id}, keys[3]: {mine.id}}
    assert store.library.saved_keys(ada) == set(keys) and store.library.saved_keys(bob) == set()
    assert store.library.remove(ada, reading.id, keys[0])
    assert store.library.saved_keys(ada) == set(keys[1:])


def test_another_members_collection_is_out_of_reach(store: Store) -> None:
    ada, bob = _member(store, "ada"), _member(store, "bob")
    key = _keys(store)[0]
    reading = store.library.create(ada, "Reading")
    store.library.add(ada, reading.id, key)
    assert store.library.get(bob, reading.id) is None
    assert not store.library.add(bob, reading.id, _keys(store)[1])
    assert not store.library.remove(bob, reading.id, key)
    assert not store.library.rename(bob, reading.id, "Taken")
    assert not store.library.set_share_token(bob, reading.id, "t" * 24)
    assert not store.library.delete(bob, reading.id)
    found = store.library.get(ada, reading.id)
    assert found is not None and found.name == "Reading" and found.count == 1
    assert found.share_token is None


def test_names_are_unique_per_member_case_blind(store: Store) -> None:
    ada, bob = _member(store, "ada"), _member(store, "bob")
    store.library.create(ada, "Reading")
    with pytest.raises(Conflict):
        store.library.create(ada, "reading")
    assert store.library.create(bob, "Reading").name == "Reading"
    assert store.library.by_name(ada, "READING") is not None


def test_share_token_finds_the_collection_until_replaced_or_revoked(store: Store) -> None:
    ada = _member(store, "ada")
    reading = store.library.create(ada, "Reading")
    assert store.library.set_share_token(ada, reading.id, "first-token")
    assert store.library.by_share_token("first-token").id == reading.id  # type: ignore[union-attr]
    store.library.set_share_token(ada, reading.id, "second-token")
    assert store.library.by_share_token("first-token") is None
    store.library.set_share_token(ada, reading.id, None)
    assert store.library.by_share_token("second-token") is None


def test_deleting_a_collection_or_member_keeps_the_papers(store: Store) -> None:
    ada = _member(store, "ada")
    keys = _keys(store)
    reading = store.library.create(ada, "Reading")
    store.library.add(ada, reading.id, keys[0])
    assert store.library.delete(ada, reading.id)
    assert store.library.get(ada, reading.id) is None
    assert store.library.saved_keys(ada) == set()
    assert store.papers.count() == 4

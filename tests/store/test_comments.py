"""Comments on papers: threads one level deep, edit/delete own, hiding, counts for many
papers, the per-member rate limit and the length cap, on a real database."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from paperfeed.errors import BadRequest, Forbidden, NotFound, TooManyAttempts
from paperfeed.models import Paper
from paperfeed.store import COMMENT_RATE_LIMIT as RATE_LIMIT
from paperfeed.store import MAX_COMMENT as MAX_BODY
from paperfeed.store import Store


@pytest.fixture
def store(make_store: Callable[[], Store]) -> Store:
    store = make_store()
    store.papers.upsert([Paper(title=f"Paper number {i}", arxiv_id=f"2503.{i:05d}",
                               source="test", source_ref=str(i)) for i in range(3)])
    return store


def _keys(store: Store) -> list[int]:
    return [store.papers.get(f"2503.{i:05d}").key for i in range(3)]  # type: ignore[union-attr]


def _member(store: Store, name: str) -> int:
    return store.members.add_user(name, f"{name}@example.org", "hash").id


def test_thread_order_and_one_level_of_replies(store: Store) -> None:
    ada, bob, (k, *_) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    first = store.comments.add(ada, k, "First!")
    second = store.comments.add(bob, k, "Second thread")
    reply = store.comments.add(bob, k, "A reply", parent_id=first.id)
    # A reply to a reply joins the same thread, under the top-level comment.
    deeper = store.comments.add(ada, k, "A reply to the reply", parent_id=reply.id)
    assert deeper.parent_id == first.id
    thread = store.comments.thread(k)
    assert [(c.id, c.parent_id) for c in thread] == [
        (first.id, None), (reply.id, first.id), (deeper.id, first.id), (second.id, None)]
    assert [c.username for c in thread] == ["ada", "bob", "ada", "bob"]
    assert thread[0].body == "First!" and thread[0].edited_at is None


def test_parent_must_be_on_the_same_paper(store: Store) -> None:
    ada, (k, other, _) = _member(store, "ada"), _keys(store)
    top = store.comments.add(ada, k, "here")
    with pytest.raises(NotFound):
        store.comments.add(ada, other, "elsewhere", parent_id=top.id)
    with pytest.raises(NotFound):
        store.comments.add(ada, k, "nothing", parent_id=top.id + 100)
    assert store.comments.thread(other) == []


def test_edit_own_keeps_edited_at_and_others_cannot(store: Store) -> None:
    ada, bob, (k, *_) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    mine = store.comments.add(ada, k, "tpyo")
    edited = store.comments.edit(ada, mine.id, "  typo fixed \r\n")
    assert edited.body == "typo fixed" and edited.edited_at is not None
    with pytest.raises(Forbidden):
        store.comments.edit(bob, mine.id, "vandalised")
    with pytest.raises(Forbidden):
        store.comments.delete(bob, mine.id)
    assert store.comments.thread(k)[0].body == "typo fixed"


def test_delete_keeps_the_thread_shape_only_when_there_are_replies(store: Store) -> None:
    ada, bob, (k, *_) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    top = store.comments.add(ada, k, "a secret I regret")
    store.comments.add(bob, k, "an answer", parent_id=top.id)
    alone = store.comments.add(ada, k, "no replies here")
    store.comments.delete(ada, top.id)
    store.comments.delete(ada, alone.id)
    thread = store.comments.thread(k)
    assert [(c.id, c.deleted, c.body) for c in thread] == [
        (top.id, True, ""), (thread[1].id, False, "an answer")]
    assert thread[0].username is None  # the placeholder names nobody
    assert store.comments.get(top.id).body == ""  # type: ignore[union-attr]  # text gone
    with pytest.raises(BadRequest):  # a deleted comment takes no replies
        store.comments.add(bob, k, "late", parent_id=top.id)
    with pytest.raises(NotFound):  # nor edits
        store.comments.edit(ada, top.id, "undo")


def test_hide_and_unhide(store: Store) -> None:
    ada, (k, *_) = _member(store, "ada"), _keys(store)
    spam = store.comments.add(ada, k, "buy now")
    store.comments.set_hidden(spam.id, True)
    assert store.comments.thread(k) == [] and store.comments.counts([k]) == {}
    assert store.comments.get(spam.id).body == "buy now"  # type: ignore[union-attr]
    store.comments.set_hidden(spam.id, False)
    assert [c.body for c in store.comments.thread(k)] == ["buy now"]
    for missing in (spam.id + 1, 2**63, -1):
        with pytest.raises(NotFound):
            store.comments.set_hidden(missing, True)
        assert store.comments.get(missing) is None


def test_counts_for_many_papers_in_one_query(store: Store) -> None:
    ada, bob, (k0, k1, k2) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    top = store.comments.add(ada, k0, "one")
    store.comments.add(bob, k0, "two", parent_id=top.id)
    gone = store.comments.add(bob, k0, "three")
    store.comments.add(bob, k1, "elsewhere")
    store.comments.delete(bob, gone.id)
    assert store.comments.counts([k0, k1, k2]) == {k0: 2, k1: 1}
    assert store.comments.counts([]) == {}


def test_length_cap_and_empty_body(store: Store) -> None:
    ada, (k, *_) = _member(store, "ada"), _keys(store)
    store.comments.add(ada, k, "x" * MAX_BODY)
    with pytest.raises(BadRequest, match="at most"):
        store.comments.add(ada, k, "x" * (MAX_BODY + 1))
    with pytest.raises(BadRequest):
        store.comments.add(ada, k, " \n\t ")
    assert len(store.comments.thread(k)) == 1  # nothing refused was stored


def test_rate_limit_per_member_in_the_database(make_store: Callable[[], Store],
                                               store: Store) -> None:
    ada, bob, (k, *_) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    for i in range(RATE_LIMIT):
        store.comments.add(ada, k, f"comment {i}")
    other_process = make_store()  # the count is in the database: every process sees it
    with pytest.raises(TooManyAttempts) as refused:
        other_process.comments.add(ada, k, "one too many")
    assert 0 < (refused.value.retry_after_s or 0) <= 601
    assert "comments" in str(refused.value)
    store.comments.add(bob, k, "bob is not limited by ada")
    # Comments older than the window no longer count.
    with store.db.write() as tx:
        tx.run(text("UPDATE comments SET created_at = '2001-01-01T00:00:00+00:00'"))
    store.comments.add(ada, k, "after the window")


def test_comments_bump_the_community_version(store: Store) -> None:
    ada, (k, *_) = _member(store, "ada"), _keys(store)
    before = store.state().community
    c = store.comments.add(ada, k, "cache me not")
    after_add = store.state().community
    store.comments.edit(ada, c.id, "edited")
    assert before < after_add < store.state().community


def test_own_comments_among_ids(store: Store) -> None:
    ada, bob, (k, *_) = _member(store, "ada"), _member(store, "bob"), _keys(store)
    a, b = store.comments.add(ada, k, "a"), store.comments.add(bob, k, "b")
    gone = store.comments.add(ada, k, "gone")
    store.comments.delete(ada, gone.id)
    assert store.comments.own(ada, [a.id, b.id, gone.id]) == {a.id: "a"}
    assert store.comments.own(bob, [a.id, b.id]) == {b.id: "b"}


def test_a_moderator_sees_hidden_comments_with_their_text(store: Store) -> None:
    ada, (k, *_) = _member(store, "ada"), _keys(store)
    spam = store.comments.add(ada, k, "buy now")
    store.comments.set_hidden(spam.id, True)
    assert [(c.body, c.hidden) for c in store.comments.thread(k, moderator=True)] == [
        ("buy now", True)]

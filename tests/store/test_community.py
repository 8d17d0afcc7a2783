"""Members, votes, submissions and lists against a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paperfeed.discover.trending import trend_key, trending
from paperfeed.models import Paper
from paperfeed.store import Store
from paperfeed.store.community import Community

DAY = date(2025, 3, 10)


def _papers(n: int, day: date = DAY) -> list[Paper]:
    return [Paper(title=f"A study of topic number {i} in depth", abstract=f"About {i}.",
                  arxiv_id=f"2503.{i:05d}", published=day, source="test", source_ref=str(i))
            for i in range(n)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "pf.sqlite")
    store.upsert(_papers(5))
    return store


@pytest.fixture
def community(store: Store) -> Community:
    return Community(store)


def _member(community: Community, name: str) -> int:
    return community.add_user(name, f"{name}@example.org", "hash").id


def test_first_member_is_admin_and_names_are_unique(community: Community) -> None:
    first = community.add_user("ada", "ada@example.org", "h")
    second = community.add_user("bob", "bob@example.org", "h")
    assert first.is_admin and not second.is_admin
    with pytest.raises(sqlite3.IntegrityError):
        community.add_user("ADA", "other@example.org", "h")  # names are case-blind
    assert community.name_or_email_taken("x", "BOB@example.org") == "email"
    assert community.user_by_login("Ada@Example.org") == first


def test_vote_toggles_and_counts(community: Community, store: Store) -> None:
    rowid = store.get("2503.00001").rowid
    ada, bob = _member(community, "ada"), _member(community, "bob")
    assert community.vote(ada, rowid).voted
    assert community.vote(bob, rowid, True).votes == 2
    assert community.vote(bob, rowid, True).votes == 2, "setting twice is one vote"
    state = community.vote(ada, rowid)  # toggle off
    assert (state.votes, state.voted) == (1, False)
    assert community.vote_counts([rowid]) == {rowid: 1}
    assert community.voted_by(bob, [rowid]) == {rowid}
    assert community.voted_by(ada, [rowid]) == set()


def test_fifty_concurrent_voters_are_counted_exactly(tmp_path: Path) -> None:
    """Each thread has its own SQLite connection, as each web worker thread does."""
    store = Store(tmp_path / "pf.sqlite")
    store.upsert(_papers(1))
    community = Community(store)
    rowid = store.get("2503.00000").rowid
    members = [_member(community, f"voter{i}") for i in range(50)]
    start = threading.Barrier(50)
    errors: list[BaseException] = []

    def vote(user_id: int) -> None:
        try:
            start.wait()
            for _ in range(3):  # up, down, up: ends voted
                community.vote(user_id, rowid)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=vote, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert community.vote_counts([rowid]) == {rowid: 50}
    rows = store.conn.execute("SELECT count(*) FROM votes WHERE paper_rowid = ?",
                              (rowid,)).fetchone()[0]
    assert rows == 50


def test_submission_features_paper_once_and_hiding_removes_it(community: Community,
                                                              store: Store) -> None:
    old = Paper(title="An old classic paper about pointer networks", arxiv_id="1506.03134",
                published=date(2015, 6, 9), source="test", source_ref="old")
    store.upsert([old])
    rowid = store.get("1506.03134").rowid
    ada = _member(community, "ada")
    today = date(2025, 3, 12)
    submission, created = community.submit(rowid, ada, today)
    assert created and submission.username == "ada"
    again, created = community.submit(rowid, _member(community, "bob"), today)
    assert not created and again.username == "ada"
    assert store.latest_date() == today
    listed = [p.id for p in store.between(today, today, 10)]
    assert listed == ["1506.03134"] and store.count_between(today, today) == 1
    assert store.nearest_date(today, before=True) == DAY
    community.set_hidden(rowid, True)
    assert store.between(today, today, 10) == [] and store.count_between(today, today) == 0
    assert store.latest_date() == DAY
    assert community.hidden([rowid]) == {rowid}


def test_most_upvoted_first_within_a_day(community: Community, store: Store) -> None:
    ada, bob = _member(community, "ada"), _member(community, "bob")
    third = store.get("2503.00003").rowid
    second = store.get("2503.00002").rowid
    for member in (ada, bob):
        community.vote(member, third, True)
    community.vote(ada, second, True)
    ids = [p.id for p in store.between(DAY, DAY, 10, sort="votes")]
    assert ids[:2] == ["2503.00003", "2503.00002"]
    assert [p.id for p in store.between(DAY, DAY, 10)][0] == "2503.00000", "newest: ingest order"


def test_trending_decays_with_age_and_order_is_time_invariant(community: Community,
                                                              store: Store) -> None:
    old = store.get("2503.00000").rowid  # listed on DAY
    store.upsert([Paper(title="A brand new paper about fresh things", arxiv_id="2503.09999",
                        published=DAY + timedelta(days=1), source="test", source_ref="n")])
    new = store.get("2503.09999").rowid
    voters = [_member(community, f"m{i}") for i in range(5)]
    for member in voters[:3]:
        community.vote(member, old, True)  # 3 votes, one day older
    community.vote(voters[3], new, True)  # 1 vote, newer
    half_life = 24
    ranked = trending(community, half_life, 10)
    # 3 votes a day (one half-life) older = 1.5 fresh votes > 1 fresh vote
    assert [t.paper_rowid for t in ranked] == [old, new]
    community.vote(voters[4], new, True)  # 2 fresh votes > 1.5
    later = datetime.now(UTC) + timedelta(days=30)
    assert [t.paper_rowid for t in trending(community, half_life, 10, now=later)] == [new, old]
    assert [t.paper_rowid for t in trending(community, half_life, 10)] == [new, old]
    now = datetime(2025, 3, 11, tzinfo=UTC)
    scores = {t.paper_rowid: t.score for t in trending(community, half_life, 10, now=now)}
    assert scores[new] == pytest.approx(2.0) and scores[old] == pytest.approx(1.5)
    assert trend_key(4, DAY, 24) == pytest.approx(trend_key(2, DAY - timedelta(days=1), 24) + 2)


def test_sessions_expire_and_password_change_ends_them(community: Community) -> None:
    ada = community.add_user("ada", "ada@example.org", "h")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    community.add_session("live", ada.id, future)
    community.add_session("stale", ada.id, past)
    assert community.session_user("live") == ada
    assert community.session_user("stale") is None
    community.set_password(ada.id, "new-hash")
    assert community.session_user("live") is None

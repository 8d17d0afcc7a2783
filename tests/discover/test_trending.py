"""Trending: votes that fade with age, an order that needs no clock, kept until a vote."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.discover.trending import ranked, trend_key, trending
from paperfeed.models import Paper

from ..conftest import make_settings

DAY = date(2025, 3, 10)


@pytest.fixture
def catalog(tmp_path: Path, store_backend: dict[str, str]) -> Catalog:
    catalog = Catalog(make_settings(tmp_path, load_demo=False, trending_half_life_hours=24,
                                    **store_backend))
    catalog.store.papers.upsert([
        Paper(title="An older paper about settled things", arxiv_id="2503.00000",
              published=DAY, source="test", source_ref="o"),
        Paper(title="A brand new paper about fresh things", arxiv_id="2503.09999",
              published=DAY + timedelta(days=1), source="test", source_ref="n")])
    return catalog


def _key(catalog: Catalog, paper_id: str) -> int:
    found = catalog.store.papers.get(paper_id)
    assert found is not None
    return found.key


def test_decays_with_age_and_order_is_time_invariant(catalog: Catalog) -> None:
    community = catalog.store.community
    old, new = _key(catalog, "2503.00000"), _key(catalog, "2503.09999")
    voters = [catalog.store.members.add_user(f"m{i}", f"m{i}@example.org", "hash").id
              for i in range(5)]
    for member in voters[:3]:
        community.vote(member, old, True)  # 3 votes, one day older
    community.vote(voters[3], new, True)  # 1 vote, newer
    # 3 votes a day (one half-life) older = 1.5 fresh votes > 1 fresh vote
    assert [t.paper_key for t in trending(catalog, 10)] == [old, new]
    community.vote(voters[4], new, True)  # 2 fresh votes > 1.5
    later = datetime.now(UTC) + timedelta(days=30)
    assert [t.paper_key for t in trending(catalog, 10, now=later)] == [new, old]
    assert [t.paper_key for t in trending(catalog, 10)] == [new, old]
    assert [t.paper_key for t in trending(catalog, 1, offset=1)] == [old]
    now = datetime(2025, 3, 11, tzinfo=UTC)
    scores = {t.paper_key: t.score for t in trending(catalog, 10, now=now)}
    assert scores[new] == pytest.approx(2.0) and scores[old] == pytest.approx(1.5)
    assert trend_key(4, DAY, 24) == pytest.approx(trend_key(2, DAY - timedelta(days=1), 24) + 2)


def test_the_order_is_kept_on_the_catalog_until_the_next_vote(catalog: Catalog) -> None:
    ada = catalog.store.members.add_user("ada", "ada@example.org", "hash").id
    old = _key(catalog, "2503.00000")
    catalog.store.community.vote(ada, old, True)
    first = ranked(catalog)
    assert ranked(catalog) is first, "no vote since: the same list"
    other = Catalog(catalog.settings)  # another reader of the same data directory
    assert ranked(other) == first and ranked(other) is not first, "one cache per catalog"
    catalog.store.community.vote(ada, _key(catalog, "2503.09999"), True)
    assert len(ranked(catalog)) == 2, "a vote invalidates it"

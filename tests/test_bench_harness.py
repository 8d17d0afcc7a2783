"""The benchmark harness: its metrics, and the SQL it runs on a real data dir.

harness/tables.py is the one place bench/ touches the store's tables directly; these tests
fail when the schema moves under it (the store refactor, a second database), so the
benchmarks are adapted with the store rather than found broken at the next run.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from paperfeed.catalog import Catalog
from paperfeed.discover.search import Filters
from paperfeed.models import Paper

from .conftest import REPO, make_settings

sys.path.insert(0, str(REPO / "bench"))
from harness import tables  # noqa: E402
from harness.evaluate import exact_top_k, mean_ndcg, ndcg_at_k, recall_at_k  # noqa: E402
from harness.ratings import ranking_metrics  # noqa: E402
from harness.wrk import lua_script  # noqa: E402


def test_recommendation_metrics_agree_with_their_definitions() -> None:
    """ranking_metrics' nDCG@10 and recall@50 against the harness's own, its AUC against
    the share of (relevant, irrelevant) pairs ordered right, counted pair by pair."""
    rng = np.random.default_rng(3)
    candidates = rng.permutation(np.arange(1000, 1400))
    scores = rng.normal(size=len(candidates))
    relevant = set(candidates[rng.choice(len(candidates), 7, replace=False)].tolist())
    ndcg, recall, auc = ranking_metrics(scores, candidates, relevant)
    ranked = [int(c) for c in candidates[np.argsort(-scores, kind="stable")]]
    assert ndcg == pytest.approx(ndcg_at_k(ranked, dict.fromkeys(relevant, 1)))
    assert recall == pytest.approx(len(set(ranked[:50]) & relevant) / len(relevant))
    rel = [s for c, s in zip(candidates, scores, strict=True) if c in relevant]
    irr = [s for c, s in zip(candidates, scores, strict=True) if c not in relevant]
    assert auc == pytest.approx(np.mean([r > i for r in rel for i in irr]))
    perfect = np.asarray([1.0 if c in relevant else 0.0 for c in candidates])
    assert ranking_metrics(perfect, candidates, relevant) == pytest.approx((1.0, 1.0, 1.0))
    assert ranking_metrics(-perfect, candidates, relevant)[2] == 0.0
    assert all(np.isnan(ranking_metrics(scores, candidates, set())))


def test_ndcg_follows_trec_eval() -> None:
    relevant = {"a": 1, "b": 1}
    assert ndcg_at_k(["a", "b", "x"], relevant) == pytest.approx(1.0)
    # one of two relevant documents, at rank 2: (1/log2 3) / (1 + 1/log2 3)
    assert ndcg_at_k(["x", "a"], relevant) == pytest.approx(0.6309 / 1.6309, abs=1e-4)
    assert ndcg_at_k(["x", "y"], relevant) == 0.0
    assert ndcg_at_k(["b", "a"], {"a": 2, "b": 1}) < 1.0  # graded: the better one first
    assert ndcg_at_k(["a"] + ["x"] * 20, {"a": 1}, k=10) == pytest.approx(1.0)
    assert mean_ndcg({"q1": ["a"]}, {"q1": {"a": 1}, "q2": {"b": 1}}) == pytest.approx(0.5)


def test_recall_and_exact_top_k_agree_with_a_full_sort() -> None:
    assert recall_at_k([3, 1, 9], [1, 2, 3, 4], 2) == 0.5
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((1000, 8)).astype(np.float32)
    queries = rng.standard_normal((5, 8)).astype(np.float32)
    keys = np.arange(1000, 2000, dtype=np.uint64)
    blocks = [(keys[i:i + 300], vectors[i:i + 300]) for i in range(0, 1000, 300)]
    found, scores = exact_top_k(queries, blocks, 10)
    for q in range(5):
        truth = np.argsort(-(vectors @ queries[q]))[:10]
        assert found[q].tolist() == (keys[truth]).tolist()
        assert np.all(np.diff(scores[q]) <= 0)


def test_the_lua_script_quotes_what_it_sends() -> None:
    script = lua_script([("GET", '/search?q="x"', {"Cookie": "a=b"}, None),
                         ("POST", "/vote", None, "")])
    assert '{"GET", "/search?q=\\"x\\"", {["Cookie"] = "a=b"}, nil}' in script
    assert '{"POST", "/vote", nil, ""}' in script
    assert "{ITEMS}" not in script


@pytest.fixture
def catalog(tmp_path: Path, store_backend: dict[str, str]) -> Iterator[Catalog]:
    """A catalog on each backend; on PostgreSQL its data dir names the database as the
    bench's copies do (harness/postgres.py), so the functions taking `home` find it."""
    settings = make_settings(tmp_path, load_demo=False, **store_backend)
    tables.use_database(settings.home, store_backend.get("database_url"))
    catalog = Catalog(settings)
    catalog.ingest([Paper(title=f"Paper number {i} on graph kernels and their uses",
                          abstract=f"About kernels {i}.", arxiv_id=f"2501.{i:05d}",
                          published=date(2025, 1, 1 + i), categories=["cs.LG"] if i % 2 else [],
                          source="t", source_ref=str(i)) for i in range(6)])
    catalog.reindex()
    yield catalog
    catalog.store.close()


def test_tables_read_the_store(catalog: Catalog) -> None:
    home = catalog.settings.home
    assert tables.stored(home) == (6, catalog.store.papers.max_seq(), "2025-01-06")
    every = tables.published(home)
    assert [i for _, i in every] == [p.id for p in tables.papers(catalog, [k for k, _ in every])]
    assert len(tables.published(home, date(2025, 1, 2), date(2025, 1, 4))) == 2
    keys = tables.sample_keys(catalog, 3, random.Random(1))
    assert [tables.key_of(p) for p in tables.papers(catalog, keys)] == keys
    in_order: list[int] = []
    texts = list(tables.texts(catalog, in_order))
    assert len(texts) == 6 and in_order == sorted(in_order) and texts[0].startswith("Paper")
    assert tables.publication_days(catalog)[0] == "2025-01-01"
    assert len(tables.busiest_days(catalog, 4)) == 4
    assert tables.count_matching(catalog, Filters(categories=("cs.LG",))) == 3
    assert tables.count_matching(catalog, Filters(date(2025, 1, 5))) == 2
    assert tables.store_bytes(home) > 0


def test_tables_take_back_only_the_bench_members_votes(catalog: Catalog) -> None:
    home = catalog.settings.home
    keys = [k for k, _ in tables.published(home)]
    bench = catalog.store.members.add_user("bench-01", "b@example.org", "x", is_admin=False)
    other = catalog.store.members.add_user("reader", "r@example.org", "x", is_admin=False)
    for key in keys[:3]:
        catalog.store.community.vote(bench.id, key, up=True)
    catalog.store.community.vote(other.id, keys[0], up=True)
    assert tables.members_named(home, "bench-") == {"bench-01"}
    assert tables.community_counts(home) == {"votes": 4, "voted_papers": 3, "members": 2}
    assert tables.take_back_votes(home, "bench-", keys[1:2]) == 1
    assert tables.take_back_votes(home, "bench-") == 2
    assert catalog.store.community.vote_counts(keys[:3]) == {keys[0]: 1, keys[1]: 0, keys[2]: 0}
    tables.bulk_subscribe(catalog, [("a@example.org", "daily", True, None),
                                    ("b@example.org", "weekly", False, "kernels")])
    subscriptions = catalog.store.subscriptions
    assert [s.query for s in subscriptions.due("weekly")] == ["kernels"]
    tables.reset_digests(home, "bench-")
    assert subscriptions.due("daily") == subscriptions.due("weekly") == []
    assert tables.members_named(home, "bench-") == set()
    assert tables.community_counts(home)["votes"] == 1
    assert tables.sent_message_ids(catalog) == []

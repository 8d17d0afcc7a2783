"""Filtered search over the memory-mapped matrix, and the caches in front of search and
similar papers: answers equal brute force, and every cache lets a change of the store or
the index through at once (a hidden paper, a new paper, new vectors)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from paperfeed.catalog import Catalog
from paperfeed.discover.search import Filters, search, semantic_ranking
from paperfeed.discover.similar import similar
from paperfeed.index.embed import paper_text
from paperfeed.models import Paper, StoredPaper

from ..conftest import make_settings


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The demo corpus in a data dir of this module's own (its tests change it)."""
    return Catalog(make_settings(tmp_path_factory.mktemp("caches")))


def everything(catalog: Catalog) -> list[StoredPaper]:
    keys = [row.key for batch in catalog.store.papers.changed_since(0) for row in batch]
    return catalog.store.papers.get_many(keys)


def busiest_month(catalog: Catalog) -> Filters:
    """A filter on the month most demo papers were published in (they have no categories)."""
    counts = Counter(p.published.replace(day=1) for p in everything(catalog) if p.published)
    start = counts.most_common(1)[0][0]
    return Filters(start, (start + timedelta(days=31)).replace(day=1) - timedelta(days=1))


def passes(paper: StoredPaper, filters: Filters) -> bool:
    assert filters.date_from and filters.date_to
    return paper.published is not None and \
        filters.date_from <= paper.published <= filters.date_to


def hide(catalog: Catalog, key: int) -> None:
    """As an admin hides a submitted paper (only submissions can be hidden)."""
    users = catalog.store.members
    user = users.user_by_name("admin") or users.add_user("admin", "a@example.org", "x")
    catalog.store.community.submit(key, user.id, date(2025, 1, 1))
    catalog.store.community.set_hidden(key, True)


def test_filtered_semantic_ranking_is_the_brute_force_answer(catalog: Catalog) -> None:
    filters = busiest_month(catalog)
    passing = [p for p in everything(catalog) if passes(p, filters)]
    assert 10 < len(passing) < catalog.store.papers.count()
    embedder = catalog.indexes.semantic.embedder
    vectors = embedder.encode([paper_text(p.title, p.abstract) for p in passing])
    for query in ("large language models", "speculative decoding", "robot grasping"):
        scores = vectors @ catalog.indexes.embed_query(query)
        expected = [passing[i].key for i in np.argsort(-scores)[:10]]
        found = semantic_ranking(catalog, query, filters, 10)
        assert [key for key, _ in found] == expected
        assert np.allclose([s for _, s in found], np.sort(scores)[::-1][:10], atol=2e-3)


def test_hidden_papers_leave_filtered_results(catalog: Catalog) -> None:
    filters = busiest_month(catalog)
    top = search(catalog, "language models", filters=filters, limit=5)[0].paper
    hide(catalog, top.key)
    try:
        hits = search(catalog, "language models", filters=filters, limit=5)
        assert top.key not in {hit.paper.key for hit in hits} and len(hits) == 5
    finally:
        catalog.store.community.set_hidden(top.key, False)


def test_a_new_paper_passes_a_filter_searched_before(catalog: Catalog) -> None:
    """The filter's papers are cached per store state: a paper stored (and indexed) after
    a search with that filter must be found by the next one."""
    filters = Filters(categories=("q-bio.NC",))
    query = "grid cells encode spatial navigation in the entorhinal cortex"
    assert not any("Grid cells" in h.paper.title
                   for h in search(catalog, query, mode="semantic", filters=filters))
    catalog.ingest([Paper(arxiv_id="2501.99901", title="Grid cells and spatial navigation",
                          abstract="Grid cells in the entorhinal cortex encode space for "
                                   "navigation.", categories=["q-bio.NC"], authors=["A. B"],
                          source="test", source_ref="2501.99901")])
    catalog.reindex()
    hits = search(catalog, query, mode="semantic", filters=filters)
    assert hits and hits[0].paper.id == "2501.99901"


def test_similar_lists_follow_hidden_and_new_papers(catalog: Catalog) -> None:
    paper = next(p for p in everything(catalog) if "distillation" in p.title.lower())
    before = similar(catalog, paper, 5)
    assert similar(catalog, paper, 5) == before  # served again from the cache
    first = before[0][0]
    hide(catalog, first.key)
    try:
        assert first.key not in {p.key for p, _ in similar(catalog, paper, 5)}
    finally:
        catalog.store.community.set_hidden(first.key, False)
    assert similar(catalog, paper, 5) == before
    twin = replace(paper, id="twin")
    catalog.ingest([Paper(arxiv_id="2501.99902", title=twin.title + " (revisited)",
                          abstract=twin.abstract, categories=twin.categories,
                          authors=["C. D"], source="test", source_ref="2501.99902")])
    assert "2501.99902" not in {p.id for p, _ in similar(catalog, paper, 5)}  # not indexed
    catalog.reindex()
    assert similar(catalog, paper, 5)[0][0].id == "2501.99902"

"""The keyword index's "more like this": papers sharing a paper's key terms."""

from __future__ import annotations

from paperfeed.catalog import Catalog

KD_PAPER = "Simple Semi-supervised Knowledge Distillation"


def _by_title(catalog: Catalog, start: str) -> int:
    keys = [key for key, _ in catalog.indexes.fulltext.search(start, 20)]
    papers = catalog.store.papers.get_many(keys)
    return next(p.key for p in papers if p.title.startswith(start))


def test_more_like_this_finds_the_knowledge_distillation_papers(
        demo_catalog: Catalog) -> None:
    """Issue 10's example: the demo corpus holds six other knowledge-distillation papers;
    the embedding neighbours of this one found none of them in the top 40."""
    key = _by_title(demo_catalog, KD_PAPER)
    paper = demo_catalog.store.papers.get_many([key])[0]
    found = demo_catalog.indexes.fulltext.more_like_this(paper.title, paper.abstract, 10,
                                                         exclude=key)
    titles = [p.title.lower() for p in demo_catalog.store.papers.get_many(
        [k for k, _ in found])]
    assert key not in [k for k, _ in found]
    distillation = [t for t in titles if "distillation" in t or "kd" in t.split()]
    assert len(distillation) >= 4, titles


def test_document_frequencies_count_papers_per_stemmed_term(demo_catalog: Catalog) -> None:
    counts = demo_catalog.indexes.fulltext.document_frequencies(["distil", "qwzxv"])
    assert counts["qwzxv"] == 0
    everything = demo_catalog.store.papers.count()
    assert 6 <= counts["distil"] < everything

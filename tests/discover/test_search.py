"""Search, similar papers and feeds on real indexes (tantivy + usearch + the shipped model)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.discover import daily
from paperfeed.discover.search import Filters, fuse, required_query, search
from paperfeed.discover.similar import similar
from paperfeed.errors import BadRequest
from paperfeed.models import Paper

from ..conftest import make_settings

PAPERS = [
    ("2401.00001", "Graph neural networks for molecular property prediction",
     "We predict molecular properties with message passing graph neural networks.",
     date(2024, 1, 3), ["cs.LG", "q-bio.QM"]),
    ("2401.00002", "Message passing on molecules with equivariant networks",
     "Equivariant message passing improves predictions of quantum chemistry properties.",
     date(2024, 1, 3), ["cs.LG"]),
    ("2302.00003", "Dark matter halos in cosmological simulations",
     "We measure the density profiles of dark matter halos in large N-body simulations.",
     date(2023, 2, 10), ["astro-ph.CO"]),
    ("2302.00004", "Pairwise ranking losses for learning to rank",
     "A study of pairwise losses such as RankNet for ranking documents in search engines.",
     date(2023, 2, 11), ["cs.IR"]),
    ("2206.00005", "Quantum error correction with surface codes",
     "Surface codes protect logical qubits; we study decoders for quantum error correction.",
     date(2022, 6, 1), ["quant-ph"]),
]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("search"), load_demo=False))
    catalog.ingest([Paper(arxiv_id=i, title=t, abstract=a, published=d, categories=c,
                          authors=["Grace Hopper"], source="test", source_ref=i)
                    for i, t, a, d, c in PAPERS])
    catalog.reindex()
    return catalog


def ids(hits: list) -> list[str]:
    return [h.paper.id for h in hits]


def test_each_mode_finds_the_obvious_paper(catalog: Catalog) -> None:
    for mode in ("keyword", "semantic", "hybrid"):
        assert ids(search(catalog, "dark matter halos", mode=mode, limit=3))[0] == "2302.00003"


def test_semantic_finds_meaning_without_shared_words(catalog: Catalog) -> None:
    query = "galaxies universe"
    assert search(catalog, query, mode="keyword") == []
    assert ids(search(catalog, query, mode="semantic", limit=1)) == ["2302.00003"]


def test_hybrid_combines_both_rankings(catalog: Catalog) -> None:
    hits = search(catalog, "molecules graph networks", mode="hybrid", limit=2)
    assert set(ids(hits)) == {"2401.00001", "2401.00002"}
    # five papers: the transformer embeds them at once, and its vectors rank the meaning
    assert all({"keyword", "transformer"} <= hit.ranks.keys() for hit in hits)
    assert "<mark>" in str(hits[0].title_html) + str(hits[0].snippet_html)


def test_filters_apply_to_every_mode(catalog: Catalog) -> None:
    in_2023 = Filters(date(2023, 1, 1), date(2023, 12, 31))
    cs_ir = Filters(categories=("cs.IR",))
    for mode in ("keyword", "semantic", "hybrid"):
        assert set(ids(search(catalog, "networks ranking halos", mode=mode,
                              filters=in_2023))) <= {"2302.00003", "2302.00004"}
        assert ids(search(catalog, "learning", mode=mode, filters=cs_ir)) in (["2302.00004"], [])
    assert ids(search(catalog, "ranking", mode="semantic", filters=cs_ir)) == ["2302.00004"]


def test_bad_queries(catalog: Catalog) -> None:
    assert search(catalog, "   ") == []
    with pytest.raises(BadRequest, match="at most 500"):
        search(catalog, "q" * 501)
    assert isinstance(search(catalog, f" {'q' * 500} "), list), "spaces around do not count"
    with pytest.raises(BadRequest, match="q must not be empty"):
        required_query("  ")
    with pytest.raises(BadRequest, match="at most 500"):
        required_query("q" * 501)
    with pytest.raises(BadRequest):
        search(catalog, "graphs", mode="psychic")
    hostile = search(catalog, 'AND OR NOT "unclosed (( title:[* TO halos', mode="keyword")
    assert ids(hostile)[:1] == ["2302.00003"], "query syntax in user text is ignored"


def test_fusion_prefers_agreement_and_respects_weights() -> None:
    a = [(1, 10.0), (2, 9.0), (3, 1.0)]
    b = [(2, 0.9), (4, 0.8), (1, 0.1)]
    fused = fuse({"a": a, "b": b}, {"a": 0.5, "b": 0.5})
    assert [key for key, _, _ in fused][:2] == [2, 1]
    assert fused[0][2] == {"a": 2, "b": 1}
    assert fused[0][1] == pytest.approx(0.5 * 8 / 9 + 0.5 * 1.0)
    only_b = fuse({"a": a, "b": b}, {"a": 0.0, "b": 1.0})
    assert [key for key, _, _ in only_b][:3] == [2, 4, 1]
    assert fuse({"a": [], "b": [(7, 0.3)]}, {"a": 0.5, "b": 0.5})[0][:2] == (7, 0.5)


def test_similar_excludes_itself_and_ranks_neighbours(catalog: Catalog) -> None:
    paper = catalog.store.papers.get("2401.00001")
    assert paper is not None
    found = similar(catalog, paper, 4)
    assert paper.id not in [p.id for p, _ in found]
    assert found[0][0].id == "2401.00002"
    scores = [s for _, s in found]
    assert scores == sorted(scores, reverse=True)


def test_reindex_is_incremental_and_idempotent(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    papers = [Paper(arxiv_id=i, title=t, abstract=a, published=d, categories=c,
                    source="test", source_ref=i) for i, t, a, d, c in PAPERS]
    catalog.ingest(papers)
    assert catalog.reindex().indexed == 5
    catalog.ingest(papers)
    assert catalog.reindex().indexed == 0, "same input twice: nothing to re-index"
    changed = Paper(arxiv_id="2302.00004", version=2, title="Listwise ranking losses",
                    abstract="Listwise losses beat pairwise ones.", source="test", source_ref="v2")
    catalog.ingest([changed])
    report = catalog.reindex()
    assert (report.indexed, report.embedded) == (1, 2), "one paper, one vector per tier"
    assert len(catalog.indexes.vectors) == 5 and catalog.indexes.fulltext.num_docs() == 5
    assert ids(search(catalog, "listwise", mode="keyword")) == ["2302.00004"]


def test_another_process_ingest_becomes_searchable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, load_demo=False)
    reader = Catalog(settings, read_only=True)
    writer = Catalog(settings)
    writer.ingest([Paper(arxiv_id="2501.00009", title="Sparse autoencoders for interpretability",
                         abstract="Dictionary learning finds features.", source="t",
                         source_ref="t")])
    writer.reindex()
    assert reader.refresh() is True
    assert reader.refresh() is False, "nothing new: no reload"
    assert ids(search(reader, "sparse autoencoders", limit=1)) == ["2501.00009"]


def test_periods_and_navigation(catalog: Catalog) -> None:
    week = daily.parse_period(week="2024-W01")
    assert week is not None and (week.start, week.end) == (date(2024, 1, 1), date(2024, 1, 7))
    assert week.key == "2024-W01"
    month = daily.parse_period(month="2023-02")
    assert month is not None and month.end == date(2023, 2, 28)
    assert daily.parse_period() is None
    with pytest.raises(BadRequest):
        daily.parse_period(day="2024-02-30")
    latest = daily.latest_period(catalog)
    assert latest is not None and latest.start == date(2024, 1, 3)
    around = daily.neighbours(catalog, daily.period_of("day", date(2023, 2, 10)))
    assert around.older is not None and around.older.start == date(2022, 6, 1)
    assert around.newer is not None and around.newer.start == date(2023, 2, 11)
    assert daily.parse_sort(None) == "trending" and daily.parse_sort("newest") == "newest"
    with pytest.raises(BadRequest, match="use one of trending, newest"):
        daily.parse_sort("oldest")

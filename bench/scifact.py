"""Retrieval quality on BEIR SciFact: nDCG@10 of keyword, semantic and the shipped hybrid.

Runs the real pipeline: the 5,183 SciFact abstracts are ingested into a fresh data
directory, indexed, and each of the 300 test queries is searched through
`paperfeed.discover.search` as users search; nDCG@10 against the qrels
(harness/evaluate.py). `--weights` also scores the hybrid with other keyword weights
(the same two rankings fused differently; no timing for those rows).

    python bench/scifact.py [--embedder NAME] [--weights 0.5 0.6 0.7 0.9]

Writes bench/results/scifact-<embedder>.json: embedder, docs, queries, index_build_s,
embed_s, and results (one row per ranking: ndcg@10, ms/query), with the published
BM25 and all-MiniLM-L6-v2 numbers for comparison.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import datadir, tables
from harness.corpora import SciFact, load_scifact
from harness.evaluate import mean_ndcg
from harness.report import print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.discover import search as search_mod
from paperfeed.discover.search import Filters, fuse, keyword_ranking, semantic_ranking
from paperfeed.index.embed import preload_runtimes

PUBLISHED = {"BM25 (published)": 0.665, "all-MiniLM-L6-v2 (published)": 0.645}


def shipped(catalog: Catalog, data: SciFact, mode: str, label: str) -> dict[str, Any]:
    """nDCG@10 and time per query of `search()` in one mode, as the site runs it."""
    start = time.perf_counter()
    rankings = {qid: [h.paper.id for h in search_mod.search(catalog, text, limit=10, mode=mode)]
                for qid, text in data.queries.items()}
    elapsed = time.perf_counter() - start
    return {"ranking": label, "ndcg@10": round(mean_ndcg(rankings, data.qrels), 4),
            "ms/query": round(1000 * elapsed / len(data.queries), 2)}


def reweighted(catalog: Catalog, data: SciFact, weights: list[float]) -> list[dict[str, Any]]:
    """The hybrid with other keyword weights: search()'s two rankings, fused as it fuses."""
    both = {qid: {"keyword": keyword_ranking(catalog, text, Filters()),
                  "semantic": semantic_ranking(catalog, text, Filters())}
            for qid, text in data.queries.items()}
    rows = []
    for weight in weights:
        rankings = {}
        for qid, found in both.items():
            top = [key for key, _, _ in fuse(found, {"keyword": weight,
                                                     "semantic": 1.0 - weight})[:10]]
            rankings[qid] = [p.id for p in tables.papers(catalog, top)]
        rows.append({"ranking": f"hybrid (keyword weight {weight})",
                     "ndcg@10": round(mean_ndcg(rankings, data.qrels), 4), "ms/query": None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--weights", type=float, nargs="*", default=[],
                        help="also try these keyword weights for the hybrid")
    args = parser.parse_args()
    preload_runtimes()
    data = load_scifact()
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(datadir.settings(Path(home), args.embedder))
        start = time.perf_counter()
        catalog.ingest(data.papers)
        report = catalog.reindex(progress=True)
        build_s = time.perf_counter() - start
        weight = search_mod.keyword_weight(catalog)
        rows = [shipped(catalog, data, "keyword", "keyword"),
                shipped(catalog, data, "semantic", "semantic"),
                shipped(catalog, data, "hybrid",
                        f"hybrid (keyword weight {weight}) [shipped]")]
        rows += reweighted(catalog, data, [w for w in args.weights if w != weight])
        rows += [{"ranking": name, "ndcg@10": value, "ms/query": None}
                 for name, value in PUBLISHED.items()]
        embedder, docs = catalog.indexes.semantic.stamp.model, catalog.store.papers.count()
        print_table(f"SciFact nDCG@10, {len(data.queries)} test queries, {docs} docs, "
                    f"embedder {embedder}", rows)
        write_json(f"scifact-{embedder}", {
            "embedder": embedder, "docs": docs, "queries": len(data.queries),
            "index_build_s": round(build_s, 1), "embed_s": round(report.embed_seconds, 1),
            "results": rows})


if __name__ == "__main__":
    main()

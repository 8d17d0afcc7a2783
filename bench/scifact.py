"""Retrieval quality on BEIR SciFact: nDCG@10 of keyword, semantic and the shipped hybrid.

Runs the real pipeline: the 5,183 SciFact abstracts are ingested into a fresh data
directory, indexed (a bulk update: the transformer tier is left to the backfill, which then
runs to completion as `paperfeed index --wait` runs it), and each of the 300 test queries is
searched through `paperfeed.discover.search` as users search; nDCG@10 against the qrels
(harness/evaluate.py). `--weights` also scores the hybrid with other keyword weights
(the same rankings fused differently; no timing for those rows): the transformer tier's
weight where it has vectors, else the static tier's. `--coverage 0 0.5`
also scores the site while the backfill has covered only that share of the papers (the
newest: here the highest keys; the other vectors are dropped in memory), and `--raw N`
first times the transformer alone on N abstracts (raw ONNX Runtime, the backfill's ceiling).
`--sample N` keeps the papers the test queries judge plus N others (seeded): for a busy
machine, where the transformer's 5,183 abstracts take hours; its numbers compare variants with
each other only (fewer distractors score higher than the full corpus).

    python bench/scifact.py [--embedder NAME] [--weights 0.5 0.7] [--coverage 0 0.5]
                            [--raw 640] [--home DIR (reuse its embedding cache)] [--sample N]
                            [--vectors-from DIR (another run's data dir: its cached vectors)]
                            [--transformer NAME=FILE.onnx (a candidate in the tier's place)]

Writes bench/results/scifact-<embedder>.json: embedder, docs, queries, index_build_s,
embed_s, and results (one row per ranking: ndcg@10, ms/query), with the published
BM25 and all-MiniLM-L6-v2 numbers for comparison.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import datadir, tables, vectorcache
from harness.corpora import SciFact, load_scifact
from harness.evaluate import mean_ndcg
from harness.report import print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.discover import search as search_mod
from paperfeed.discover.search import (
    Filters,
    fuse_tiers,
    keyword_ranking,
    semantic_ranking,
    transformer_keyword_weight,
    transformer_ranking,
)
from paperfeed.index import sync
from paperfeed.index.embed import paper_text, preload_runtimes
from paperfeed.index.embedders import EMBEDDERS, load_embedder

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
    """The hybrid with other keyword weights: search()'s rankings, fused as it fuses. With a
    transformer tier holding vectors, its weight is the one varied (it decides the papers
    it covers: all of them once the backfill is done), else the static tier's."""
    static, transformer = search_mod.keyword_weight(catalog), transformer_keyword_weight(catalog)
    tiered = catalog.indexes.transformer is not None and len(catalog.indexes.transformer)
    found = {}
    for qid, text in data.queries.items():
        found[qid] = {"keyword": keyword_ranking(catalog, text, Filters()),
                      "semantic": semantic_ranking(catalog, text, Filters())}
        candidates = {key for ranking in found[qid].values() for key, _ in ranking}
        found[qid]["transformer"] = transformer_ranking(catalog, text, Filters(),
                                                        search_mod.CANDIDATES, candidates)
    rows = []
    for weight in weights:
        pair = (static, weight) if tiered else (weight, transformer)
        rankings = {}
        for qid, rankings_of in found.items():
            fused = fuse_tiers(rankings_of, {"keyword": pair[0], "semantic": 1.0 - pair[0]},
                               {"keyword": pair[1], "transformer": 1.0 - pair[1]})
            rankings[qid] = [p.id for p in tables.papers(catalog, [k for k, _, _ in fused[:10]])]
        tier = "transformer" if tiered else "static"
        rows.append({"ranking": f"hybrid ({tier} keyword weight {weight})",
                     "ndcg@10": round(mean_ndcg(rankings, data.qrels), 4), "ms/query": None})
    return rows


def sample(data: SciFact, others: int) -> SciFact:
    judged = {doc for docs in data.qrels.values() for doc in docs}
    rest = [p for p in data.papers if p.id not in judged]
    keep = judged | {p.id for p in random.Random(10).sample(rest, min(others, len(rest)))}
    return SciFact([p for p in data.papers if p.id in keep], data.queries, data.qrels)


def raw_rate(data: SciFact, count: int) -> float:
    """Abstracts/s of the transformer alone (ONNX Runtime, as the backfill calls it)."""
    texts = [paper_text(p.title, p.abstract) for p in data.papers[:count]]
    embedder = load_embedder(sync.TRANSFORMER, indexing=True)
    embedder.encode(texts[:8])
    start = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - start)


def swap_transformer(candidate: str) -> None:
    """Put a candidate graph (NAME=FILE.onnx, e.g. a fine-tuned MiniLM from
    scripts/train_minilm.py) in the transformer tier's place, with the shipped model's
    tuning, under its own name (so no cache mixes its vectors with the shipped model's)."""
    label, _ = candidate.split("=", 1)
    spec = replace(EMBEDDERS[sync.TRANSFORMER], name=label,
                   loader=lambda *_: vectorcache.load(candidate))
    EMBEDDERS[label] = EMBEDDERS[sync.TRANSFORMER] = spec


def site_rows(catalog: Catalog, data: SciFact, suffix: str = "") -> list[dict[str, Any]]:
    weights = (f"static keyword weight {search_mod.keyword_weight(catalog)}, transformer "
               f"{transformer_keyword_weight(catalog)}")
    return [shipped(catalog, data, "keyword", "keyword" + suffix),
            shipped(catalog, data, "semantic", "semantic" + suffix),
            shipped(catalog, data, "hybrid", f"hybrid ({weights}) [shipped]{suffix}")]


def covered(catalog: Catalog, data: SciFact, shares: list[float]) -> list[dict[str, Any]]:
    """The site's numbers with only the newest `share` of the papers transformer-embedded."""
    tier = catalog.indexes.transformer
    if tier is None:
        return []
    rows = []
    papers = catalog.store.papers
    newest_first = papers.newest_up_to(papers.max_seq())  # the backfill's order
    for share in sorted(shares, reverse=True):
        tier.index.remove(newest_first[int(share * len(newest_first)):])
        rows += site_rows(catalog, data, f", transformer coverage {share:.0%}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--weights", type=float, nargs="*", default=[],
                        help="also try these keyword weights for the hybrid")
    parser.add_argument("--coverage", type=float, nargs="*", default=[])
    parser.add_argument("--raw", type=int, default=0)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--vectors-from", type=Path, default=None)
    parser.add_argument("--transformer", default=None, metavar="NAME=FILE.onnx")
    args = parser.parse_args()
    preload_runtimes()
    if args.transformer:
        swap_transformer(args.transformer)
    data = load_scifact()
    if args.sample is not None:
        data = sample(data, args.sample)
    raw = round(raw_rate(data, args.raw), 2) if args.raw else None
    with tempfile.TemporaryDirectory() as scratch:
        home = args.home or Path(scratch)
        catalog = Catalog(datadir.settings(home, args.embedder))
        start = time.perf_counter()
        catalog.ingest(data.papers)
        if args.vectors_from:
            catalog.indexes.seed(catalog.store.papers, datadir.cached_vectors(args.vectors_from))
        report = catalog.reindex(progress=True)
        backfill = catalog.indexes.backfill(catalog.store.papers, progress=True)
        build_s = time.perf_counter() - start
        rows = site_rows(catalog, data)
        rows += reweighted(catalog, data, args.weights)
        rows += covered(catalog, data, [c for c in args.coverage if c < 1])
        rows += [{"ranking": name, "ndcg@10": value, "ms/query": None}
                 for name, value in PUBLISHED.items()]
        rate = backfill.embedded / backfill.seconds if backfill.embedded else None
        embedder, docs = catalog.indexes.semantic.stamp.model, catalog.store.papers.count()
        print_table(f"SciFact nDCG@10, {len(data.queries)} test queries, {docs} docs, "
                    f"embedder {embedder}", rows)
        write_json(f"scifact-{embedder}", {
            "embedder": embedder, "docs": docs, "queries": len(data.queries),
            "index_build_s": round(build_s, 1), "embed_s": round(report.embed_seconds, 1),
            "backfill": {"papers": backfill.indexed, "embedded": backfill.embedded,
                         "seconds": round(backfill.seconds, 1),
                         "abstracts/s": round(rate, 2) if rate else None,
                         "raw onnxruntime abstracts/s": raw},
            "results": rows})
        print(f"backfill: {backfill.embedded} embedded in {backfill.seconds:.0f}s"
              f" ({rate or 0:.1f}/s; raw ONNX Runtime {raw or '-'}/s)")


if __name__ == "__main__":
    main()

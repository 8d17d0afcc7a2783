"""Retrieval quality on BEIR SciFact: nDCG@10 of keyword, semantic and the shipped hybrid.

Runs the real pipeline: SciFact abstracts are ingested into a fresh data
directory and searched through `paperfeed.discover.search`, as users search.

    python bench/scifact.py [--embedder NAME]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import SHARED, print_table, write_json  # noqa: E402

from paperfeed.catalog import Catalog  # noqa: E402
from paperfeed.discover import search as search_mod  # noqa: E402
from paperfeed.index.embed import preload_runtimes  # noqa: E402
from paperfeed.models import Paper  # noqa: E402
from paperfeed.settings import load_settings  # noqa: E402

PUBLISHED = {"BM25 (published)": 0.665, "all-MiniLM-L6-v2 (published)": 0.645}


def ndcg_at_10(ranked: list[str], relevant: dict[str, int]) -> float:
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(i + 2)
              for i, doc in enumerate(ranked[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2 ** rel - 1) / math.log2(i + 2) for i, rel in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def load(data: Path) -> tuple[list[Paper], dict[str, str], dict[str, dict[str, int]]]:
    papers = []
    with open(data / "corpus.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            papers.append(Paper(id=f"sf-{doc['_id']}", title=doc["title"] or doc["text"][:80],
                                abstract=doc["text"], source="scifact", source_ref=doc["_id"]))
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(data / "qrels" / "test.tsv") as f:
        next(f)
        for line in f:
            qid, did, score = line.split("\t")
            qrels[qid][f"sf-{did}"] = int(score)
    queries = {}
    with open(data / "queries.jsonl") as f:
        for line in f:
            q = json.loads(line)
            if q["_id"] in qrels:
                queries[q["_id"]] = q["text"]
    return papers, queries, qrels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--weights", type=float, nargs="*", default=[],
                        help="also try these keyword weights for the hybrid")
    args = parser.parse_args()
    preload_runtimes()
    papers, queries, qrels = load(SHARED / "data" / "scifact")
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home), load_demo=False, embedder=args.embedder)
        catalog = Catalog(settings)
        start = time.perf_counter()
        catalog.ingest(papers)
        report = catalog.reindex(progress=True)
        build_s = time.perf_counter() - start
        rows = []
        shipped = search_mod.keyword_weight(catalog)
        configs = [("keyword", None), ("semantic", None), ("hybrid", shipped)]
        configs += [("hybrid", w) for w in args.weights if w != shipped]
        for mode, weight in configs:
            if weight is not None:
                search_mod.KEYWORD_WEIGHT[catalog.indexes.meta.embedder] = weight
            scores = []
            start = time.perf_counter()
            for qid, text in queries.items():
                hits = search_mod.search(catalog, text, limit=10, mode=mode)
                scores.append(ndcg_at_10([h.paper.id for h in hits], qrels[qid]))
            elapsed = time.perf_counter() - start
            label = mode if weight is None else f"{mode} (keyword weight {weight})"
            rows.append({"ranking": label + (" [shipped]" if weight == shipped else ""),
                         "ndcg@10": round(sum(scores) / len(scores), 4),
                         "ms/query": round(1000 * elapsed / len(queries), 2)})
        for name, value in PUBLISHED.items():
            rows.append({"ranking": name, "ndcg@10": value, "ms/query": None})
        print_table(f"SciFact nDCG@10, {len(queries)} test queries, {catalog.store.count()} docs, "
                    f"embedder {catalog.indexes.meta.embedder}", rows)
        embedder = catalog.indexes.meta.embedder
        write_json(f"scifact-{embedder}", {"embedder": embedder,
                               "docs": catalog.store.count(), "queries": len(queries),
                               "index_build_s": round(build_s, 1),
                               "embed_s": round(report.embed_seconds, 1), "results": rows})


if __name__ == "__main__":
    main()

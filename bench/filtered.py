"""Filtered vector search at arXiv scale: the exact scan against the sign-bit shortlist.

    python bench/filtered.py [--home /tmp/pf-bench-all] [--queries 200]

A filtered search scores the papers its filter leaves (discover/search.py) from the
memory-mapped matrix (index/dense.py). Above `PREFILTER_ROWS` rows it first ranks them by
the Hamming distance of their sign bits to the query's and scores only a shortlist. This
times both on a built data dir, with bench/scale.py's queries embedded by each tier that has
vectors (the transformer only over the papers its backfill covers), for the real filters
(category cs.LG: 22k papers, scattered keys; the year 2019: 70k, one run of keys), and
measures what the shortlist loses: recall@10 and recall@100 of the exact top 100.
The load average is noted per row: the machine is shared. Writes bench/results/filtered.json.
"""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import scale
from harness import datadir
from harness.measure import latencies_ms
from harness.report import print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.discover.search import Filters, filter_keys
from paperfeed.index import dense

FILTERS = {"category cs.LG": Filters(categories=("cs.LG",)),
           "year 2019": Filters(date(2019, 1, 1), date(2019, 12, 31))}
DEPTH = 100
SHORTLISTS = (1_000, 2_000, 4_000)  # the shipped one is dense.shortlist(DEPTH)


def top(matrix: dense.DenseMatrix, query: np.ndarray, keys: np.ndarray,
        shortlist: int | None) -> list[int]:
    """`DenseMatrix.top` with the shortlist off (None) or of `shortlist` rows."""
    saved = dense.PREFILTER_ROWS, dense.MIN_SHORTLIST, dense.SHORTLIST_PER_HIT
    dense.PREFILTER_ROWS = dense.PREFILTER_ROWS if shortlist else 10**12
    dense.MIN_SHORTLIST, dense.SHORTLIST_PER_HIT = shortlist or 0, 0
    try:
        return [key for key, _ in matrix.top(query, keys, DEPTH)]
    finally:
        dense.PREFILTER_ROWS, dense.MIN_SHORTLIST, dense.SHORTLIST_PER_HIT = saved


def recall(exact: list[list[int]], found: list[list[int]], k: int) -> float:
    return float(np.mean([len(set(e[:k]) & set(f[:k])) / k for e, f in zip(exact, found,
                                                                            strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pf-bench-all"))
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    catalog = Catalog(datadir.settings(args.home), read_only=True)
    texts = scale.build_queries(catalog, args.queries)
    rows: list[dict[str, Any]] = []
    tiers = [catalog.indexes.semantic, catalog.indexes.transformer]
    for tier in [t for t in tiers if t is not None and len(t.index)]:
        matrix = tier.index.dense
        queries = [tier.embed_query(text) for text in texts]
        for label, filters in FILTERS.items():
            keys = filter_keys(catalog, filters)[0]
            assert keys is not None
            keys = keys[matrix.held(keys)]
            if len(keys) <= dense.PREFILTER_ROWS:
                continue
            exact = [top(matrix, q, keys, None) for q in queries]
            for shortlist in (None, *SHORTLISTS):
                found = [top(matrix, q, keys, shortlist) for q in queries]
                timed = latencies_ms(lambda q, m=matrix, s=shortlist, k=keys: top(m, q, k, s),
                                     queries)
                rows.append({
                    "tier": tier.spec.name, "filter": label, "rows": len(keys),
                    "scan": (f"shortlist {shortlist:,}" if shortlist else "exact (before)")
                    + (" (shipped)" if shortlist == dense.shortlist(DEPTH) else ""),
                    "recall@10": round(recall(exact, found, 10), 3),
                    "recall@100": round(recall(exact, found, 100), 3),
                    "worst recall@10": min(len(set(e[:10]) & set(f[:10])) / 10
                                           for e, f in zip(exact, found, strict=True)),
                    "p50_ms": timed["p50_ms"], "p95_ms": timed["p95_ms"],
                    "load": round(os.getloadavg()[0], 1)})
    papers = catalog.store.papers.count()
    print_table(f"Filtered vector search, top {DEPTH}, {papers:,} papers, "
                f"{len(texts)} queries", rows)
    write_json("filtered", {"home": str(args.home), "papers": papers, "queries": len(texts),
                            "prefilter_rows": dense.PREFILTER_ROWS, "rows": rows})


if __name__ == "__main__":
    main()

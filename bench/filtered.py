"""Filtered vector search at arXiv scale, its parts before and after the memory-mapped matrix.

    python bench/filtered.py [--home /tmp/pf-bench-all] [--vectors FILE.npy] [--queries 60]

A filtered search scores exactly the papers its filter leaves (discover/search.py). This
times that path's two costs on a built store, with the real filters of bench/scale.py
(category cs.LG: 22k papers; the year 2019: 70k) and 384-dim float16 vectors for every key:

- the filter's keys: SQLite each time (before) against the per-store-version cache (after:
  one `max_seq()` to check the version);
- the exact top-100: before, rows gathered from a dense float16 copy in RAM, converted to
  float32 and multiplied (the old `VectorIndex.dense()` path, reproduced here); after,
  `DenseMatrix.top` on the memory-mapped matrix (usearch's float16 kernel, a run of keys
  scored in place).

The vectors are the data dir's own static matrix when it has one, else `--vectors` (an
(n, 384) array whose row i is key i + 1, e.g. bench/similar.py's cache): the cost does not
depend on their values. The load average is noted per row: the machine is shared.
Writes bench/results/filtered.json.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from harness import datadir
from harness.measure import latencies_ms
from harness.report import print_table, write_json

from paperfeed.index.dense import DenseMatrix
from paperfeed.store import Store

FILTERS = {"category cs.LG": (None, None, ["cs.LG"]),
           "year 2019": (date(2019, 1, 1), date(2019, 12, 31), [])}
DEPTH = 100


def matrix(home: Path, vectors: Path | None, scratch: Path) -> DenseMatrix:
    own = DenseMatrix(home / "index" / "vectors-static", 384, writable=False)
    if own.count() or vectors is None:
        return own
    array = np.load(vectors, mmap_mode="r")
    scratch.mkdir(parents=True, exist_ok=True)
    written = DenseMatrix(scratch, 384, writable=True)
    if written.count() != len(array):
        keys = np.arange(1, len(array) + 1)
        for start in range(0, len(array), 65_536):
            stop = start + 65_536
            written.set(keys[start:stop], np.asarray(array[start:stop], dtype=np.float16))
        written.flush()
    return DenseMatrix(scratch, 384, writable=False)


def before(ram: np.ndarray, query: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The old path: gather from the RAM copy, float32, matmul, partial sort."""
    scores = ram[keys].astype(np.float32) @ query
    top = np.argpartition(-scores, DEPTH)[:DEPTH]
    return keys[top[np.argsort(-scores[top])]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pf-bench-all"))
    parser.add_argument("--vectors", type=Path, default=None)
    parser.add_argument("--queries", type=int, default=60)
    args = parser.parse_args()
    store = Store(datadir.settings(args.home).store_url)
    dense = matrix(args.home, args.vectors, args.home.parent / f"{args.home.name}-matrix")
    ram = np.array(dense._maps[0])  # the RAM copy the old path built (float16)
    rng = np.random.default_rng(20240601)
    queries = [q / np.linalg.norm(q) for q in rng.normal(size=(args.queries, 384))]
    queries = [q.astype(np.float32) for q in queries]
    rows: list[dict[str, Any]] = []
    for label, window in FILTERS.items():
        start = time.perf_counter()
        keys = np.asarray(store.papers.keys_matching(*window, 10**7)[0], dtype=np.int64)
        sql_ms = 1000 * (time.perf_counter() - start)
        check = latencies_ms(lambda _: store.papers.max_seq(), range(20))
        old = latencies_ms(lambda q, keys=keys: before(ram, q, keys), queries)
        new = latencies_ms(lambda q, keys=keys: dense.top(q, keys, DEPTH), queries)
        same = np.mean([set(before(ram, q, keys)[:10]) == {k for k, _ in dense.top(q, keys, 10)}
                        for q in queries[:10]])
        load = round(os.getloadavg()[0], 1)
        rows += [
            {"filter": label, "part": "filter keys: SQLite (before)", "papers": len(keys),
             "p50_ms": round(sql_ms, 1), "p95_ms": None, "load": load},
            {"filter": label, "part": "filter keys: cached (after; version check)",
             "papers": len(keys), "p50_ms": check["p50_ms"], "p95_ms": check["p95_ms"],
             "load": load},
            {"filter": label, "part": "exact top-100: RAM copy + float32 (before)",
             "papers": len(keys), "p50_ms": old["p50_ms"], "p95_ms": old["p95_ms"],
             "load": load},
            {"filter": label, "part": "exact top-100: mmap + usearch float16 (after)",
             "papers": len(keys), "p50_ms": new["p50_ms"], "p95_ms": new["p95_ms"],
             "load": load, "same top 10": f"{same:.0%}"},
        ]
    print_table(f"Filtered vector search, {store.papers.count():,} papers, "
                f"{args.queries} queries", rows)
    write_json("filtered", {"home": str(args.home), "papers": store.papers.count(),
                            "queries": args.queries, "rows": rows})


if __name__ == "__main__":
    main()

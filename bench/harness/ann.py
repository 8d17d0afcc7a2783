"""How well an HNSW index finds the true nearest neighbours: recall against an exact scan.

The exact top-k is computed over the index's own stored (float16) vectors in blocks, so
recall measures the graph search only, not quantisation. A query's crowdedness matters:
the report gives the median score gap between the exact 10th and 11th hit and the mean
cosine of random pairs, and a recall that accepts a hit scoring within `TIE_TOLERANCE`
of the exact 10th ("ties ok").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from paperfeed.index.vectors import VectorIndex

from .evaluate import exact_top_k, recall_at_k
from .measure import latencies_ms
from .report import log

BLOCK = 50_000  # stored vectors per block of the exact scan (bounds memory)
TIE_TOLERANCE = 1e-3


def _blocks(vectors: VectorIndex, keys: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for lo in range(0, len(keys), BLOCK):
        chunk = keys[lo:lo + BLOCK]
        yield chunk, np.vstack(vectors.index.get(chunk, dtype=np.float32))


def ann_recall(vectors: VectorIndex, queries: np.ndarray, depth: int, ef_values: list[int],
               seed: int) -> dict[str, Any]:
    """Recall@10 and @depth and search latency at each HNSW `expansion_search` value."""
    index = vectors.index
    keys = np.sort(np.asarray(index.keys, dtype=np.uint64))
    start = time.perf_counter()
    exact, exact_scores = exact_top_k(queries, _blocks(vectors, keys), depth)
    exact_s = time.perf_counter() - start
    gap = float(np.median(exact_scores[:, 9] - exact_scores[:, 10]))
    sample = np.random.default_rng(seed).choice(keys, min(2000, len(keys)), replace=False)
    V = np.vstack(index.get(sample, dtype=np.float32))
    pair_cos = float((V @ V.T)[np.triu_indices(len(V), 1)].mean())
    rows = []
    default = index.expansion_search
    idx = list(range(len(queries)))
    try:
        for ef in sorted(set(ef_values) | {default}):
            index.expansion_search = ef
            found10 = [vectors.search(q, 10) for q in queries]
            at10 = [[k for k, _ in f] for f in found10]
            at10_s = [[s for _, s in f] for f in found10]
            at_depth = [[k for k, _ in vectors.search(q, depth)] for q in queries]
            truth = [exact[i].tolist() for i in idx]
            t10 = latencies_ms(lambda i: vectors.search(queries[i], 10), idx)
            t_depth = latencies_ms(lambda i: vectors.search(queries[i], depth), idx)
            r10 = np.mean([recall_at_k(at10[i], truth[i], 10) for i in idx])
            rows.append({
                "expansion_search": ef, "default": ef == default,
                "recall@10 (k=10)": round(float(r10), 4),
                "recall@10 ties ok": round(float(np.mean([np.mean(
                    [s >= exact_scores[i, 9] - TIE_TOLERANCE for s in at10_s[i]])
                    for i in idx])), 4),
                f"recall@10 (k={depth})": round(float(np.mean(
                    [recall_at_k(at_depth[i][:10], truth[i], 10) for i in idx])), 4),
                f"recall@{depth} (k={depth})": round(float(np.mean(
                    [recall_at_k(at_depth[i], truth[i], depth) for i in idx])), 4),
                "p50 ms k=10": t10["p50_ms"], "p95 ms k=10": t10["p95_ms"],
                f"p50 ms k={depth}": t_depth["p50_ms"], f"p95 ms k={depth}": t_depth["p95_ms"]})
            log(f"ANN ef={ef}: recall@10 {r10:.4f}")
    finally:
        index.expansion_search = default
    return {"vectors": len(keys), "queries": len(queries),
            "exact_seconds_total": round(exact_s, 2),
            "exact_ms_per_query_batched": round(1000 * exact_s / len(queries), 2),
            "median_gap_10th_11th": round(gap, 5), "mean_cosine_random_pairs": round(pair_cos, 4),
            "tie_tolerance": TIE_TOLERANCE, "rows": rows}

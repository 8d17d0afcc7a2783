"""Ranking quality against judgements: nDCG@k, recall@k, dense and exact rankings.

nDCG follows trec_eval's ndcg_cut (what BEIR reports): gain = the grade, discount
log2(rank + 1), the ideal ranking from the judged grades. SciFact's grades are all 1,
so linear and exponential gain agree there.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_k(found: Iterable[object], relevant: Iterable[object], k: int) -> float:
    """Share of the first `k` of `relevant` that `found` holds (found may be longer)."""
    truth = list(relevant)[:k]
    return len(set(found) & set(truth)) / len(truth) if truth else 0.0


def mean_ndcg(rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]],
              k: int = 10) -> float:
    """Mean nDCG@k over every judged query (a query with no ranking scores 0)."""
    return float(np.mean([ndcg_at_k(rankings.get(q, []), rel, k) for q, rel in qrels.items()]))


def dense_rankings(doc_vectors: np.ndarray, query_vectors: np.ndarray, doc_ids: Sequence[str],
                   query_ids: Sequence[str], k: int = 10) -> dict[str, list[str]]:
    """Each query's top `k` documents by dot product (exact, ties in document order)."""
    scores = query_vectors @ doc_vectors.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return {q: [doc_ids[d] for d in top[i]] for i, q in enumerate(query_ids)}


def exact_top_k(queries: np.ndarray, blocks: Iterable[tuple[np.ndarray, np.ndarray]],
                k: int) -> tuple[np.ndarray, np.ndarray]:
    """(keys, scores) of each query's exact top `k` by dot product, best first, over
    (keys, vectors) blocks: the whole collection never has to be in memory at once."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_k = np.zeros((len(queries), k), dtype=np.uint64)
    for keys, vectors in blocks:
        scores = queries @ vectors.T
        all_s = np.concatenate([best_s, scores], axis=1)
        all_k = np.concatenate([best_k, np.broadcast_to(keys, scores.shape)], axis=1)
        keep = np.argpartition(-all_s, k - 1, axis=1)[:, :k]
        best_s = np.take_along_axis(all_s, keep, axis=1)
        best_k = np.take_along_axis(all_k, keep, axis=1)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_k, order, axis=1), np.take_along_axis(best_s, order, axis=1)

"""The map's 2-D layout: fit a projection on a sample, place the rest by their neighbours.

A projection is fitted once on at most `FIT_SAMPLE` papers' static vectors (openTSNE, the
optional ``map`` extra; PCA when it is missing: docs/map.md has the measurements). Every
other paper, and every new one later, is placed by its `PLACE_K` nearest fitted papers in
the embedding space: the softmax-weighted mean of their 2-D positions. So a new day's
papers land beside their kin in milliseconds and nothing is recomputed. The artifact
(map_artifact.py) refits only when the corpus has doubled since the last fit.

Clusters are k-means regions of the 2-D layout (so a label names what a person sees as a
region), each labelled by its key terms: c-TF-IDF over the English stems of a sample of
its papers' titles and abstracts (`fulltext.term_counts`, the keyword index's analysis).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from usearch.index import Index, MetricKind
from usearch.index import search as exact_search

from .fulltext import term_counts

T = TypeVar("T")

log = logging.getLogger("paperfeed.index.layout")

FIT_SAMPLE = 10_000  # openTSNE: 20k papers took 559 s on a loaded machine (docs/map.md)
PLACE_K = 10
PLACE_TEMPERATURE = 0.02  # softmax over cosines: the nearest few decide, not a blur
EXACT_BELOW = 4_096  # queries placed by exact search; more build an HNSW index of the fit
LABEL_PAPERS = 300  # papers per cluster whose words label it
LABEL_TERMS = 3
COMMON_SHARE = 0.15  # a stem in more of the label papers than this is no key term
SEED = 0
# One thread: on 2 cores shared with other work (load 9-10), 2 threads fitted 3,000 papers
# no faster (88 s against 84 s) and the demo's 316 papers 9-20 times slower (15-36 s
# against 1.7 s: the threads wait on each other); the map is fitted in the background.
TSNE_THREADS = 1


def projection_method() -> str:
    """"tsne" when openTSNE is installed (``pip install 'paperfeed[map]'``), else "pca"."""
    try:
        import openTSNE  # noqa: F401
    except ImportError:
        return "pca"
    return "tsne"


# The last fit and labelling in this process, by a digest of their input: both are
# deterministic (seeded), and one process lays out the same papers again whenever it opens
# another new data dir on the bundled demo corpus (the test suite: 4-5 s each on a loaded
# machine, openTSNE and the labels, dozens of times).
_LAST: dict[str, tuple[str, object]] = {}


def _as_last_time(name: str, digest: str, compute: Callable[[], T]) -> T:
    last = _LAST.get(name)
    if last is not None and last[0] == digest:
        return last[1]  # type: ignore[return-value]
    value = compute()
    _LAST[name] = (digest, value)
    return value


def fit(vectors: np.ndarray, method: str) -> np.ndarray:
    """2-D positions of `vectors` (n x dim float32), scaled into [0, 1] x [0, 1]."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    digest = hashlib.sha1(vectors.tobytes() + method.encode()).hexdigest()
    return _as_last_time("fit", digest, lambda: _fit(vectors, method)).copy()


def _fit(vectors: np.ndarray, method: str) -> np.ndarray:
    if len(vectors) < 4:
        xy = np.zeros((len(vectors), 2), dtype=np.float32)
        xy[:, 0] = np.arange(len(vectors))
    elif method == "tsne":
        from openTSNE import TSNE

        perplexity = min(30.0, (len(vectors) - 1) / 3.0)
        xy = np.asarray(TSNE(perplexity=perplexity, n_jobs=TSNE_THREADS, random_state=SEED,
                             verbose=False).fit(vectors))
    else:
        centred = vectors - vectors.mean(axis=0)
        _, _, axes = np.linalg.svd(centred[:10_000], full_matrices=False)
        xy = centred @ axes[:2].T
    return normalise(xy.astype(np.float32))


def normalise(xy: np.ndarray) -> np.ndarray:
    """Into the unit square, keeping the aspect ratio (a 1st-99th percentile box, so one
    outlier does not squash the map)."""
    if not len(xy):
        return xy
    low, high = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)
    span = float(max((high - low).max(), 1e-9))
    out = (xy - low) / span
    out += (1.0 - (high - low) / span) / 2  # centre the shorter side
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def place(fit_vectors: np.ndarray, fit_xy: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Positions of `queries` from their nearest fitted papers (cosine, vectors normalised)."""
    if not len(queries):
        return np.zeros((0, 2), dtype=np.float32)
    k = min(PLACE_K, len(fit_vectors))
    if len(queries) < EXACT_BELOW:
        found = exact_search(fit_vectors.astype(np.float16), queries.astype(np.float16), k,
                             MetricKind.IP, exact=True, threads=2)
    else:
        index = Index(ndim=fit_vectors.shape[1], metric="ip", dtype="f16")
        index.add(np.arange(len(fit_vectors)), fit_vectors.astype(np.float32), threads=2)
        found = index.search(queries.astype(np.float32), k, threads=2)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(len(queries), k)
    similarity = 1.0 - np.asarray(found.distances, dtype=np.float32).reshape(len(queries), k)
    weights = np.exp((similarity - similarity.max(axis=1, keepdims=True)) / PLACE_TEMPERATURE)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("qk,qkd->qd", weights, fit_xy[keys]).astype(np.float32)


def cluster_count(papers: int) -> int:
    """~8 regions for the demo's 316 papers, up to 60 for the 588k arXiv papers."""
    return max(1, min(60, round(math.sqrt(papers / 5))))


def kmeans(xy: np.ndarray, k: int, rounds: int = 30) -> np.ndarray:
    """Centroids of `k` regions of `xy` (k-means++ start, Lloyd's rounds; seeded)."""
    rng = np.random.default_rng(SEED)
    k = min(k, len(xy))
    centroids = [xy[rng.integers(len(xy))]]
    for _ in range(1, k):
        gap = ((xy[:, None, :] - np.asarray(centroids)[None]) ** 2).sum(-1).min(axis=1)
        if gap.sum() <= 0:
            break
        centroids.append(xy[rng.choice(len(xy), p=gap / gap.sum())])
    centres = np.asarray(centroids, dtype=np.float32)
    for _ in range(rounds):
        labels = assign(xy, centres)
        moved = np.array([xy[labels == c].mean(axis=0) if (labels == c).any() else centres[c]
                          for c in range(len(centres))], dtype=np.float32)
        if np.allclose(moved, centres, atol=1e-6):
            break
        centres = moved
    return centres


def assign(xy: np.ndarray, centroids: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """The nearest centroid of each point (int16)."""
    out = np.zeros(len(xy), dtype=np.int16)
    for start in range(0, len(xy), chunk):
        part = xy[start:start + chunk]
        out[start:start + chunk] = ((part[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
    return out


def key_terms(texts_by_cluster: Sequence[Sequence[str]], top: int = LABEL_TERMS) -> list[list[str]]:
    """Each cluster's `top` words by c-TF-IDF (a cluster's papers as one document: term
    share in the cluster x log(1 + mean words per cluster / the term's count in all)); a
    stem in more than `COMMON_SHARE` of all the papers ("the", "paper", "model") is left
    out. Each term is shown as first written."""
    digest = hashlib.sha1("\0".join("\1".join(texts) + f"\2{top}"
                                     for texts in texts_by_cluster).encode()).hexdigest()
    found = _as_last_time("key_terms", digest, lambda: _key_terms(texts_by_cluster, top))
    return [list(terms) for terms in found]


def _key_terms(texts_by_cluster: Sequence[Sequence[str]], top: int) -> list[list[str]]:
    counts: list[Counter[str]] = []
    forms: dict[str, str] = {}
    papers_with: Counter[str] = Counter()
    for texts in texts_by_cluster:
        cluster: Counter[str] = Counter()
        for text in texts:
            found = term_counts(text)
            papers_with.update(found.keys())
            for stem, (n, form) in found.items():
                cluster[stem] += n
                forms.setdefault(stem, form)
        counts.append(cluster)
    papers = sum(len(texts) for texts in texts_by_cluster)
    common = {stem for stem, n in papers_with.items() if n > COMMON_SHARE * papers and papers > 20}
    total: Counter[str] = Counter()
    for cluster in counts:
        total.update(cluster)
    mean_words = sum(total.values()) / max(1, len(counts))
    labels = []
    for cluster in counts:
        size = sum(cluster.values()) or 1
        scored = sorted(((n / size * math.log(1 + mean_words / total[stem]), stem)
                         for stem, n in cluster.items() if stem not in common and n > 1),
                        reverse=True)
        labels.append([forms[stem] for _, stem in scored[:top]])
    return labels

"""Which projection lays out the map: fit time and quality of PCA, openTSNE, PaCMAP, UMAP.

    pip install scikit-learn openTSNE pacmap umap-learn   # a scratch venv: ~600 MB
    python bench/map_projections.py /path/to/built/datadir [sample size, 20000]

On a random sample of the data dir's static vectors (read-only): each method's fit time,
and two quality checks on 3,000 of the sampled papers: the share of a paper's 10 nearest
by cosine that stay among its 10 nearest in 2-D, and the share of its 10 nearest in 2-D
that share its primary category (the high-D neighbours' share is the ceiling). Writes
bench/results/map-projections.json (docs/map.md has the numbers).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from usearch.index import search as exact

EVAL, DIM, K = 3000, 384, 10


def sample(root: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    folder = root / "index" / "vectors-static"
    has = np.fromfile(folder / "dense.has", dtype=np.uint8)
    matrix = np.memmap(folder / "dense.f16", dtype=np.float16, mode="r").reshape(-1, DIM)
    keys = np.flatnonzero(has[:len(matrix)])
    picked = np.sort(np.random.default_rng(0).choice(keys, n, replace=False))
    db = sqlite3.connect(f"file:{root / 'paperfeed.sqlite'}?mode=ro", uri=True)
    marks = ",".join(map(str, picked.tolist()))
    primary = {k: (c.split() or [""])[0]
               for k, c in db.execute(f"SELECT key, categories FROM papers WHERE key IN ({marks})")}
    return (np.asarray(matrix[picked], dtype=np.float32),
            np.array([primary.get(int(k), "") for k in picked]))


def pca(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(0)
    return centred @ np.linalg.svd(centred[:5000], full_matrices=False)[2][:2].T


def tsne(x: np.ndarray) -> np.ndarray:
    from openTSNE import TSNE
    return np.asarray(TSNE(n_jobs=2, random_state=0).fit(x))


def pacmap_(x: np.ndarray) -> np.ndarray:
    import pacmap
    return pacmap.PaCMAP(n_components=2, random_state=0).fit_transform(x, init="pca")


def umap_(x: np.ndarray) -> np.ndarray:
    import umap
    return umap.UMAP(random_state=0, n_jobs=1).fit_transform(x)


def main() -> None:
    root, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    x, cats = sample(root, n)
    ev = np.random.default_rng(1).choice(n, EVAL, replace=False)
    high = np.asarray(exact(x, x[ev], K + 1, "ip", exact=True, threads=2).keys)[:, 1:]
    res: dict[str, object] = {"n": n, "high-D same_cat@10": round(
        float(np.mean(cats[high] == cats[ev][:, None])), 3)}
    methods: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "pca": pca, "opentsne": tsne, "pacmap": pacmap_, "umap": umap_}
    for name, fit in methods.items():
        started = time.perf_counter()
        y = np.ascontiguousarray(fit(x), dtype=np.float32)
        seconds = time.perf_counter() - started
        y = np.hstack([y, np.zeros((n, 2), np.float32)])  # usearch wants >2 dims; L2 unchanged
        near = np.asarray(exact(y, y[ev], K + 1, "l2sq", exact=True, threads=2).keys)[:, 1:]
        kept = np.mean([len(set(a) & set(b)) / K for a, b in zip(near, high, strict=True)])
        same = np.mean(cats[near] == cats[ev][:, None])
        res[name] = {"fit_s": round(seconds, 1), "knn_kept@10": round(float(kept), 3),
                     "same_cat@10": round(float(same), 3)}
        print(name, res[name], flush=True)
    out = Path(__file__).resolve().parent / "results" / "map-projections.json"
    out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()

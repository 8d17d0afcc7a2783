"""Every vector of a tier in one memory-mapped float16 matrix whose row is the paper's key.

Filtered search scores the papers a filter leaves exactly (discover/search.py). It used to
gather their rows from a dense copy of the HNSW index's vectors, built in RAM by the first
filtered search (~4 s and 0.45 GB more RSS per process at 588k papers). This matrix is written
by the indexer alongside the HNSW index, so every process maps the same file: `serve`'s
workers share its pages in the page cache, nothing is built at search time, and a paper's
row is found by its key with no lookup table (store keys are dense integers).

Two files in the tier's directory: ``dense.f16`` (rows x dim, float16) and ``dense.has``
(one byte per row: 1 where the row holds the paper's current vector). A writer changes rows
in place as it adds and removes vectors and flushes them at its checkpoint; growing adds
rows at the end (`ftruncate`: a sparse file, so the rows of papers a backfilling tier lacks
take no disk). Readers map the files as they are; rows past the end of their mapping are
papers they do not know yet, until the next stamp change re-opens them (artifacts.py).

Scoring uses usearch's exact search over the gathered float16 rows (SimSIMD kernels):
numpy has no fast float16 path (converting 22k rows to float32 cost ~35 ms of CPU, the
float16 dot product ~6 ms). Keys are given in ingest order, and a snapshot or the daily
harvest arrives in date order, so a date filter often leaves one run of keys (a year of the
588k arXiv papers is exactly one): that run is scored in place, skipping the gather, which
cost as much as the scoring (70k rows: 23 + 23 ms on a loaded machine).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from usearch.index import MetricKind
from usearch.index import search as exact_search

GROW_ROWS = 65_536  # rows added at a time when a key lands past the end
# Above this many rows the scan is split over two threads: 70k rows took 33 ms on one and
# 22 ms on two (load 4, 2 cores); below it the second thread costs more than it saves.
PARALLEL_ROWS = 20_000


class DenseMatrix:
    """float16 vectors by key, memory-mapped; `has` says which rows hold a vector."""

    def __init__(self, directory: Path, dim: int, *, writable: bool) -> None:
        self.matrix_path = directory / "dense.f16"
        self.has_path = directory / "dense.has"
        self.dim = dim
        self.writable = writable
        self._map()

    def _map(self) -> None:
        """Map the files as they are now. The two maps are swapped in as one tuple: search
        threads of the writing process take both from one snapshot while `_grow` runs."""
        rows = self._rows_on_disk()
        if not rows:
            self._maps = (np.zeros((0, self.dim), dtype=np.float16), np.zeros(0, dtype=np.uint8))
            return
        mode: Literal["r+", "r"] = "r+" if self.writable else "r"
        self._maps = (np.memmap(self.matrix_path, dtype=np.float16, mode=mode,
                                shape=(rows, self.dim)),
                      np.memmap(self.has_path, dtype=np.uint8, mode=mode, shape=(rows,)))

    def _rows_on_disk(self) -> int:
        try:
            by_matrix = self.matrix_path.stat().st_size // (2 * self.dim)
            return min(by_matrix, self.has_path.stat().st_size)
        except FileNotFoundError:
            return 0

    @property
    def rows(self) -> int:
        return len(self._maps[1])

    def count(self) -> int:
        return int(np.count_nonzero(self._maps[1]))

    def keys(self) -> np.ndarray:
        """Every key whose row holds a vector, ascending (the map's fit and placement)."""
        return np.flatnonzero(self._maps[1]).astype(np.int64)

    def _grow(self, max_key: int) -> None:
        rows = (max_key // GROW_ROWS + 1) * GROW_ROWS
        self.flush()
        for path, size in ((self.matrix_path, rows * 2 * self.dim), (self.has_path, rows)):
            with open(path, "ab") as f:
                os.ftruncate(f.fileno(), size)
        self._map()

    def set(self, keys: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        if not len(keys):
            return
        if int(keys.max()) >= self.rows:
            self._grow(int(keys.max()))
        matrix, present = self._maps
        matrix[keys] = vectors.astype(np.float16)
        present[keys] = 1

    def clear(self, keys: Sequence[int] | np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        present = self._maps[1]
        keys = keys[keys < len(present)]
        if len(keys):
            present[keys] = 0

    def reset(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Exactly these vectors, nothing else (rebuilding from the HNSW index)."""
        for path in (self.matrix_path, self.has_path):
            path.unlink(missing_ok=True)
        self._map()
        for start in range(0, len(keys), GROW_ROWS):
            self.set(keys[start:start + GROW_ROWS], vectors[start:start + GROW_ROWS])
        self.flush()

    def flush(self) -> None:
        for mapped in self._maps:
            if isinstance(mapped, np.memmap):
                mapped.flush()

    def held(self, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        """A bool per key: does its row hold a vector?"""
        keys = np.asarray(keys, dtype=np.int64)
        present = self._maps[1]
        out = np.zeros(len(keys), dtype=bool)
        inside = (keys >= 0) & (keys < len(present))
        out[inside] = present[keys[inside]] == 1
        return out

    def get(self, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        """float32 vectors of `keys`, which must be held."""
        return np.asarray(self._maps[0][np.asarray(keys, dtype=np.int64)], dtype=np.float32)

    def top(self, query: np.ndarray, keys: Sequence[int] | np.ndarray,
            k: int) -> list[tuple[int, float]]:
        """Exact top-k (key, cosine) among `keys` (those without a vector are skipped)."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            keys = np.unique(keys)  # sorted: the gather reads forward (70k keys: ~20 ms)
        keys = keys[self.held(keys)]
        if not len(keys) or k <= 0:
            return []
        matrix = self._maps[0]
        if keys[-1] - keys[0] + 1 == len(keys):  # a run of keys: a view, nothing copied
            rows = matrix[keys[0]:keys[-1] + 1]
        else:  # np.take on the plain array: 22k rows in 7 ms, fancy indexing the memmap 11.5
            rows = np.take(np.asarray(matrix), keys, axis=0)
        k = min(k, len(keys))
        found = exact_search(rows, query.astype(np.float16), k, MetricKind.IP, exact=True,
                             threads=2 if len(rows) > PARALLEL_ROWS else 1)
        picked = np.asarray(found.keys, dtype=np.int64)[:k]
        # usearch ranks by its float16 distances; the scores shown are float32 cosines.
        scores = rows[picked].astype(np.float32) @ query.astype(np.float32)
        order = np.argsort(-scores, kind="stable")
        return [(int(keys[picked[i]]), float(scores[i])) for i in order]

"""Every vector of a tier in one memory-mapped float16 matrix whose row is the paper's key.

Filtered search scores the papers a filter leaves exactly (discover/search.py). It used to
gather their rows from a dense copy of the HNSW index's vectors, built in RAM by the first
filtered search (~4 s and 0.45 GB more RSS per process at 588k papers). This matrix is written
by the indexer alongside the HNSW index, so every process maps the same file: `serve`'s
workers share its pages in the page cache, nothing is built at search time, and a paper's
row is found by its key with no lookup table (store keys are dense integers).

Three files in the tier's directory: ``dense.f16`` (rows x dim, float16), ``dense.has``
(one byte per row: 1 where the row holds the paper's current vector) and ``dense.bits`` (the
signs of each row's dimensions, packed: 48 bytes a row at 384 dimensions). A writer changes rows
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

Above `PREFILTER_ROWS` rows, reading the float16 rows is the cost (a year's 70k rows are 54 MB:
~11 ms on two threads, bound by memory, not arithmetic). There the rows are first ranked by
the Hamming distance of their sign bits to the query's (3.4 MB for 70k rows), and only the
`shortlist` closest are scored in float16: binary quantization with rescoring, as vector
databases do it. Measured at 588k papers: see `shortlist` and docs/search.md.

A few scattered rows (a search's candidates to re-score) are read with `pread`, not through
the map: see `PREAD_ROWS`.
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
PREFILTER_ROWS = 20_000  # above this many rows the sign bits pick the rows to score
PREFILTER_MIN_DIM = 128  # fewer signs than this cannot tell 20k rows apart
SHORTLIST_PER_HIT = 20  # rows scored per hit asked for, at least MIN_SHORTLIST
MIN_SHORTLIST = 2_000
# At most this many scattered rows are read with pread instead of through the map. Reading a
# row through the map faults in its page and the kernel maps the 15 cached pages around it
# as well ("fault-around", 64 KiB; madvise(MADV_RANDOM) does not stop it): 5,000 rows grew
# RSS by 259 MiB instead of 20, and re-scoring ~100 candidates a search took a serving
# process's RSS to the whole file. pread copies the 768 bytes and maps nothing.
PREAD_ROWS = 1_024


def sign_bits(vectors: np.ndarray, width: int) -> np.ndarray:
    """Each row's signs packed 8 to a byte, zero-padded to `width` bytes (a multiple of 8:
    the distance reads them as uint64)."""
    packed = np.packbits(np.asarray(vectors) > 0, axis=-1)
    pad = width - packed.shape[-1]
    return np.pad(packed, [(0, 0)] * (packed.ndim - 1) + [(0, pad)]) if pad else packed


def shortlist(k: int) -> int:
    """Rows scored for a top `k`. At 588k papers (bench/filtered.py) 2,000 for a top 100 kept
    0.995-1.0 of the exact top 10 and 0.96-0.99 of the top 100, at a third to half the cost
    of the exact scan; 4,000 gained 0.01 of the top 100 for ~1 ms more a tier."""
    return max(MIN_SHORTLIST, k * SHORTLIST_PER_HIT)


class _Reader:
    """The matrix file open for pread; closed when the last thread holding it lets go (a
    search may still read the old one after a re-map)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)

    def __del__(self) -> None:
        os.close(self.fd)


class DenseMatrix:
    """float16 vectors by key, memory-mapped; `has` says which rows hold a vector."""

    def __init__(self, directory: Path, dim: int, *, writable: bool) -> None:
        self.matrix_path = directory / "dense.f16"
        self.has_path = directory / "dense.has"
        self.bits_path = directory / "dense.bits"
        self.dim = dim
        self.width = (dim + 63) // 64 * 8  # bytes of sign bits a row
        self.writable = writable
        self._map()

    def _map(self) -> None:
        """Map the files as they are now. The two maps are swapped in as one tuple: search
        threads of the writing process take both from one snapshot while `_grow` runs."""
        rows = self._rows_on_disk()
        self._maps: tuple[np.ndarray, np.ndarray, np.ndarray | None]
        self._reader = _Reader(self.matrix_path) if rows else None
        if not rows:
            self._maps = (np.zeros((0, self.dim), dtype=np.float16), np.zeros(0, dtype=np.uint8),
                          np.zeros((0, self.width), dtype=np.uint8))
            return
        mode: Literal["r+", "r"] = "r+" if self.writable else "r"
        # No bits (a data dir from before them, until its writer's repair): exact scans only.
        bits = (np.memmap(self.bits_path, dtype=np.uint8, mode=mode, shape=(rows, self.width))
                if self._size(self.bits_path) >= rows * self.width else None)
        self._maps = (np.memmap(self.matrix_path, dtype=np.float16, mode=mode,
                                shape=(rows, self.dim)),
                      np.memmap(self.has_path, dtype=np.uint8, mode=mode, shape=(rows,)), bits)

    def _rows_on_disk(self) -> int:
        return min(self._size(self.matrix_path) // (2 * self.dim), self._size(self.has_path))

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    @property
    def has_bits(self) -> bool:
        return self._maps[2] is not None

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
        files = [(self.matrix_path, rows * 2 * self.dim), (self.has_path, rows)]
        if self.has_bits:  # else the rows before would read as zero bits: repair writes them
            files.append((self.bits_path, rows * self.width))
        for path, size in files:
            with open(path, "ab") as f:
                os.ftruncate(f.fileno(), size)
        self._map()

    def set(self, keys: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        if not len(keys):
            return
        if int(keys.max()) >= self.rows:
            self._grow(int(keys.max()))
        matrix, present, bits = self._maps
        matrix[keys] = vectors.astype(np.float16)
        if bits is not None:
            bits[keys] = sign_bits(vectors, self.width)
        present[keys] = 1  # last: a reader seeing the row held sees its vector and bits

    def clear(self, keys: Sequence[int] | np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        present = self._maps[1]
        keys = keys[keys < len(present)]
        if len(keys):
            present[keys] = 0

    def reset(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Exactly these vectors, nothing else (rebuilding from the HNSW index)."""
        for path in (self.matrix_path, self.has_path, self.bits_path):
            path.unlink(missing_ok=True)
        self._map()
        for start in range(0, len(keys), GROW_ROWS):
            self.set(keys[start:start + GROW_ROWS], vectors[start:start + GROW_ROWS])
        self.flush()

    def write_bits(self) -> None:
        """Write the sign bits of every row from the matrix (a data dir from before them:
        ~1 s at 588k papers). Only a holder of the writer lock may call this."""
        tmp = self.bits_path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            matrix = self._maps[0]
            for start in range(0, len(matrix), GROW_ROWS):
                f.write(sign_bits(matrix[start:start + GROW_ROWS], self.width).tobytes())
        tmp.replace(self.bits_path)
        self._map()

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
        """float32 vectors of `keys`, which must be held: a few are read (`PREAD_ROWS`),
        more are gathered from the map."""
        keys = np.asarray(keys, dtype=np.int64)
        reader, size = self._reader, 2 * self.dim
        if reader is None or len(keys) > PREAD_ROWS:
            return np.asarray(self._maps[0][keys], dtype=np.float32)
        data = b"".join([os.pread(reader.fd, size, key * size) for key in keys.tolist()])
        return np.frombuffer(data, dtype=np.float16).reshape(len(keys), self.dim).astype(
            np.float32)

    def top(self, query: np.ndarray, among: Sequence[int] | np.ndarray,
            k: int) -> list[tuple[int, float]]:
        """Exact top-k (key, cosine) among `among` (those without a vector are skipped)."""
        keys = np.asarray(among, dtype=np.int64)
        if len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1])):
            keys = np.unique(keys)  # sorted: the gather reads forward (70k keys: ~20 ms)
        keys = keys[self.held(keys)]
        if not len(keys) or k <= 0:
            return []
        matrix, _, bits = self._maps
        k = min(k, len(keys))
        if (bits is not None and self.dim >= PREFILTER_MIN_DIM and len(keys) > PREFILTER_ROWS
                and len(keys) > shortlist(k)):
            keys = self._closest_by_bits(bits, query, keys, shortlist(k))
        rows = self._rows(matrix, keys)
        found = exact_search(rows, query.astype(np.float16), k, MetricKind.IP, exact=True,
                             threads=2 if len(rows) > PARALLEL_ROWS else 1)
        picked = np.asarray(found.keys, dtype=np.int64)[:k]
        # usearch ranks by its float16 distances; the scores shown are float32 cosines.
        scores = rows[picked].astype(np.float32) @ query.astype(np.float32)
        order = np.argsort(-scores, kind="stable")
        return [(int(keys[picked[i]]), float(scores[i])) for i in order]

    @staticmethod
    def _rows(matrix: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """The rows of sorted `keys`: a view when they are one run, else gathered (np.take
        on the plain array: 22k rows in 7 ms, fancy indexing the memmap 11.5)."""
        if keys[-1] - keys[0] + 1 == len(keys):
            return matrix[keys[0]:keys[-1] + 1]
        return np.take(np.asarray(matrix), keys, axis=0)

    def _closest_by_bits(self, bits: np.ndarray, query: np.ndarray, keys: np.ndarray,
                         n: int) -> np.ndarray:
        """The `n` keys whose sign bits differ least from the query's, ascending."""
        words = self._rows(bits, keys).view(np.uint64)
        mine = sign_bits(query[None, :], self.width).view(np.uint64)
        distance = np.bitwise_count(words ^ mine).sum(axis=1, dtype=np.uint16)
        return np.sort(keys[np.argpartition(distance, n)[:n]])

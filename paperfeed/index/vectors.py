"""Dense vectors: an HNSW index (usearch) plus a cache of computed embeddings.

usearch is a maintained single-file HNSW engine: half-precision storage (half
the RAM of float32 at no measurable recall cost for normalised vectors),
multi-threaded adds, key removal (so a changed paper is re-added, not
duplicated), and save/restore of one file. The cache (`embeddings.sqlite`,
keyed by model and content hash) makes re-indexing and model-restarts free:
nothing is embedded twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from usearch.index import BatchMatches, Index, MetricKind
from usearch.index import search as exact_search

from .dense import DenseMatrix

CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256  # recall@10 0.96 vs 0.93 at 96, at 588k papers (bench/scale.py)
# `neighbours` compares with every vector up to this many (exact; ~0.1 s for 2,000 papers)
EXACT_NEIGHBOURS = 10_000


class EmbeddingCache:
    """Computed embeddings by (model, rowid), valid while the content hash matches."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, rowid_ INTEGER NOT NULL,"
            " content_hash TEXT NOT NULL, vec BLOB NOT NULL, PRIMARY KEY (model, rowid_))"
        )

    def lookup(self, model: str, keys: Sequence[tuple[int, str]]) -> dict[int, np.ndarray]:
        found: dict[int, np.ndarray] = {}
        wanted = dict(keys)
        for start in range(0, len(keys), 500):
            chunk = [k for k, _ in keys[start:start + 500]]
            marks = ",".join("?" * len(chunk))
            for rowid, content_hash, blob in self.conn.execute(
                f"SELECT rowid_, content_hash, vec FROM embeddings WHERE model = ?"
                f" AND rowid_ IN ({marks})", (model, *chunk)):
                if wanted.get(rowid) == content_hash:
                    found[rowid] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return found

    def store(self, model: str, rows: Sequence[tuple[int, str]], vectors: np.ndarray) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings (model, rowid_, content_hash, vec) VALUES (?,?,?,?)",
            [(model, rowid, h, vec.astype(np.float16).tobytes())
             for (rowid, h), vec in zip(rows, vectors, strict=True)],
        )
        self.conn.execute("COMMIT")


class VectorIndex:
    """HNSW over L2-normalised vectors (inner product = cosine similarity), and the same
    vectors by key in a memory-mapped matrix (dense.py) for exact filtered search and
    lookups by key."""

    def __init__(self, path: Path, dim: int, *, view: bool = False) -> None:
        self.path = path
        self.dim = dim
        # Mapped, read-only, whenever the file holds everything: the pages are shared with
        # the other processes serving from this data dir and are dropped first under memory
        # pressure. A writer copies it into private memory only while it changes it
        # (`_editable`) and maps it again after saving: at 588k papers the private copy is
        # ~0.9 GB that the serving writer kept for good.
        self.index = self._mapped() if path.exists() else self._new()
        self._viewing = path.exists()
        self.dense = DenseMatrix(path.parent, dim, writable=not view)

    def _new(self) -> Index:
        return Index(ndim=self.dim, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
                     expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)

    def _mapped(self) -> Index:
        index = self._new()
        index.view(str(self.path))
        return index

    def _editable(self) -> Index:
        """The index in private memory, loaded from the file on the first change after a
        save. A new object is swapped in: searches on other threads keep the one they hold."""
        if self._viewing:
            index = self._new()
            index.load(str(self.path))
            self.index, self._viewing = index, False
        return self.index

    def repair(self) -> bool:
        """Write the matrix from the HNSW index if they disagree (a data dir from before the
        matrix existed, or a writer killed between changing rows and saving the index; ~4 s
        at 588k), or its sign bits if it has none (~1 s); True if it did. Only the holder of
        the writer lock may call this: it replaces the files other writers may be changing."""
        if self.dense.count() == len(self.index):
            if self.dense.has_bits:
                return False
            self.dense.write_bits()  # a data dir from before the sign bits
            return True
        keys = np.asarray(self.index.keys, dtype=np.int64) if len(self.index) else \
            np.zeros(0, dtype=np.int64)
        vectors = np.asarray(self.index.vectors, dtype=np.float16) if len(self.index) else \
            np.zeros((0, self.dim), dtype=np.float16)
        self.dense.reset(keys, vectors)
        return True

    def __len__(self) -> int:
        return len(self.index)

    def add(self, rowids: Sequence[int], vectors: np.ndarray) -> None:
        index = self._editable()
        keys = np.asarray(rowids, dtype=np.uint64)
        present = keys[index.contains(keys)] if len(index) else keys[:0]
        for key in present:  # a changed paper: replace its vector
            index.remove(int(key))
        index.add(keys, vectors.astype(np.float32), threads=2)
        self.dense.set(keys.astype(np.int64), vectors)

    def remove(self, rowids: Sequence[int]) -> None:
        """Drop the vectors of `rowids` (those it has): stale ones, to be backfilled."""
        keys = np.asarray(rowids, dtype=np.uint64)
        if len(self.index) and len(keys):
            held = keys[np.asarray(self.index.contains(keys), dtype=bool)]
            if len(held):
                index = self._editable()
                for key in held:
                    index.remove(int(key))
        self.dense.clear(keys.astype(np.int64))

    def has(self, rowids: Sequence[int] | np.ndarray) -> np.ndarray:
        """A bool per rowid: does the index hold its vector?"""
        return self.dense.held(np.asarray(rowids, dtype=np.int64))

    def vectors_of(self, rowids: Sequence[int]) -> dict[int, np.ndarray]:
        """The vectors the index holds among `rowids` (a few hundred candidates)."""
        keys = np.asarray(rowids, dtype=np.int64)
        keys = keys[self.has(keys)]
        return dict(zip(keys.tolist(), self.dense.get(keys), strict=True))

    def save(self) -> None:
        """Write the index if it changed since it was mapped, then map the new file."""
        self.dense.flush()
        if self._viewing:
            return
        tmp = self.path.with_suffix(".tmp")
        self.index.save(str(tmp))
        tmp.replace(self.path)  # readers never see half a file
        self.index, self._viewing = self._mapped(), True

    def vector(self, rowid: int) -> np.ndarray | None:
        if not self.has([rowid])[0]:
            return None
        return self.dense.get([rowid])[0]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Approximate top-k (rowid, cosine similarity)."""
        if not len(self.index):
            return []
        matches = self.index.search(query.astype(np.float32), k)
        return [(int(key), 1.0 - float(d)) for key, d in zip(matches.keys, matches.distances,
                                                                strict=True)]

    def neighbours(self, rowids: Sequence[int], vectors: np.ndarray, k: int) -> np.ndarray:
        """Cosines of each of `vectors`' `k` nearest indexed papers but itself (its rowid, in
        order), nearest first; NaN where the index holds fewer. One batched search on two
        threads: by HNSW (~1 ms a row at 588k papers on the 2-core box), or exactly
        against every vector while the index is small (deterministic there)."""
        out = np.full((len(rowids), k), np.nan)
        if not len(self.index) or not len(out) or k <= 0:
            return out
        queries = np.asarray(vectors, np.float32).reshape(len(out), -1)
        if len(self.index) <= EXACT_NEIGHBOURS:
            held = self.dense.keys()
            found = exact_search(self.dense.get(held), queries, min(k + 1, len(held)),
                                 MetricKind.IP, exact=True, threads=2)
        else:
            held = None
            found = self.index.search(queries, k + 1, threads=2)
        if isinstance(found, BatchMatches):  # past a row's count: unset
            keys, distances, counts = found.keys, found.distances, found.counts
        else:  # one query: the matches it has
            keys, distances = found.keys[None], found.distances[None]
            counts = np.asarray([len(found.keys)])
        for row, (own, n) in enumerate(zip(rowids, counts, strict=True)):
            found_keys = keys[row, :n].astype(np.int64)
            if held is not None:  # the exact search's keys are rows of `held`
                found_keys = held[found_keys]
            others = 1.0 - distances[row, :n][found_keys != own][:k]
            out[row, :len(others)] = others
        return out

    def search_exact(self, query: np.ndarray, rowids: Sequence[int] | np.ndarray,
                     k: int) -> list[tuple[int, float]]:
        """Exact top-k among `rowids` only: for filters that leave few candidates."""
        return self.dense.top(query, rowids, k)

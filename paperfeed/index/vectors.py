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
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from usearch.index import Index

CONNECTIVITY = 16
EXPANSION_ADD = 128
EXPANSION_SEARCH = 256  # recall@10 0.96 vs 0.93 at 96, at 588k papers (bench/scale.py)


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
    """HNSW over L2-normalised vectors; inner product = cosine similarity."""

    def __init__(self, path: Path, dim: int, *, view: bool = False) -> None:
        self.path = path
        self.dim = dim
        self.index = Index(ndim=dim, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
                           expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH)
        self._dense: tuple[np.ndarray, np.ndarray] | None = None
        self._dense_lock = threading.Lock()
        if path.exists():
            if view:  # memory-mapped, read-only: the serving processes share the page cache
                self.index.view(str(path))
            else:
                self.index.load(str(path))

    def __len__(self) -> int:
        return len(self.index)

    def add(self, rowids: Sequence[int], vectors: np.ndarray) -> None:
        keys = np.asarray(rowids, dtype=np.uint64)
        present = keys[self.index.contains(keys)] if len(self.index) else keys[:0]
        for key in present:  # a changed paper: replace its vector
            self.index.remove(int(key))
        self.index.add(keys, vectors.astype(np.float32), threads=2)
        self._dense = None

    def remove(self, rowids: Sequence[int]) -> None:
        """Drop the vectors of `rowids` (those it has): stale ones, to be backfilled."""
        keys = np.asarray(rowids, dtype=np.uint64)
        for key in keys[self.has(keys)]:
            self.index.remove(int(key))
        self._dense = None

    def has(self, rowids: Sequence[int] | np.ndarray) -> np.ndarray:
        """A bool per rowid: does the index hold its vector?"""
        keys = np.asarray(rowids, dtype=np.uint64)
        if not len(self.index) or not len(keys):
            return np.zeros(len(keys), dtype=bool)
        return np.asarray(self.index.contains(keys), dtype=bool)

    def vectors_of(self, rowids: Sequence[int]) -> dict[int, np.ndarray]:
        """The vectors the index holds among `rowids` (a few hundred candidates)."""
        keys = [key for key, held in zip(rowids, self.has(rowids), strict=True) if held]
        if not keys:
            return {}
        found = np.asarray(self.index.get(np.asarray(keys, dtype=np.uint64)))
        return {key: np.asarray(vector, dtype=np.float32)
                for key, vector in zip(keys, found, strict=True)}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        self.index.save(str(tmp))
        tmp.replace(self.path)  # readers never see half a file

    def vector(self, rowid: int) -> np.ndarray | None:
        if not len(self.index) or not self.index.contains(rowid):
            return None
        return np.asarray(self.index.get(rowid), dtype=np.float32)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Approximate top-k (rowid, cosine similarity)."""
        if not len(self.index):
            return []
        matches = self.index.search(query.astype(np.float32), k)
        return [(int(key), 1.0 - float(d)) for key, d in zip(matches.keys, matches.distances,
                                                                strict=True)]

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """All vectors as one float16 matrix, and rowid -> row (-1: none); built once.

        `Index.get` of many keys is slow (one array per key); a filtered search over tens
        of thousands of papers gathers rows from this matrix instead. Costs the index's size
        in RAM again (0.45 GB at 588k papers) and ~4 s, paid by the first filtered search
        (building it at start-up would triple `serve`'s cold start for a feature many never use).
        """
        with self._dense_lock:
            if self._dense is None:
                keys = np.asarray(self.index.keys, dtype=np.int64)
                rows = np.full(int(keys.max()) + 1 if len(keys) else 1, -1, dtype=np.int64)
                rows[keys] = np.arange(len(keys))
                self._dense = (np.asarray(self.index.vectors, dtype=np.float16), rows)
            return self._dense

    def search_exact(self, query: np.ndarray, rowids: Sequence[int],
                     k: int) -> list[tuple[int, float]]:
        """Exact top-k among `rowids` only: for filters that leave few candidates."""
        if not rowids or not len(self.index):
            return []
        matrix, rows = self.dense()
        wanted = np.asarray(rowids, dtype=np.int64)
        wanted = wanted[wanted < len(rows)]
        positions = rows[wanted]
        keep = positions >= 0
        wanted, positions = wanted[keep], positions[keep]
        if not len(wanted):
            return []
        scores = matrix[positions].astype(np.float32) @ query.astype(np.float32)
        top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(wanted[i]), float(scores[i])) for i in top]

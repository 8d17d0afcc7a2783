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

    def search_exact(self, query: np.ndarray, rowids: Sequence[int],
                     k: int) -> list[tuple[int, float]]:
        """Exact top-k among `rowids` only: for filters that leave few candidates."""
        if not rowids:
            return []
        keys = np.asarray(rowids, dtype=np.uint64)
        keys = keys[self.index.contains(keys)]
        if not len(keys):
            return []
        matrix = np.vstack(self.index.get(keys)).astype(np.float32)
        scores = matrix @ query.astype(np.float32)
        top = np.argsort(-scores)[:k]
        return [(int(keys[i]), float(scores[i])) for i in top]

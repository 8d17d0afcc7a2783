"""Keep the indexes in step with the store.

The store bumps a paper's `seq` whenever its indexed content changes; the
indexes remember the last `seq` they hold (`meta.json`). `update_index` walks
forward from there in batches: keyword index, embeddings (cached), vectors,
then a checkpoint. Killing it loses at most one checkpoint interval; a rerun
picks up from the last checkpoint and redoes idempotent work only.
The index is derived data: a version or model change rebuilds it from scratch.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..store.sqlite import IndexRow, Store
from .embed import Embedder, paper_text
from .embedders import load_embedder
from .fulltext import FulltextIndex
from .vectors import EmbeddingCache, VectorIndex

INDEX_FORMAT = 1
CHECKPOINT_EVERY = 50_000  # rows between saves of the vector index


@dataclass
class IndexMeta:
    format: int
    embedder: str
    dim: int
    last_seq: int = 0
    count: int = 0


@dataclass
class IndexReport:
    indexed: int = 0
    embedded: int = 0
    from_cache: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    parts: dict[str, float] = field(default_factory=dict)  # seconds per step (bench/scale.py)

    @contextmanager
    def timed(self, part: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.parts[part] = self.parts.get(part, 0.0) + time.perf_counter() - started


class Indexes:
    """The keyword and vector indexes of one data directory, and the embedder."""

    def __init__(self, index_dir: Path, embedder_name: str, *, read_only: bool = False) -> None:
        self.dir = index_dir
        self.embedder_name = embedder_name
        self.read_only = read_only
        self._embedder: Embedder | None = None
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self._read_meta()
        if meta is None or meta.format != INDEX_FORMAT or meta.embedder != embedder_name:
            if read_only and meta is not None:
                # Another process owns rebuilding; serve what is there.
                embedder_name = meta.embedder
            else:
                meta = self._reset(embedder_name)
        self.meta = meta or IndexMeta(INDEX_FORMAT, embedder_name, self.embedder.dim)
        self._meta_mtime = self._meta_stamp()
        self._open()

    @property
    def meta_path(self) -> Path:
        return self.dir / "meta.json"

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.embedder_name)
        return self._embedder

    def _open(self) -> None:
        self.fulltext = FulltextIndex(self.dir / "fulltext")
        self.vectors = VectorIndex(self.dir / "vectors.usearch", self.meta.dim,
                                   view=self.read_only)

    def _read_meta(self) -> IndexMeta | None:
        try:
            return IndexMeta(**json.loads(self.meta_path.read_text()))
        except (FileNotFoundError, TypeError, ValueError):
            return None

    def _write_meta(self) -> None:
        tmp = self.meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self.meta)))
        os.replace(tmp, self.meta_path)
        self._meta_mtime = self._meta_stamp()

    def _meta_stamp(self) -> tuple[int, int]:
        try:
            stat = self.meta_path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_ino, stat.st_mtime_ns)  # meta.json is replaced, never rewritten

    def _reset(self, embedder_name: str) -> IndexMeta:
        for name in ("fulltext", "vectors.usearch", "meta.json"):
            target = self.dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        self.embedder_name = embedder_name
        self.meta = IndexMeta(INDEX_FORMAT, embedder_name, self.embedder.dim)
        self._write_meta()
        return self.meta

    def refresh(self) -> bool:
        """Pick up what another process committed; cheap (one stat) when nothing did."""
        stamp = self._meta_stamp()
        if stamp == self._meta_mtime:
            return False
        meta = self._read_meta()
        if meta is None:
            return False
        self.meta = meta
        self._meta_mtime = stamp
        self._open()
        return True

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.encode([text])[0]

    @contextmanager
    def _writing(self, wait: bool) -> Iterator[bool]:
        """The index's writer lock (flock on `write.lock`), held across processes and
        threads: the CLI, `serve`'s store follower, a submission, the worker. Without it
        two writers could each save vectors the other had not loaded, losing some."""
        with open(self.dir / "write.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def update(self, store: Store, *, progress: bool = False, batch_size: int = 1024,
               wait: bool = True) -> IndexReport:
        """Index everything the store changed since the last checkpoint. With
        `wait=False`, return at once if another writer is busy (it follows the store)."""
        with self._writing(wait) as locked:
            if not locked:
                return IndexReport()
            self.refresh()  # start from what the previous writer committed
            return self._update(store, progress, batch_size)

    def _update(self, store: Store, progress: bool, batch_size: int) -> IndexReport:
        report = IndexReport()
        started = time.perf_counter()
        pending = store.conn.execute("SELECT count(*) FROM papers WHERE seq > ?",
                                     (self.meta.last_seq,)).fetchone()[0]
        if not pending:
            return report
        fresh = self.meta.last_seq == 0 and self.fulltext.num_docs() == 0
        cache = EmbeddingCache(self.dir / "embeddings.sqlite")
        since_save = 0
        with tqdm(total=pending, unit="paper", desc="indexing", disable=not progress) as bar:
            for rows in store.changed_since(self.meta.last_seq, batch_size):
                with report.timed("keyword: tantivy add"):
                    self.fulltext.upsert(rows, fresh=fresh)
                report.embed_seconds += self._embed(rows, cache, report)
                report.indexed += len(rows)
                since_save += len(rows)
                self.meta.last_seq = rows[-1].seq
                if since_save >= CHECKPOINT_EVERY:
                    self._checkpoint(report)
                    since_save = 0
                bar.update(len(rows))
        self._checkpoint(report)
        report.seconds = time.perf_counter() - started
        return report

    def _embed(self, rows: list[IndexRow], cache: EmbeddingCache, report: IndexReport) -> float:
        keys = [(row.rowid, row.content_hash) for row in rows]
        with report.timed("embedding cache lookup"):
            cached = cache.lookup(self.embedder_name, keys)
        missing = [row for row in rows if row.rowid not in cached]
        took = 0.0
        if missing:
            start = time.perf_counter()
            fresh_vectors = self.embedder.encode([paper_text(r.title, r.abstract)
                                                  for r in missing])
            took = time.perf_counter() - start
            with report.timed("embedding cache store"):
                cache.store(self.embedder_name, [(r.rowid, r.content_hash) for r in missing],
                            fresh_vectors)
            cached.update({r.rowid: v for r, v in zip(missing, fresh_vectors, strict=True)})
        report.embedded += len(missing)
        report.from_cache += len(rows) - len(missing)
        with report.timed("ANN: usearch add"):
            self.vectors.add([r.rowid for r in rows], np.vstack([cached[r.rowid] for r in rows]))
        return took

    def _checkpoint(self, report: IndexReport) -> None:
        with report.timed("keyword: commit + merge"):
            self.fulltext.commit()
        with report.timed("ANN: save"):
            self.vectors.save()
        self.meta.count = len(self.vectors)
        self._write_meta()

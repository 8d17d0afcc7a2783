"""The indexes derived from the store, each an `Artifact`: its own directory, its own stamp.

A stamp (`stamp.json`, replaced atomically after each checkpoint) says what the artifact is —
format version and model — and how far it has followed the store: every change up to
`last_seq` is in it. A writer rebuilds one artifact alone when the code wants a different
stamp (a new tantivy schema, another embedder): the keyword index survives an embedder change
and vice versa. A reader re-opens one artifact alone when its stamp file changes.

Artifacts today: `KeywordArtifact` (tantivy BM25) and one `VectorArtifact` per embedder tier
(usearch HNSW, directory ``vectors-<tier>``): the static tier holds every paper, the
transformer tier follows small changes at once and is backfilled after bulk ones (sync.py).
Later: the map of issue 13, as another subclass.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..models import IndexRow
from .embed import Embedder, paper_text, text_key
from .embedders import EMBEDDERS, EmbedderSpec, load_embedder
from .fulltext import FulltextIndex
from .vectors import EmbeddingCache, VectorIndex


@dataclass
class Stamp:
    """What an artifact holds, as of its last checkpoint.

    `backfill_below` is the seam for a tier too slow to embed everything at once (the
    transformer at 588k papers, issue 10): created with ``last_seq = backfill_below =
    store max seq``, it follows new changes at once like any artifact, while a background
    job embeds the older papers (seq <= backfill_below) newest first, skipping keys the
    index already has (so it resumes after a kill), and sets it to 0 when done. Until then
    the artifact has vectors for a subset of keys (`VectorIndex.vector(key)` says which),
    and rankings use them where a candidate has them. 0 means complete up to `last_seq`.
    `rate` is the backfill's last measured speed (papers/s), for its ETA.
    """

    format: int
    model: str = ""  # the embedder of a vector tier; "" for the keyword index
    dim: int = 0
    last_seq: int = 0
    count: int = 0
    backfill_below: int = 0
    rate: float = 0.0
    store: str = ""  # the identity of the store followed (Papers.identity); "" before 0010

    def same_kind(self, other: Stamp) -> bool:
        return (self.format, self.model, self.dim) == (other.format, other.model, other.dim)


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


def read_stamps(index_dir: Path) -> dict[str, Stamp]:
    """The stamps of every artifact in `index_dir`, by name, without opening anything."""
    stamps = {}
    for path in sorted(index_dir.glob("*/stamp.json")):
        try:
            stamps[path.parent.name] = Stamp(**json.loads(path.read_text()))
        except (OSError, TypeError, ValueError):
            continue
    return stamps


class Artifact:
    """One index derived from the store. Subclasses open, add to and save their files."""

    name = ""  # the directory under index/

    def __init__(self, root: Path, *, read_only: bool) -> None:
        self.dir = root / self.name
        self.read_only = read_only
        self.stamp = self.wanted()
        self._seen = (0, 0)  # identity of the stamp file last read or written
        self._saved_seq = 0
        self.open()

    # -- what subclasses provide -------------------------------------------------------

    def wanted(self) -> Stamp:
        """The stamp this code builds (format, model), followed from seq 0."""
        raise NotImplementedError

    def _open(self) -> None:
        """Open the files for `self.stamp`; build new objects, then assign them, so a
        request holding the old ones finishes on those."""
        raise NotImplementedError

    def add(self, rows: list[IndexRow], report: IndexReport) -> None:
        raise NotImplementedError

    def _save(self, report: IndexReport) -> None:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    @property
    def stamp_path(self) -> Path:
        return self.dir / "stamp.json"

    def open(self) -> None:
        """Open what is on disk. A writer first rebuilds an artifact whose stamp is not the
        one it wants; a reader serves what is there (the writer owns rebuilding)."""
        stored = self._read_stamp()
        if stored is None or not (self.read_only or stored.same_kind(self.wanted())):
            if not self.read_only:
                self.reset()
                return
            stored = self.wanted()  # nothing built yet: serve an empty index
        self.stamp = stored
        self._seen = self._identity()
        self._saved_seq = stored.last_seq
        self._open()

    def refresh(self) -> bool:
        """Pick up a checkpoint another process wrote; one stat() when there is none."""
        if self._identity() == self._seen or self._read_stamp() is None:
            return False
        self.open()
        return True

    @property
    def seen(self) -> tuple[int, int]:
        """The identity of the stamp file last read or written: a new one per checkpoint."""
        return self._seen

    @property
    def unsaved(self) -> bool:
        return self.stamp.last_seq != self._saved_seq

    def checkpoint(self, report: IndexReport) -> None:
        self._save(report)
        self.stamp.count = len(self)
        tmp = self.stamp_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self.stamp)))
        os.replace(tmp, self.stamp_path)
        self._seen = self._identity()
        self._saved_seq = self.stamp.last_seq

    def reset(self) -> None:
        """Empty, to be rebuilt from seq 0."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.stamp = self.wanted()
        self._open()
        self.checkpoint(IndexReport())

    def _read_stamp(self) -> Stamp | None:
        try:
            return Stamp(**json.loads(self.stamp_path.read_text()))
        except (FileNotFoundError, TypeError, ValueError):
            return None

    def _identity(self) -> tuple[int, int]:
        try:
            stat = self.stamp_path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_ino, stat.st_mtime_ns)  # the stamp is replaced, never rewritten


class KeywordArtifact(Artifact):
    """BM25 over title + abstract (one field) and authors (tantivy). Bump FORMAT when the
    schema or the analysis changes: this index alone is rebuilt."""

    name = "keyword"
    FORMAT = 2  # 2: title and abstract in one field

    def wanted(self) -> Stamp:
        return Stamp(self.FORMAT)

    def _open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.index = FulltextIndex(self.dir)

    def add(self, rows: list[IndexRow], report: IndexReport) -> None:
        # A fresh build has nothing to replace: skipping the deletes is ~2x faster.
        with report.timed("keyword: tantivy add"):
            self.index.upsert(rows, fresh=self.stamp.last_seq == 0 and not len(self))

    def _save(self, report: IndexReport) -> None:
        with report.timed("keyword: commit + merge"):
            self.index.commit()

    def __len__(self) -> int:
        return self.index.num_docs()


QUERY_CACHE = 256


class VectorArtifact(Artifact):
    """The vectors of one embedder tier (usearch HNSW), filled through the embedding cache."""

    FORMAT = 1

    def __init__(self, root: Path, spec: EmbedderSpec, cache_path: Path, *,
                 read_only: bool) -> None:
        self.name = f"vectors-{spec.tier}"
        self.configured = spec
        self.spec = spec
        self._cache_path = cache_path
        self._cache: EmbeddingCache | None = None
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        # (backfill_below, the keys up to it newest first): backfill.py reads it once per
        # deferral
        self.backfill_order: tuple[int, np.ndarray] | None = None
        super().__init__(root, read_only=read_only)

    def wanted(self) -> Stamp:
        return Stamp(self.FORMAT, self.configured.name, self.configured.dim)

    def _open(self) -> None:
        # A reader may find vectors of another model than configured (a writer has not
        # rebuilt them yet): queries must then be embedded by that model.
        self.spec = EMBEDDERS.get(self.stamp.model, self.configured)
        self.index = VectorIndex(self.dir / "vectors.usearch", self.stamp.dim or self.spec.dim,
                                 view=self.read_only)

    @property
    def embedder(self) -> Embedder:
        return load_embedder(self.spec.name)

    def embed_query(self, text: str) -> np.ndarray:
        """The query's vector; the last `QUERY_CACHE` are kept (a transformer takes ~9 ms,
        and a results page, its next page and a search feed repeat the same query)."""
        key = f"{self.spec.name}\0{text}"
        with self._queries_lock:
            if key in self._queries:
                self._queries.move_to_end(key)
                return self._queries[key]
        vector = self.embedder.encode([text])[0]
        with self._queries_lock:
            self._queries[key] = vector
            while len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    @property
    def backfilling(self) -> bool:
        return self.stamp.backfill_below > 0

    def defer(self, changed: list[int], upto: int) -> None:
        """Leave the store's changes up to `upto` to the backfill (a bulk ingest): their old
        vectors (`changed` keys) are dropped, so no stale vector ranks a changed paper."""
        self.index.remove(changed)
        self.stamp.backfill_below = self.stamp.last_seq = upto

    def _embedding_cache(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(self._cache_path)
        return self._cache

    def seed(self, rows: list[IndexRow], vectors: Mapping[str, np.ndarray]) -> None:
        """Put vectors computed elsewhere (by `text_key`: the demo corpus's, shipped with
        the package) in the embedding cache, so adding `rows` embeds none of them."""
        keyed = [(row, text_key(row.title, row.abstract)) for row in rows]
        known = [(row, key) for row, key in keyed if key in vectors]
        if known:
            self._embedding_cache().store(self.spec.name,
                                          [(row.key, row.content_hash) for row, _ in known],
                                          np.vstack([vectors[key] for _, key in known]))

    def add(self, rows: list[IndexRow], report: IndexReport) -> None:
        """Vectors for `rows`: from the cache where the content is unchanged, else embedded."""
        cache = self._embedding_cache()
        model = self.spec.name
        with report.timed("embedding cache lookup"):
            cached = cache.lookup(model, [(row.key, row.content_hash) for row in rows])
        missing = [row for row in rows if row.key not in cached]
        if missing:
            start = time.perf_counter()
            embedder = load_embedder(self.spec.name, indexing=True)
            vectors = embedder.encode([paper_text(r.title, r.abstract) for r in missing])
            report.embed_seconds += time.perf_counter() - start
            with report.timed("embedding cache store"):
                cache.store(model, [(r.key, r.content_hash) for r in missing], vectors)
            cached.update({r.key: v for r, v in zip(missing, vectors, strict=True)})
        report.embedded += len(missing)
        report.from_cache += len(rows) - len(missing)
        with report.timed("ANN: usearch add"):
            self.index.add([r.key for r in rows], np.vstack([cached[r.key] for r in rows]))

    def _save(self, report: IndexReport) -> None:
        with report.timed("ANN: save"):
            self.index.save()

    def __len__(self) -> int:
        return len(self.index)

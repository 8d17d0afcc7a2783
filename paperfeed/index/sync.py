"""Keep the indexes in step with the store.

The store bumps a paper's `seq` whenever its indexed content changes. `Indexes` holds a list
of artifacts (artifacts.py: the keyword index, the vectors of each embedder tier), each
remembering in its own stamp the last `seq` it holds. `update` walks the store forward from
the oldest of those in batches, gives each artifact the rows it lacks, and checkpoints every
`CHECKPOINT_ROWS` rows or `CHECKPOINT_SECONDS`, whichever comes first: a kill loses at most
30 s of work (a slow embedder at 15 papers/s used to lose up to 50,000 rows, ~1 hour), and a
rerun picks up from each artifact's last checkpoint, redoing idempotent work only. An
artifact whose format or model changed is rebuilt alone, from seq 0.

Each process opens the artifacts once and re-opens one only when its stamp file changes
(`refresh`: one stat per artifact). Writers (the CLI, `serve`'s follower, the worker, a
submission) take turns through a file lock; read-only processes (`serve --workers`) memory-map
the vectors, so they share the page cache.

Two vector tiers: the configured (static) embedder gets every paper at once; the transformer
(`TRANSFORMER`, ~15-35 papers/s on 2 cores) follows an update of at most `AT_ONCE_ROWS` papers
at once too (a day's papers, a submission, the demo corpus), while a bigger one is left to the
backfill (`backfill.py`): its stamp's `backfill_below` is set, and the follower, the worker or
`paperfeed index --wait` fill it newest first. Rankings use transformer vectors where a paper
has them (discover/search.py). Configuring the transformer itself as the embedder gives one
tier, embedded at once, as before.
"""

from __future__ import annotations

import fcntl
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..models import IndexRow
from ..store import Papers
from .artifacts import Artifact, IndexReport, KeywordArtifact, Stamp, VectorArtifact
from .backfill import run_backfill
from .embed import Embedder
from .embedders import EMBEDDERS, EmbedderSpec, embedder_spec
from .fulltext import FulltextIndex
from .map_artifact import MapArtifact
from .vectors import VectorIndex

CHECKPOINT_ROWS = 50_000
CHECKPOINT_SECONDS = 30.0
AT_ONCE_ROWS = 500  # the transformer embeds this many in ~15-35 s; more is backfilled
TRANSFORMER = "minilm-l6-v2-int8"
LEGACY = ("meta.json", "fulltext", "vectors.usearch")  # the one-artifact layout (format 1)


class Indexes:
    """The indexes of one data directory: keyword, and the vectors queries use."""

    def __init__(self, index_dir: Path, embedder_name: str, *, read_only: bool = False) -> None:
        self.dir = index_dir
        self.read_only = read_only
        self.dir.mkdir(parents=True, exist_ok=True)
        if not read_only:
            _remove_legacy(index_dir)
        self.keyword = KeywordArtifact(index_dir, read_only=read_only)
        cache = index_dir / "embeddings.sqlite"
        spec = embedder_spec(embedder_name)
        self.semantic = VectorArtifact(index_dir, spec, cache, read_only=read_only)
        self.artifacts: list[Artifact] = [self.keyword, self.semantic]
        # The backfilled tier; None when the configured embedder is the transformer already.
        self.transformer: VectorArtifact | None = None
        if spec.tier == "static":
            self.transformer = VectorArtifact(index_dir, _transformer(), cache,
                                              read_only=read_only)
            self.artifacts.append(self.transformer)
        # Last: its checkpoint places the papers the static tier has just added.
        self.map = MapArtifact(index_dir, self.semantic, read_only=read_only)
        self.artifacts.append(self.map)
        # Held while this process writes: a refresh (from another thread) then waits for
        # nothing and re-opens nothing; the update itself started from the latest files.
        self._writing_here = threading.Lock()
        if not read_only:
            with self._writing(wait=False) as locked:
                if locked:  # else the writer busy now repairs it when it next writes
                    self._repair()

    # -- reading: each returns the current object; a refresh swaps in new ones ---------

    @property
    def fulltext(self) -> FulltextIndex:
        return self.keyword.index

    @property
    def vectors(self) -> VectorIndex:
        return self.semantic.index

    @property
    def embedder(self) -> Embedder:
        return self.semantic.embedder

    def embed_query(self, text: str) -> np.ndarray:
        return self.semantic.embed_query(text)

    @property
    def last_seq(self) -> int:
        """Every store change up to here is in every artifact."""
        return min(artifact.stamp.last_seq for artifact in self.artifacts)

    def version(self) -> tuple[object, ...]:
        """Changes when any artifact this process reads changes: a checkpoint read or
        written (the stamp file's identity), or vectors added or dropped here."""
        return tuple((artifact.name, artifact.stamp.last_seq, len(artifact), artifact.seen)
                     for artifact in self.artifacts)

    def stamps(self) -> dict[str, Stamp]:
        return {artifact.name: artifact.stamp for artifact in self.artifacts}

    def refresh(self) -> bool:
        """Pick up what other processes committed; True if any artifact was re-opened.
        Never blocks: returns False at once while this process is writing."""
        if not self._writing_here.acquire(blocking=False):
            return False
        try:
            return any([artifact.refresh() for artifact in self.artifacts])
        finally:
            self._writing_here.release()

    # -- writing -----------------------------------------------------------------------

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

    @contextmanager
    def _writer(self, wait: bool, follow: Papers | None = None) -> Iterator[bool]:
        """Every write's prelude: both writer locks (other processes', this one's threads'),
        then each artifact re-opened at what the last writer committed; following the store
        `follow`, artifacts from another history of it reset and the vector tiers repaired.
        Yields False, having done nothing, if `wait` is off and another writer is busy."""
        with self._writing(wait) as locked:
            if not locked:
                yield False
                return
            with self._writing_here:
                for artifact in self.artifacts:
                    artifact.refresh()
                if follow is not None:
                    self._follow_identity(follow)
                    self._repair()
                yield True

    def update(self, store: Papers, *, progress: bool = False, batch_size: int = 1024,
               wait: bool = True) -> IndexReport:
        """Index everything the store changed since each artifact's checkpoint. With
        `wait=False`, return at once if another writer is busy (it follows the store)."""
        with self._writer(wait, follow=store) as locked:
            return self._update(store, progress, batch_size) if locked else IndexReport()

    def _update(self, store: Papers, progress: bool, batch_size: int) -> IndexReport:
        report = IndexReport()
        started = time.perf_counter()
        self.map.papers = store
        self._defer_bulk(store)
        since = self.last_seq
        pending = store.count_changed_since(since)
        if not pending:
            self._checkpoint(report)  # a deferral alone is worth saving
            return report
        due = _checkpoints(CHECKPOINT_ROWS, CHECKPOINT_SECONDS)
        with tqdm(total=pending, unit="paper", desc="indexing", disable=not progress) as bar:
            for rows in store.changed_since(since, batch_size):
                for artifact in self.artifacts:
                    _follow(artifact, rows, report)
                report.indexed += len(rows)
                bar.update(len(rows))
                if due(len(rows)):
                    self._checkpoint(report, final=False)
        self._checkpoint(report)
        report.seconds = time.perf_counter() - started
        return report

    def seed(self, store: Papers, bundled: dict[str, dict[str, np.ndarray]]) -> None:
        """Vectors shipped for known texts (model -> `text_key` -> vector) go to the
        embedding cache of the tier using that model: the demo corpus opens fully embedded
        at once, where the transformer would take 10-20 s."""
        tiers = [t for t in (self.semantic, self.transformer)
                 if t is not None and t.spec.name in bundled]
        if tiers:
            rows = [row for batch in store.changed_since(0) for row in batch]
            for tier in tiers:
                tier.seed(rows, bundled[tier.spec.name])

    def _defer_bulk(self, store: Papers) -> None:
        """More than `AT_ONCE_ROWS` changes for the transformer: leave them to the backfill."""
        tier = self.transformer
        if tier is not None and store.count_changed_since(tier.stamp.last_seq) > AT_ONCE_ROWS:
            upto = store.max_seq()
            tier.defer(store.keys_changed_since(tier.stamp.last_seq), upto)

    def backfill(self, store: Papers, *, seconds: float | None = None, wait: bool = True,
                 progress: bool = False) -> IndexReport:
        """Embed the transformer tier's missing papers, newest first, for at most `seconds`
        (None: until done); see backfill.py. With `wait=False`, return at once if another
        writer is busy."""
        tier = self.transformer
        if tier is None:
            return IndexReport()
        with self._writer(wait, follow=store) as locked:
            if not locked or not tier.backfilling:
                return IndexReport()
            return run_backfill(tier, store, seconds, progress)

    def build_map(self, store: Papers, *, wait: bool = True) -> IndexReport:
        """Fit the map if one is due (map_artifact.py): no layout yet, or a corpus doubled
        since. The follower calls it in the background (a fresh `serve` answers at once;
        the demo's map follows within seconds, a 588k corpus's after ~30 min), `paperfeed
        index` in the foreground. With `wait=False`, return at once if another writer is
        busy."""
        with self._writer(wait) as locked:
            if not locked or not self.map.building or self.map.unsaved \
                    or self.map.stamp.store != store.identity():
                return IndexReport()  # busy, nothing due, or an update must follow the store
            report = IndexReport()
            started = time.perf_counter()
            self.map.papers = store
            self.map.build(report)
            report.indexed = len(self.map)
            report.seconds = time.perf_counter() - started
            return report

    def _follow_identity(self, store: Papers) -> None:
        """Rebuild an artifact built from another history of the store (a restore: its
        `seq` numbers went back, and changes numbered like ones seen would be skipped;
        another database); one from before identities were recorded adopts the store's.
        Called holding the writer lock."""
        identity = store.identity()
        for artifact in self.artifacts:
            if artifact.stamp.store != identity:
                if artifact.stamp.store:
                    artifact.reset()
                artifact.stamp.store = identity  # saved with its next checkpoint

    def _repair(self) -> None:
        """Each vector tier's matrix by key agrees with its HNSW index (vectors.py);
        called holding the writer lock."""
        for artifact in self.artifacts:
            if isinstance(artifact, VectorArtifact):
                artifact.index.repair()

    def _checkpoint(self, report: IndexReport, *, final: bool = True) -> None:
        """Save what changed; the map only at the end of an update (a bulk ingest fits
        it once, on everything)."""
        for artifact in self.artifacts:
            if artifact.unsaved and (final or artifact is not self.map):
                artifact.checkpoint(report)


def _transformer() -> EmbedderSpec:
    return EMBEDDERS[TRANSFORMER]


def _follow(artifact: Artifact, rows: list[IndexRow], report: IndexReport) -> None:
    """Give `artifact` the rows past its own checkpoint (a rebuilt artifact lags the rest)."""
    todo = [row for row in rows if row.seq > artifact.stamp.last_seq]
    if todo:
        artifact.add(todo, report)
        artifact.stamp.last_seq = todo[-1].seq


def _checkpoints(rows: int, seconds: float) -> Callable[[int], bool]:
    """`due(n)` after each batch of n rows: True every `rows` rows or `seconds`, whichever
    comes first."""
    since_rows, since_time = 0, time.monotonic()

    def due(n: int) -> bool:
        nonlocal since_rows, since_time
        since_rows += n
        if since_rows < rows and time.monotonic() - since_time < seconds:
            return False
        since_rows, since_time = 0, time.monotonic()
        return True

    return due


def _remove_legacy(index_dir: Path) -> None:
    """The format-1 layout (one meta.json for everything) is rebuilt as artifacts; the
    embedding cache stays, so nothing is embedded again."""
    for name in LEGACY:
        target = index_dir / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

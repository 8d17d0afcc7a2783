"""One data directory opened: the store, its indexes, and the demo corpus.

Everything above the index stage (search, feeds, web, API, CLI) works on a
`Catalog`. Opening an empty store loads the bundled demo corpus (the five page
captures), so a new user sees a working site.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .errors import ConfigError
from .index.sync import Indexes, IndexReport
from .models import AmendedRecord, Paper, SkippedRecord, UpsertStats
from .settings import Settings
from .sources.clean import admit
from .store import Store

INGEST_BATCH = 2000
T = TypeVar("T")
# The demo captures give a day without a year ("Aug 1"). Read against today's date, as a
# user's own captures are, the demo's days moved to a new year every year and any dated
# example (the README's URLs) broke. They are 2025's pages: they list papers first posted
# in 2024 (TriForce in April, Dualformer in October) under March and August dates.
DEMO_YEAR = 2025


@dataclass
class IngestReport:
    stats: UpsertStats = field(default_factory=UpsertStats)
    skipped: list[SkippedRecord] = field(default_factory=list)
    amended: list[AmendedRecord] = field(default_factory=list)
    index: IndexReport | None = None

    @property
    def seen(self) -> int:
        return self.stats.inserted + self.stats.updated + self.stats.unchanged


class Catalog:
    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        open_home(settings.home)
        self.settings = settings
        self.store = Store(settings.store_url)
        self.read_only = read_only
        demo = settings.load_demo and self.store.papers.count() == 0 and not read_only
        if demo:
            self.load_demo()
        self.indexes = Indexes(settings.index_dir, settings.embedder, read_only=read_only)
        if demo:
            self.indexes.seed(self.store.papers, demo_vectors())
        if not read_only and self.indexes.last_seq < self.store.papers.max_seq():
            self.indexes.update(self.store.papers)
        self._memos: dict[str, tuple[object, Any]] = {}
        self._memo_lock = threading.Lock()
        self._lrus: dict[str, OrderedDict[Hashable, tuple[object, Any]]] = {}
        self._pool: ThreadPoolExecutor | None = None

    def memo(self, name: str, version: object, compute: Callable[[], T]) -> T:
        """`compute()` once per `version` of the data it is derived from, shared by every
        thread reading this data directory: for derived orders that are the same for every
        reader until the data changes (discover/trending.py's ranking)."""
        with self._memo_lock:
            cached = self._memos.get(name)
        if cached is not None and cached[0] == version:
            return cached[1]
        value = compute()
        with self._memo_lock:
            self._memos[name] = (version, value)
        return value

    def in_background(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """`fn(*args)` on this catalog's small thread pool (started on first use): work a
        request overlaps with its own, e.g. the keyword half of a hybrid search."""
        with self._memo_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="catalog")
        return self._pool.submit(fn, *args)

    def cached(self, name: str, key: Hashable, version: object, compute: Callable[[], T],
               size: int = 1024) -> T:
        """`compute()` for `key`, kept while `version` (of the data it is derived from)
        stays the same: the last `size` keys of each `name`, shared by every thread. For
        answers many readers repeat (a paper's similar list, a filter's papers)."""
        with self._memo_lock:
            lru = self._lrus.setdefault(name, OrderedDict())
            cached = lru.get(key)
            if cached is not None and cached[0] == version:
                lru.move_to_end(key)
                return cached[1]
        value = compute()
        with self._memo_lock:
            lru[key] = (version, value)
            lru.move_to_end(key)
            while len(lru) > size:
                lru.popitem(last=False)
        return value

    def version(self) -> tuple[object, ...]:
        """Changes whenever the store or an index does: what a cached answer depends on.
        One small query (the store's state) and no file access."""
        state = self.store.state()
        return (state.seq, state.community, self.indexes.version())

    def load_demo(self) -> IngestReport:
        from .sources.captured import read_capture

        folder = resources.files("paperfeed.demo") / "pages"
        records: list[Paper | SkippedRecord] = []
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".txt"):
                with resources.as_file(entry) as path:
                    records.extend(read_capture(Path(path), year=DEMO_YEAR))
        return self.ingest(records)

    def ingest(self, records: Iterable[Paper | SkippedRecord],
               on_batch: Callable[[int], object] | None = None) -> IngestReport:
        """Upsert papers in batches (one transaction each), each paper through the one
        gate of `sources.clean.admit`; collect skipped and amended records."""
        report = IngestReport()
        for batch in _batches(records, report):
            report.stats += self.store.papers.upsert(batch)
            if on_batch:
                on_batch(len(batch))
        return report

    def reindex(self, *, progress: bool = False) -> IndexReport:
        return self.indexes.update(self.store.papers, progress=progress)

    def index_if_writable(self) -> None:
        """Index new papers now, unless another writer is busy or this process is a
        read-only worker: then `serve`'s store follower indexes them within seconds."""
        if not self.read_only:
            self.indexes.update(self.store.papers, wait=False)

    def refresh(self) -> bool:
        """Pick up index checkpoints written by other processes."""
        return self.indexes.refresh()


def open_home(home: Path) -> None:
    """Make the data directory if it is missing; a ConfigError (one line) if it cannot be
    used, rather than a traceback from whichever file the store or index opens first."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ConfigError(f"data directory {home} is a file, not a directory") from None
    except OSError as exc:
        raise ConfigError(f"cannot use {home} as the data directory: {exc.strerror}") from None
    if not os.access(home, os.R_OK | os.W_OK | os.X_OK):
        raise ConfigError(f"cannot use {home} as the data directory: permission denied")


def demo_vectors() -> dict[str, dict[str, np.ndarray]]:
    """The demo corpus's vectors shipped with the package (`demo/<model>.npz`, made by
    scripts/demo_vectors.py): model -> `text_key` of title and abstract -> vector."""
    found: dict[str, dict[str, np.ndarray]] = {}
    for entry in resources.files("paperfeed.demo").iterdir():
        if entry.name.endswith(".npz"):
            with resources.as_file(entry) as path, np.load(path) as bundle:
                found[entry.name.removesuffix(".npz")] = dict(
                    zip(bundle["hashes"].tolist(), bundle["vectors"].astype(np.float32),
                        strict=True))
    return found


def _batches(records: Iterable[Paper | SkippedRecord],
             report: IngestReport) -> Iterator[list[Paper]]:
    batch: list[Paper] = []
    for record in records:
        if isinstance(record, SkippedRecord):
            report.skipped.append(record)
            continue
        admitted, changes = admit(record)
        if changes:
            report.amended.append(AmendedRecord(record.source_ref, changes))
        if isinstance(admitted, SkippedRecord):
            report.skipped.append(admitted)
            continue
        batch.append(admitted)
        if len(batch) >= INGEST_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch

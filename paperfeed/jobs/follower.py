"""Keep one process's indexes following the store, in a background thread.

Every process that searches runs one (`serve` in its app's lifespan, each `serve --workers`
process, the `--workers` supervisor, `paperfeed worker`). Each round:

- picks up checkpoints other processes wrote (`Indexes.refresh`: one stat per artifact;
  an artifact that changed is re-opened here and its reference swapped, so requests only
  ever read the current reference and the event loop never opens tantivy or usearch);
- in a process that may write, indexes what the store changed since, unless another writer
  is busy (it follows the store too; its checkpoints arrive by the next round).

So papers another process or host stores (a submission, `paperfeed ingest`, a harvest) are
searchable everywhere within seconds. A writable process then fits the map of the corpus
if one is due (index/map_artifact.py: a new data dir, or a corpus doubled since the last
fit; `/map` says it is being built meanwhile) and runs a slice (at most
`backfill.SLICE_SECONDS`) of the transformer tier's backfill (index/backfill.py), if one is
pending and no other writer is busy: new papers come first, the backfill between them.

The thread runs at the lowest CPU priority (Linux niceness is per thread, and threads it
starts, ONNX Runtime's and usearch's, inherit it): on a 2-core host a backfill at normal
priority made filtered searches wait up to 1.5 s (docs/search.md). Requests take the cores
first; the backfill gets what they leave.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from ..catalog import Catalog
from ..index.backfill import SLICE_SECONDS

log = logging.getLogger("paperfeed.jobs.follower")
EVERY_S = 1.0
LOWEST = 19


def lowest_priority() -> None:
    """Give the calling thread the lowest CPU priority (Linux only: elsewhere the call
    would re-nice the whole process, requests included)."""
    if sys.platform == "linux":
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
        except OSError:  # a sandbox may forbid it; following the store matters more
            log.warning("paperfeed: could not lower the index follower's priority")


class IndexFollower:
    def __init__(self, catalog: Catalog, every_s: float = EVERY_S) -> None:
        self.catalog = catalog
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self, *, backfill: bool = True) -> None:
        """One round (with a backfill slice unless `backfill` is False: a caller about to
        search wants only the store's changes); errors are logged, the next round retries."""
        catalog = self.catalog
        try:
            catalog.refresh()
            if catalog.read_only:
                return
            indexes, papers = catalog.indexes, catalog.store.papers
            if papers.max_seq() > indexes.last_seq:
                indexes.update(papers, wait=False)
            if indexes.map.building:
                indexes.build_map(papers, wait=False)
            if backfill and indexes.transformer is not None and indexes.transformer.backfilling:
                indexes.backfill(papers, seconds=SLICE_SECONDS, wait=False)
        except Exception:  # keep serving: the next round retries
            log.exception("paperfeed: following the store failed")

    def run(self) -> None:
        lowest_priority()
        while not self._stop.wait(self.every_s):
            self.step()

    def start(self) -> IndexFollower:
        self._thread = threading.Thread(target=self.run, name="paperfeed-index-follower",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

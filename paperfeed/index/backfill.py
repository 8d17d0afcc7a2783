"""The transformer tier's backfill: embed the papers a bulk update left to it, newest first.

`Indexes.update` leaves a big batch of changes to the backfill by setting the tier's
`Stamp.backfill_below` (sync.py). This job embeds every paper unchanged since that seq and
missing from the tier, newest (by publication date) first, since recent papers are the ones
members read and search; when none is left it sets `backfill_below` to 0.

Resumable after a kill, losing at most one batch of embedding work: each batch's vectors are
committed to the embedding cache (`embeddings.sqlite`) as soon as they are computed, while
the HNSW file and the stamp are saved every `CHECKPOINT_SECONDS` (at 588k papers a save
takes seconds, so not after every batch, and never more often than every 20 saves' time: at
most 5 % of the backfill goes to saving). A rerun finds the papers its last checkpoint lacks,
takes their vectors from the cache, and embeds only what was never committed.

Run by `serve`'s follower thread and `paperfeed worker` in slices of `SLICE_SECONDS` (the
writer lock is then free for other writers between slices), and by `paperfeed index --wait`
to completion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..store import Papers
from .artifacts import IndexReport, VectorArtifact, read_stamps

BATCH = 64  # papers per embedding call and cache commit: ~2-4 s of transformer work
CHECKPOINT_SECONDS = 30.0
SLICE_SECONDS = 30.0


def pending(tier: VectorArtifact, store: Papers) -> np.ndarray:
    """Keys the backfill still has to embed, newest first. The order of the papers up to a
    deferral never changes (later changes are the update's), so it is read from the store
    once per deferral, not per slice: at 588k papers that read took 6-8 s of every 30 s
    slice on a busy machine."""
    below = tier.stamp.backfill_below
    if tier.backfill_order is None or tier.backfill_order[0] != below:
        tier.backfill_order = (below, np.asarray(store.newest_up_to(below), dtype=np.int64))
    keys = tier.backfill_order[1]
    return keys[~tier.index.has(keys)]


def run_backfill(tier: VectorArtifact, store: Papers, seconds: float | None,
                 progress: bool) -> IndexReport:
    """Backfill `tier` for at most `seconds` (None: until done); the caller holds the
    writer lock. Checkpoints every CHECKPOINT_SECONDS and when it stops."""
    report = IndexReport()
    started = time.perf_counter()
    todo = pending(tier, store)
    below = tier.stamp.backfill_below
    last_save, every = started, CHECKPOINT_SECONDS
    with tqdm(total=len(todo), unit="paper", desc=f"backfilling {tier.spec.name}",
              disable=not progress) as bar:
        for start in range(0, len(todo), BATCH):
            # A paper changed since the deferral is the update's to follow, not ours.
            rows = [row for row in store.index_rows(todo[start:start + BATCH].tolist())
                    if row.seq <= below]
            if rows:
                tier.add(rows, report)
            report.indexed += len(rows)
            bar.update(min(BATCH, len(todo) - start))
            now = time.perf_counter()
            if seconds is not None and now - started >= seconds:
                break
            if now - last_save >= every:
                _checkpoint(tier, report, now - started)
                last_save = time.perf_counter()
                every = max(CHECKPOINT_SECONDS, 20 * (last_save - now))
        else:
            tier.stamp.backfill_below = 0
    report.seconds = time.perf_counter() - started
    _checkpoint(tier, report, report.seconds)
    return report


def _checkpoint(tier: VectorArtifact, report: IndexReport, elapsed: float) -> None:
    if report.embedded and elapsed > 0:  # papers embedded, not taken from the cache
        tier.stamp.rate = round(report.embedded / elapsed, 2)
    tier.checkpoint(report)


@dataclass
class TierProgress:
    """How far one artifact is, for `paperfeed index status` and the admin page."""

    name: str
    model: str
    done: int
    total: int
    rate: float  # papers/s of the last backfill; 0 when none ran
    seq: int  # the store's change it is up to (`Stamp.last_seq`)
    store_seq: int  # the store's latest change

    @property
    def eta_s(self) -> float | None:
        left = max(self.total - self.done, 0)
        if not left:
            return 0.0
        return left / self.rate if self.rate else None

    @property
    def percent(self) -> str:
        return f"{self.done / self.total:.0%}" if self.total else ""

    @property
    def eta(self) -> str:
        """The ETA as people read it: "done", "unknown" (no rate measured yet), "1h05m"."""
        seconds = self.eta_s
        if seconds is None:
            return "unknown"
        if seconds == 0:
            return "done"
        minutes = int(seconds // 60)
        if minutes >= 60:
            return f"{minutes // 60}h{minutes % 60:02d}m"
        return f"{minutes}m{int(seconds) % 60:02d}s"


def progress(index_dir: Path, store: Papers) -> list[TierProgress]:
    """Every artifact's progress, from its stamp (no index is opened) and the store's count
    of papers and latest change."""
    total, seq = store.count(), store.max_seq()
    return [TierProgress(name, stamp.model, stamp.count, total,
                         stamp.rate if stamp.backfill_below else 0.0, stamp.last_seq, seq)
            for name, stamp in read_stamps(index_dir).items()]

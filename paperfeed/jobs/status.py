"""What an admin watches: the indexes catching up with the store, the last harvest, the
digest queue, hidden submissions and members, in one snapshot.

The admin page (/admin) and its JSON (/api/admin/status) show it; `paperfeed index status`
prints the same index rows (`index.backfill.progress`: one computation, three surfaces).
Everything is read from the store and the indexes' stamps, no index is opened, so asking
is cheap on a big site (a few indexed counts) and never waits for the writer lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..index.backfill import TierProgress, progress
from ..models import HarvestCursor, StoredPaper
from ..store import Store

HIDDEN_SHOWN = 50  # hidden submissions listed; the count covers them all
QUEUED = ("queued", "sending")  # outbox statuses still to be delivered


@dataclass(frozen=True)
class SiteStatus:
    papers: int
    store_seq: int  # the store's latest change: each index is up to date when it has it
    indexes: list[TierProgress]
    last_harvest: HarvestCursor | None
    outbox: dict[str, int]  # digests by status
    hidden_count: int
    hidden: list[StoredPaper]  # the latest hidden submissions, at most HIDDEN_SHOWN
    members: int

    @property
    def outbox_queued(self) -> int:
        return sum(self.outbox.get(status, 0) for status in QUEUED)


def site_status(store: Store, index_dir: Path) -> SiteStatus:
    indexes = progress(index_dir, store.papers)
    community = store.community
    return SiteStatus(
        papers=store.papers.count(), store_seq=store.papers.max_seq(), indexes=indexes,
        last_harvest=store.harvests.latest(), outbox=store.outbox.counts(),
        hidden_count=community.hidden_count(),
        hidden=store.papers.get_many(community.hidden_latest(HIDDEN_SHOWN)),
        members=store.members.count())

"""A long index run killed with -9 keeps the work done up to its last checkpoint (issue 9.15).

The indexer checkpoints every 50,000 rows or 30 s, whichever comes first; here the interval
is 0.5 s and the embedder sleeps 0.3 s a batch, so the run is "long" in a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.index import layout
from paperfeed.index.sync import Indexes
from paperfeed.models import Paper
from paperfeed.store import Store

from ..conftest import make_settings

PAPERS = 6000  # six batches of 1024
SCRIPT = """
import sys, time
import paperfeed.index.sync as sync
from paperfeed.index import embed
sync.CHECKPOINT_SECONDS = 0.5  # by time: the 50,000 rows never come
encode = embed.StaticEmbedder.encode
def slow(self, texts, batch_size=1024):
    print("batch", flush=True)
    time.sleep(0.3)  # a slow embedder, e.g. a transformer on a busy machine
    return encode(self, texts, batch_size)
embed.StaticEmbedder.encode = slow
from paperfeed.cli import cli
cli(["--data-dir", sys.argv[1], "index"])
"""


def test_kill_9_keeps_what_was_checkpointed_by_time(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "FIT_SAMPLE", 500)  # the rerun's map: 98 s on 6,000, loaded
    settings = make_settings(tmp_path, load_demo=False)
    Catalog(settings).ingest(
        Paper(title=f"Paper {i} on topic {i % 97}", abstract=f"Findings number {i}.",
              arxiv_id=f"2503.{i:05d}", published=date(2025, 3, 1), source="t",
              source_ref=str(i)) for i in range(PAPERS))
    run = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)],
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    try:
        # Each batch takes >= 0.3 s, and a checkpoint is due 0.5 s after the last: by the
        # time the fourth batch starts, at least two batches were saved (one checkpoint
        # after the second batch, or one after the first and one after the third).
        for _ in range(4):
            assert run.stdout.readline() == "batch\n", "the index run ended early"
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.kill()
        run.wait(timeout=30)
    rerun = Indexes(settings.index_dir, settings.embedder).update(
        Store(settings.store_url).papers)
    # The map is saved only at the end of an update: the rerun walks every row again to
    # note its key and month, and embeds only what no checkpoint had saved.
    assert 0 < rerun.embedded + rerun.from_cache <= PAPERS - 2 * 1024, \
        "the rerun redoes only what was not saved"
    reopened = Catalog(settings, read_only=True).indexes
    assert len(reopened.vectors) == reopened.fulltext.num_docs() == PAPERS

"""The transformer tier's backfill (index/backfill.py): a bulk update leaves the transformer
to it; it fills newest first, survives `kill -9` losing at most the batch in flight, and
rankings move to the transformer's as its vectors land."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.catalog import Catalog, demo_vectors
from paperfeed.cli import cli
from paperfeed.discover.search import Filters, search
from paperfeed.index.artifacts import read_stamps
from paperfeed.index.sync import AT_ONCE_ROWS, TRANSFORMER
from paperfeed.models import Paper
from paperfeed.sources import read_source

from ..conftest import REPO, make_settings

BULK = AT_ONCE_ROWS + 100
SCRIPT = """
import sys, time
from paperfeed.index import backfill, embed
backfill.CHECKPOINT_SECONDS = 0.5
encode = embed.TransformerEmbedder.encode
def slow(self, texts, batch_size=16):
    vectors = encode(self, texts, batch_size)
    time.sleep(0.3)  # the real transformer on real abstracts is slower still
    print("batch", flush=True)
    return vectors
embed.TransformerEmbedder.encode = slow
from paperfeed.cli import cli
cli(["--data-dir", sys.argv[1], "index", "--wait"])
"""


def _filler(count: int, start: date = date(2020, 1, 1)) -> list[Paper]:
    return [Paper(title=f"Note {i} on subject {i % 37}", abstract=f"Observation number {i}.",
                  arxiv_id=f"2001.{i:05d}", published=start + timedelta(days=i % 900),
                  source="t", source_ref=str(i)) for i in range(count)]


def _cached(home: Path) -> int:
    with sqlite3.connect(home / "index" / "embeddings.sqlite") as db:
        return db.execute("SELECT count(*) FROM embeddings WHERE model = ?",
                          (TRANSFORMER,)).fetchone()[0]


def test_backfill_resumes_after_kill_9_redoing_nothing_committed(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, load_demo=False)
    Catalog(settings).ingest(_filler(BULK))
    run = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)],
                           stdout=subprocess.PIPE, text=True)
    assert run.stdout is not None
    try:
        # The bulk update is done and the map laid out; four backfill batches embedded.
        assert run.stdout.readline().startswith("laid out the map of 600 papers")
        for _ in range(4):
            assert run.stdout.readline() == "batch\n", "the index run ended early"
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.kill()
        run.wait(timeout=30)
    committed = _cached(tmp_path)
    saved = read_stamps(settings.index_dir)["vectors-transformer"]
    assert 3 * 64 <= committed < BULK and saved.backfill_below > 0
    assert saved.count <= committed, "the index saved only vectors the cache holds"

    rerun = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "index", "--wait"],
                               catch_exceptions=False)
    assert rerun.exit_code == 0, rerun.output
    embedded, from_cache = BULK - committed, committed - saved.count
    assert (f"backfilled {BULK - saved.count} papers" in rerun.output
            and f"({embedded} embedded, {from_cache} from cache)" in rerun.output), rerun.output
    stamp = read_stamps(settings.index_dir)["vectors-transformer"]
    assert (stamp.count, stamp.backfill_below) == (BULK, 0), "nothing lost"
    assert _cached(tmp_path) == BULK

    status = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "index", "status"])
    lines = {line.split()[0]: line for line in status.output.splitlines()[1:]}
    assert set(lines) == {"keyword", "vectors-static", "vectors-transformer", "map"}
    assert f"{BULK}/{BULK} 100%" in lines["vectors-transformer"]
    assert lines["vectors-transformer"].split()[-1] == "done"


def test_status_shows_progress_rate_and_eta_mid_backfill(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest(_filler(BULK))
    catalog.reindex()  # keyword and static at once; the transformer is left to the backfill
    assert len(catalog.indexes.transformer.index) == 0
    catalog.indexes.backfill(catalog.store.papers, seconds=0)  # one batch, then stop
    status = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "index", "status"])
    row = next(line for line in status.output.splitlines() if "vectors-transformer" in line)
    _, model, share, percent, rate, eta = row.split()
    assert (model, share, percent) == (TRANSFORMER, f"64/{BULK}", f"{64 / BULK:.0%}")
    assert rate.endswith("/s") and float(rate[:-2]) > 0
    assert eta[0].isdigit() and eta != "done"
    static = next(line for line in status.output.splitlines() if "vectors-static" in line)
    assert f"{BULK}/{BULK}" in static and static.split()[-1] == "done"


def test_rankings_change_as_the_backfill_lands_newest_first(tmp_path: Path) -> None:
    """A bulk ingest of the demo pages plus filler: the static tier alone ranks the one
    speculative-decoding paper (TriForce) far down a semantic search (issue 10); once the
    backfill reaches it, it comes first. The backfill goes newest first."""
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    pages = sorted((REPO / "paperfeed" / "demo" / "pages").glob("*.txt"))
    demo = catalog.ingest([r for page in pages for r in read_source(page, "capture")])
    catalog.ingest(_filler(BULK - catalog.store.papers.count() + 50, date(2010, 1, 1)))
    # The demo's shipped vectors, so the transformer runs on the filler only (fast).
    catalog.indexes.seed(catalog.store.papers, demo_vectors())
    catalog.reindex()
    tier = catalog.indexes.transformer
    assert tier is not None and tier.backfilling and len(tier.index) == 0

    def top(mode: str) -> str:
        return search(catalog, "speculative decoding", mode=mode, limit=1)[0].paper.title

    assert not top("semantic").startswith("TriForce")
    first = catalog.indexes.backfill(catalog.store.papers, seconds=0)  # the newest 64
    newest = [p.key for p in catalog.store.papers.newest_matching(None, None, [], 64)]
    assert tier.index.has(newest).all()
    report = catalog.indexes.backfill(catalog.store.papers)
    assert not tier.backfilling and len(tier.index) == catalog.store.papers.count()
    assert first.from_cache + report.from_cache == demo.stats.inserted, \
        "the demo's vectors came from the seeded cache"
    assert top("semantic").startswith("TriForce") and top("hybrid").startswith("TriForce")


def test_a_tier_covering_every_paper_ranks_without_the_static_half(tmp_path: Path) -> None:
    """The demo opens fully backfilled: the static tier's candidates would only be re-scored
    by the transformer, so searches leave it out (unfiltered, and filtered where the
    transformer holds every paper the filter leaves), and the ranking is still right. One
    paper without a transformer vector brings the static half back."""
    catalog = Catalog(make_settings(tmp_path))

    def retrievers(filters: Filters | None = None) -> set[str]:
        hits = search(catalog, "knowledge distillation", limit=30, filters=filters)
        return {name for hit in hits for name in hit.ranks}

    assert retrievers() == {"keyword", "transformer"}
    top = [h.paper.title for h in search(catalog, "knowledge distillation", limit=8)]
    assert sum("Distillation" in title or "KD" in title for title in top) >= 6, top
    assert search(catalog, "speculative decoding", mode="semantic",
                  limit=1)[0].paper.title.startswith("TriForce")
    tier = catalog.indexes.transformer
    assert tier is not None
    lacking = search(catalog, "knowledge distillation", limit=1)[0].paper
    tier.index.remove([lacking.key])
    assert "semantic" in retrievers()
    day = Filters(date_from=lacking.published, date_to=lacking.published)
    assert "semantic" in retrievers(day), "a filter leaving the paper without one"
    before = Filters(date_to=lacking.published - timedelta(days=1))
    assert retrievers(before) == {"keyword", "transformer"}, "the filter's papers are covered"


def test_the_demo_opens_fully_transformer_embedded(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path))
    stamps = {a.name: a.stamp for a in catalog.indexes.artifacts}
    count = catalog.store.papers.count()
    assert count > 300 and stamps["vectors-transformer"].count == count
    assert stamps["vectors-transformer"].backfill_below == 0
    assert _cached(tmp_path) == count, "every demo vector came with the package"


def test_shipped_demo_vectors_are_the_transformers(tmp_path: Path) -> None:
    """scripts/demo_vectors.py must be rerun when the demo pages or the model change."""
    from paperfeed.index.embed import paper_text, text_key
    from paperfeed.index.embedders import load_embedder

    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.load_demo()
    rows = next(catalog.store.papers.changed_since(0, batch_size=8))
    shipped = demo_vectors()[TRANSFORMER]
    now = load_embedder(TRANSFORMER, indexing=True).encode(
        [paper_text(r.title, r.abstract) for r in rows])
    for row, vector in zip(rows, now, strict=True):
        assert float(shipped[text_key(row.title, row.abstract)] @ vector) > 0.99


def test_the_follower_backfills_between_following_the_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`serve`'s follower thread and the worker run the backfill in slices (one batch here)."""
    from paperfeed.jobs import follower

    monkeypatch.setattr(follower, "SLICE_SECONDS", 0.0)
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest(_filler(BULK))
    catalog.reindex()
    step = follower.IndexFollower(catalog).step
    step(backfill=False)
    assert read_stamps(catalog.settings.index_dir)["vectors-transformer"].count == 0
    step()
    assert read_stamps(catalog.settings.index_dir)["vectors-transformer"].count == 64
    catalog.ingest([Paper(title="A new paper", abstract="Stored while the backfill runs.",
                          arxiv_id="2601.00001", source="t", source_ref="new")])
    step()  # new papers first (at once: a small update), then the next slice
    tier = catalog.indexes.transformer
    new = catalog.store.papers.get("2601.00001")
    assert tier is not None and new is not None and tier.index.has([new.key]).all()
    assert read_stamps(catalog.settings.index_dir)["vectors-transformer"].count == 2 * 64 + 1
    # The backfill's order was read from the store once for this deferral, not per slice
    # (588k keys took 6-8 s of each 30 s slice).
    reads: list[int] = []
    newest_up_to = catalog.store.papers.newest_up_to
    monkeypatch.setattr(catalog.store.papers, "newest_up_to",
                        lambda seq: reads.append(seq) or newest_up_to(seq))
    step()
    step()
    assert reads == [] and read_stamps(catalog.settings.index_dir)[
        "vectors-transformer"].count == 4 * 64 + 1
    catalog.ingest(_filler(BULK, start=date(2023, 1, 1)))  # another bulk: a new deferral
    step()
    assert len(reads) == 1

"""Several writers on one index directory: serialised, and nothing lost."""

from __future__ import annotations

import fcntl
import threading
from datetime import date
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.models import Paper

from ..conftest import make_settings


def _papers(start: int, n: int) -> list[Paper]:
    return [Paper(title=f"Distinct topic number {i} about graph kernels", abstract=f"Topic {i}.",
                  arxiv_id=f"2502.{i:05d}", published=date(2025, 2, 1), source="t",
                  source_ref=str(i)) for i in range(start, start + n)]


def test_two_writers_keep_each_others_papers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, load_demo=False)
    first, second = Catalog(settings), Catalog(settings)  # e.g. the CLI and `serve`
    first.ingest(_papers(0, 5))
    first.reindex()
    second.ingest(_papers(5, 5))
    second.reindex()  # its in-memory index predates the first writer's papers
    fresh = Catalog(settings, read_only=True)
    assert {a.name: a.stamp.count for a in fresh.indexes.artifacts} == {
        "keyword": 10, "vectors-static": 10, "vectors-transformer": 10, "map": 0}
    assert fresh.indexes.map.building, "the map is left to the follower"
    first.indexes.build_map(first.store.papers)  # from every paper, whoever indexed it
    assert fresh.refresh() and len(fresh.indexes.map) == 10
    assert len(fresh.indexes.vectors) == 10
    assert fresh.indexes.fulltext.num_docs() == 10


def test_a_busy_writer_is_waited_for_or_skipped(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest(_papers(0, 3))
    with open(catalog.indexes.dir / "write.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is writing
        catalog.index_if_writable()
        assert catalog.indexes.semantic.stamp.count == 0, "a request does not wait for the writer"
        waiting = threading.Thread(target=catalog.reindex)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive(), "a follower waits its turn"
        fcntl.flock(lock, fcntl.LOCK_UN)
    waiting.join(timeout=30)
    assert catalog.indexes.semantic.stamp.count == 3


def test_an_index_build_reports_where_its_time_went(tmp_path: Path) -> None:
    """bench/scale.py reads the parts of a build from the report (no instrumenting)."""
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest(_papers(0, 5))
    report = catalog.reindex()
    assert set(report.parts) == {"keyword: tantivy add", "embedding cache lookup",
                                 "embedding cache store", "ANN: usearch add",
                                 "keyword: commit + merge", "ANN: save"}
    assert all(seconds >= 0 for seconds in report.parts.values())
    assert sum(report.parts.values()) + report.embed_seconds <= report.seconds
    built = catalog.indexes.build_map(catalog.store.papers)  # the map: fitted apart
    assert set(built.parts) == {"map: fit"} and built.parts["map: fit"] <= built.seconds
    catalog.ingest(_papers(5, 1))
    assert "map: place" in catalog.reindex().parts, "a new paper placed at the update's end"
    catalog.ingest([_papers(0, 1)[0]])  # unchanged: nothing to index, nothing timed
    assert catalog.reindex().parts == {}

"""The index follower: a served app finds what other processes store, and its event loop
never re-opens an index."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from paperfeed.catalog import Catalog
from paperfeed.models import Paper

from ..conftest import LiveServer, make_settings


def _paper(i: int, title: str) -> Paper:
    return Paper(title=title, abstract=f"Abstract {i}.", arxiv_id=f"2505.{i:05d}",
                 published=date(2025, 5, 1), source="t", source_ref=str(i))


def test_a_read_only_server_follows_and_refreshes_off_the_event_loop(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, load_demo=False)
    writer = Catalog(settings)
    writer.ingest([_paper(1, "Graph kernels for molecules")])
    writer.reindex()
    reader = Catalog(settings, read_only=True)  # as in each `serve --workers` process
    on_loop: list[bool] = []
    refresh = reader.indexes.refresh

    def watched() -> bool:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return refresh()

    reader.indexes.refresh = watched  # type: ignore[method-assign]
    with LiveServer(reader) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        writer.ingest([_paper(2, "Quokka estimators for sparse ranking")])
        writer.reindex()  # another process (the supervisor, the CLI) indexes

        def found() -> bool:  # by its vector: tantivy alone reloads on commit by itself
            hits = client.get("/api/papers/search", params={"q": "quokka estimators",
                                                            "mode": "semantic"}).json()
            return any(hit["id"] == "2505.00002" for hit in hits)

        assert _within(20, found), "the new paper's vector became searchable"
    assert on_loop and not any(on_loop), "refreshed in the follower thread only"


def test_a_writing_server_indexes_what_another_process_stored(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, load_demo=False)
    served = Catalog(settings)
    with LiveServer(served) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        Catalog(settings).ingest([_paper(3, "Unicorn ranking losses")])  # no index run

        def found() -> bool:
            hits = client.get("/api/papers/search", params={"q": "unicorn ranking"}).json()
            return [hit["id"] for hit in hits] == ["2505.00003"]

        assert _within(20, found), "the server's follower indexed it"


def _within(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_the_follower_thread_runs_at_the_lowest_priority_and_the_rest_does_not(
        tmp_path: Path) -> None:
    """The backfill runs on the follower's thread: requests must take the cores first."""
    import os
    import sys

    import pytest

    from paperfeed.jobs.follower import LOWEST, IndexFollower

    if sys.platform != "linux":
        pytest.skip("per-thread niceness is Linux's")
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    before = os.getpriority(os.PRIO_PROCESS, 0)
    follower = IndexFollower(catalog, every_s=0.05).start()
    try:
        assert follower._thread is not None
        tid = follower._thread.native_id
        assert tid is not None
        deadline = time.monotonic() + 10
        while os.getpriority(os.PRIO_PROCESS, tid) != LOWEST and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.getpriority(os.PRIO_PROCESS, tid) == LOWEST
        assert os.getpriority(os.PRIO_PROCESS, 0) == before  # this (request) thread unchanged
    finally:
        follower.stop()

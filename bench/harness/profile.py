"""cProfile of page handlers, in process: where a request's time goes in Python.

The app is called through httpx's ASGITransport with anyio's thread offload replaced by
a direct call, so the sync handlers run in the profiled thread. (That replacement is the
one patch left in the harness: it changes how the test client calls the app, not what
the app does.)
"""

from __future__ import annotations

import asyncio
import cProfile
import io
import pstats
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx

from paperfeed.catalog import Catalog
from paperfeed.web import create_app

from .datadir import settings
from .wrk import Request


async def _inline(func: Any, *args: Any, **_: Any) -> Any:
    return func(*args)


def profile_pages(home: Path, embedder: str, requests: dict[str, list[Request]],
                  n: int = 200, top: int = 25) -> dict[str, Any]:
    """For each named list of GET requests: ms per request plain and under cProfile, and
    the profile's top functions by own and by cumulative time (also printed)."""
    config = settings(home, embedder)
    app = create_app(config, Catalog(config))

    async def run(calls: list[tuple[str, dict[str, str]]]) -> tuple[float, float, pstats.Stats]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://127.0.0.1") as client:  # a trusted host
            for path, headers in calls[:10]:
                (await client.get(path, headers=headers)).raise_for_status()
            started = time.perf_counter()
            for path, headers in calls:
                await client.get(path, headers=headers)
            plain = time.perf_counter() - started
            prof = cProfile.Profile()
            started = time.perf_counter()
            prof.enable()
            for path, headers in calls:
                await client.get(path, headers=headers)
            prof.disable()
            return plain, time.perf_counter() - started, pstats.Stats(prof)

    out: dict[str, Any] = {}
    real_run_sync = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    try:
        for name, items in requests.items():
            calls = [(items[i % len(items)][1], items[i % len(items)][2] or {}) for i in range(n)]
            plain, profiled, stats = asyncio.run(run(calls))
            text = io.StringIO()
            stats.stream = text  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)
            print(f"\n=== profile {name}: {n} requests in process, one at a time: "
                  f"{1000 * plain / n:.2f} ms/request ({1000 * profiled / n:.2f} under "
                  f"cProfile) ===\n{text.getvalue()}")
            out[name] = {"ms_per_request": round(1000 * plain / n, 2),
                         "ms_per_request_profiled": round(1000 * profiled / n, 2),
                         "top": text.getvalue()}
    finally:
        anyio.to_thread.run_sync = real_run_sync
    return out

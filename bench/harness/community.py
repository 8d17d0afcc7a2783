"""A community in a data dir, made in process: bench members' upvotes and digest
subscribers in a seeded mix (what bench/digests.py sends to)."""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

from paperfeed.catalog import Catalog

from . import tables

Subscriber = tuple[str, str, bool, str | None]  # email, frequency, trending, query

MIX = (("trending", 0.4), ("search", 0.4), ("both", 0.2))
DAILY_SHARE = 0.5
ZIPF_S = 1.0
VIA_API = 200  # subscribers created through the store's API; the rest in bulk


def seed_votes(catalog: Catalog, prefix: str, voters: int, per_voter: int, start: date,
               end: date, rng: random.Random) -> dict[str, Any]:
    """`voters` members upvote ~`per_voter` papers of [start, end] each, Zipf-popular."""
    started = time.perf_counter()
    keys = [tables.key_of(p) for p in catalog.store.papers.between(start, end, 100_000)]
    rng.shuffle(keys)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(keys))]
    votes = 0
    for i in range(voters):
        name = f"{prefix}{i:03d}"
        user = catalog.store.members.add_user(name, f"{name}@bench.invalid", "x", is_admin=False)
        for key in set(rng.choices(keys, weights, k=per_voter)) if keys else set():
            catalog.store.community.vote(user.id, key, up=True)
            votes += 1
    return {"voters": voters, "votes": votes, "papers_in_window": len(keys),
            "seconds": round(time.perf_counter() - started, 2)}


def plan_subscribers(n: int, queries: list[str], rng: random.Random) -> list[Subscriber]:
    """`n` subscribers in the MIX of kinds, DAILY_SHARE daily, saved searches drawn from
    `queries` (most popular first) with Zipf popularity."""
    weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(queries))]
    kinds = [kind for kind, share in MIX for _ in range(round(share * n))][:n]
    kinds += ["both"] * (n - len(kinds))
    rng.shuffle(kinds)
    out = []
    for i, kind in enumerate(kinds):
        frequency = "daily" if rng.random() < DAILY_SHARE else "weekly"
        query = rng.choices(queries, weights)[0] if kind != "trending" else None
        out.append((f"reader{i:05d}@example.org", frequency, kind != "search", query))
    return out


def add_subscribers(catalog: Catalog, subscribers: list[Subscriber]) -> dict[str, Any]:
    """The first VIA_API through the app (two transactions each), the rest in one."""
    stored = catalog.store.subscriptions
    started = time.perf_counter()
    for email, frequency, trending, query in subscribers[:VIA_API]:
        stored.set_status(stored.add(email, frequency, trending, query).id, "active")
    api_s = time.perf_counter() - started
    started = time.perf_counter()
    tables.bulk_subscribe(catalog, subscribers[VIA_API:])
    api = len(subscribers[:VIA_API])
    return {"via_api": api, "api_seconds": round(api_s, 3),
            "api_ms_per_subscriber": round(1000 * api_s / max(1, api), 3),
            "bulk": len(subscribers) - api,
            "bulk_seconds": round(time.perf_counter() - started, 3)}

"""Load: requests/s and latency of `paperfeed serve` under 50 concurrent HTTP clients.

A real HTTP load generator (wrk) against `paperfeed serve` on loopback, on the 173k-paper
arXiv cs data dir that bench/scale.py builds (reused; built first when missing).

    python bench/load.py [--home /tmp/pf-bench-cs] [--workers 1,2] [--duration 20]
                         [--connections 50] [--threads 2] [--warmup 3]
                         [--scenarios daily,trending,...] [--profile]
                         [--backends sqlite,postgresql] [--database-url postgresql://...]

`--backends sqlite,postgresql` runs the same scenarios against the data dir's SQLite store
and then against a copy of it on PostgreSQL (harness/postgres.py: `db copy` of the store
into a new database, made before the SQLite run so both start alike, of the bench's own
PostgreSQL 18 server or of the empty database `--database-url` names; the index and secret
key copied into `<home>-pg`, served with PAPERFEED_DATABASE_URL). While a server is
measured this process holds the data dir's index writer lock, so the server's store
follower runs no transformer backfill (harness/server.py: index_writer_held).

For each worker count a fresh `paperfeed serve --workers N` runs on a free loopback port.
50 bench members are signed up (or logged in) over HTTP and upvote ~20 papers each from
the last two weeks of the corpus, so /trending has something to rank. Then each scenario
gets a warm-up and a measured wrk run (harness/wrk.py: a generated Lua script rotates the
request paths, search queries, paper ids and members' session cookies; p50/p95/p99,
requests/s, status codes; the CPU of the server, wrk and everything else; a run disturbed
by other processes is retried). Votes cast by the `vote` scenario are taken back after
each server, so every run ranks the same trending set. `--profile` then runs the page
handlers in process under cProfile (harness/profile.py).

Writes bench/results/load.json: table (one row per scenario and worker count: req/s,
p50/p95/p99 ms, errors, CPU % of server/wrk/others, RSS and PSS of the server's process
tree, goal met or not), servers (cold start, memory, seeded votes, every scenario's full
wrk results), the run's parameters, and profile (with --profile).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from harness import datadir, members, tables, wrk
from harness.members import Member
from harness.postgres import BenchPostgres, data_dir_copy
from harness.queries import LOAD_QUERIES, TOPIC_QUERIES
from harness.report import log, print_table, write_json
from harness.server import Server, index_writer_held

SEED = 20240601
MEMBERS = 50
MEMBER_PREFIX = "loadbench-"
SEED_VOTES_PER_MEMBER = 20
SEED_DAYS = 14
VOTE_POOL = 500  # papers the `vote` scenario votes on (taken back afterwards)
VOTE_REQUESTS = 4000  # distinct pre-formatted vote requests the Lua script cycles through
PAPER_PAGES = 500
GOAL_RPS, GOAL_P95_MS = 300, 100
GOAL_SCENARIOS = ("daily", "daily-member", "trending", "trending-member")
SCENARIOS = {
    "healthz": "GET /healthz (the framework's floor: a tiny JSON answer)",
    "daily": "GET / (the latest day's list), anonymous",
    "daily-member": "GET / as one of 50 logged-in members (rotating session cookies)",
    "trending": "GET /trending, anonymous",
    "trending-member": "GET /trending as one of 50 logged-in members",
    "search": "GET /search?q=... (50 rotating queries)",
    "api-search": "GET /api/papers/search?q=...&limit=20 (50 rotating queries)",
    "vote": "POST /api/papers/{id}/vote?up=true|false (50 members, rotating papers)",
    "mixed": "anonymous 40% GET /, 40% GET /trending, 10% search; 10% member votes",
    "api-daily": "GET /api/daily_papers?sort=trending",
    "trending-feed": "GET /feeds/trending.atom",
    "paper": "GET /papers/{id} (rotating papers; similar papers included)",
}
DEFAULT_SCENARIOS = ("healthz,daily,daily-member,trending,trending-member,search,api-search,"
                     "vote,mixed,api-daily,trending-feed")
QUERIES = list(dict.fromkeys([*TOPIC_QUERIES, *LOAD_QUERIES]))


@dataclass
class Corpus:
    papers: int
    latest: str
    seed_pool: list[str]  # ids of the last SEED_DAYS days: the members' upvotes
    vote_pool: list[tuple[int, str]]  # (key, id) the vote scenario votes on
    paper_pages: list[str]


def read_corpus(home: Path) -> Corpus:
    rng = random.Random(SEED)
    count, _, latest = tables.stored(home)
    assert latest is not None, f"{home} has no dated papers"
    since = date.fromisoformat(latest) - timedelta(days=SEED_DAYS - 1)
    older = tables.published(home, date.fromisoformat(latest) - timedelta(days=365), since)
    every = [i for _, i in tables.published(home)]
    return Corpus(count, latest, [i for _, i in tables.published(home, since)],
                  rng.sample(older, min(VOTE_POOL, len(older))),
                  rng.sample(every, min(PAPER_PAGES, len(every))))


def seed_votes(server: Server, team: list[Member], corpus: Corpus) -> dict[str, Any]:
    """Each member upvotes ~20 papers of the last two weeks, a few papers far more than others."""
    plan = members.upvote_plan(team, corpus.seed_pool, SEED_VOTES_PER_MEMBER,
                               random.Random(SEED + 1))
    started = time.perf_counter()
    bad = [s for s in members.upvote(server.url, plan) if s != 200]
    if bad:
        raise RuntimeError(f"seeding votes: {len(bad)} of {len(plan)} failed, e.g. {bad[:5]}:\n"
                           f"{server.new_log()[-3000:]}")
    seconds = time.perf_counter() - started
    papers = len({p for _, p in plan})
    log(f"seeded {len(plan)} upvotes on {papers} papers from {len(corpus.seed_pool)} of the "
        f"last {SEED_DAYS} days in {seconds:.1f}s")
    return {"upvotes": len(plan), "papers": papers, "pool": len(corpus.seed_pool),
            "days": SEED_DAYS, "seconds": round(seconds, 1)}


def scenario_requests(name: str, team: list[Member], corpus: Corpus) -> list[wrk.Request]:
    pages = {"healthz": "/healthz", "daily": "/", "trending": "/trending",
             "api-daily": "/api/daily_papers?sort=trending",
             "trending-feed": "/feeds/trending.atom"}
    if name in pages:
        return [("GET", pages[name], None, None)]
    if name in ("daily-member", "trending-member"):
        path = "/" if name == "daily-member" else "/trending"
        return [("GET", path, {"Cookie": m.headers["Cookie"]}, None) for m in team]
    if name == "search":
        return [("GET", "/search?" + urlencode({"q": q}), None, None) for q in QUERIES]
    if name == "api-search":
        return [("GET", "/api/papers/search?" + urlencode({"q": q, "limit": 20}), None, None)
                for q in QUERIES]
    if name == "paper":
        return [("GET", f"/papers/{quote(pid)}", None, None) for pid in corpus.paper_pages]
    if name == "vote":
        rng = random.Random(SEED + 3)
        return [vote_request(rng, team, corpus) for _ in range(VOTE_REQUESTS)]
    if name == "mixed":
        rng = random.Random(SEED + 4)
        searches = scenario_requests("search", team, corpus)
        items: list[wrk.Request] = []
        for _ in range(VOTE_REQUESTS):
            draw = rng.random()
            items.append(("GET", "/", None, None) if draw < 0.4
                         else ("GET", "/trending", None, None) if draw < 0.8
                         else rng.choice(searches) if draw < 0.9
                         else vote_request(rng, team, corpus))
        return items
    raise ValueError(name)


def vote_request(rng: random.Random, team: list[Member], corpus: Corpus) -> wrk.Request:
    member = rng.choice(team)
    _, paper_id = rng.choice(corpus.vote_pool)
    up = rng.choice(("true", "false"))
    return ("POST", f"/api/papers/{quote(paper_id)}/vote?up={up}",
            member.headers | {"Content-Length": "0"}, None)


def run_server(server: Server, corpus: Corpus, scenarios: list[str], load: wrk.Load,
               tmp: Path, team: list[Member] | None) -> tuple[list[Member], dict[str, Any]]:
    """Every scenario against one fresh server; the vote scenario's votes taken back."""
    pool = [key for key, _ in corpus.vote_pool]
    tables.take_back_votes(server.home, MEMBER_PREFIX, pool)
    info: dict[str, Any] = {"backend": server.backend, "workers": server.workers,
                            "load_before": round(os.getloadavg()[0], 2)}
    try:
        with index_writer_held(server.home), server:
            info |= {"cold_start_s": server.cold_start_s, "memory_at_ready_mib":
                     server.memory_mib()}
            if team is None:
                team = members.sign_in_all(server.url, server.home, MEMBER_PREFIX, MEMBERS)
                info["seed_votes"] = seed_votes(server, team, corpus)
            info["community"] = tables.community_counts(server.home)
            info["scenarios"] = [measure(server, name, scenario_requests(name, team, corpus),
                                         load, tmp) for name in scenarios]
            info["memory_at_end_mib"] = server.memory_mib()
            if server.proc and server.proc.poll() is not None:
                info["exited"] = server.proc.returncode
    finally:
        removed = tables.take_back_votes(server.home, MEMBER_PREFIX, pool)
        if removed:
            log(f"took back {removed} votes the vote scenario left on the pool")
    return team, info


def measure(server: Server, name: str, items: list[wrk.Request], load: wrk.Load, tmp: Path
            ) -> dict[str, Any]:
    script = tmp / f"{name}.lua"
    script.write_text(wrk.lua_script(items))
    row = {"scenario": name, "backend": server.backend, "workers": server.workers,
           "load": round(os.getloadavg()[0], 2), **wrk.measure(server, script, load),
           "distinct_requests": len(items)}
    if name in GOAL_SCENARIOS:
        row["goal"] = ("met" if row["req/s"] >= GOAL_RPS and row["p95 ms"] <= GOAL_P95_MS
                       and row["errors"] == "0" else "MISSED")
    log(f"{name} {server.backend} x{server.workers}: {row['req/s']} req/s, p95 "
        f"{row['p95 ms']} ms, errors {row['errors']}, CPU % server {row['server CPU %']} "
        f"wrk {row['wrk CPU %']} other {row['other CPU %']}"
        + (f", {row['tracebacks']} tracebacks" if row["tracebacks"] else ""))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pf-bench-cs"),
                        help="Data dir (built with bench/scale.py's machinery if missing).")
    parser.add_argument("--duration", type=float, default=20, help="Seconds per scenario.")
    parser.add_argument("--warmup", type=float, default=3, help="Seconds of warm-up each.")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--workers", default="1,2", help="Worker counts, comma-separated.")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                        help=f"Comma-separated, from: {', '.join(SCENARIOS)}.")
    parser.add_argument("--retries", type=int, default=2,
                        help="Re-runs of a run other processes disturbed (the quietest counts).")
    parser.add_argument("--quiet-wait", type=float, default=90,
                        help="Longest wait (s) for the rest of the machine to go quiet before a "
                             "run; a machine other sessions keep busy never does.")
    parser.add_argument("--profile", action="store_true",
                        help="Afterwards, cProfile the page handlers in process.")
    parser.add_argument("--backends", default="sqlite",
                        help="Stores to serve from, in order: sqlite, postgresql or both.")
    parser.add_argument("--database-url",
                        help="An empty PostgreSQL database for the postgresql backend (default: "
                             "a new database on the bench's own PostgreSQL server).")
    parser.add_argument("--output", default="load", help="bench/results/<output>.json")
    ns = parser.parse_args()
    scenarios = [s.strip() for s in ns.scenarios.split(",") if s.strip()]
    if unknown := [s for s in scenarios if s not in SCENARIOS]:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    workers = [int(w) for w in ns.workers.split(",")]
    backends = [b.strip() for b in ns.backends.split(",") if b.strip()]
    if unknown := [b for b in backends if b not in ("sqlite", "postgresql")]:
        parser.error(f"unknown backends {unknown}: sqlite, postgresql")
    wrk.ensure_wrk()
    home = ns.home.resolve()
    embedder = datadir.ensure_built(home)
    corpus = read_corpus(home)
    log(f"{home}: {corpus.papers:,} papers (latest {corpus.latest}), embedder {embedder}")
    load = wrk.Load(ns.duration, ns.warmup, ns.connections, ns.threads, ns.retries,
                    ns.quiet_wait)
    started = time.perf_counter()
    servers: list[dict[str, Any]] = []
    team: list[Member] | None = None
    copied: dict[str, Any] | None = None
    with tempfile.TemporaryDirectory(prefix="pf-load-") as tmp, contextlib.ExitStack() as stack:
        homes = {"sqlite": home}
        if "postgresql" in backends:
            tables.take_back_votes(home, MEMBER_PREFIX, [k for k, _ in corpus.vote_pool])
            url = ns.database_url or stack.enter_context(BenchPostgres()).database("load")
            homes["postgresql"] = home.with_name(home.name + "-pg")
            copied = data_dir_copy(home, homes["postgresql"], url)
            log(f"db copy: {copied}")
        for backend in backends:
            team = None
            for count in workers:
                server = Server(homes[backend], embedder,
                                Path(tmp) / f"serve-{backend}-{count}.log", workers=count)
                team, info = run_server(server, corpus, scenarios, load, Path(tmp), team)
                servers.append(info)
    profile = None
    if ns.profile and team:
        from harness.profile import profile_pages

        profile = profile_pages(home, embedder, {
            name: scenario_requests(name, team, corpus) for name in scenarios
            if name not in ("vote", "mixed")})  # writes: measured over HTTP only
    columns = ("scenario", "backend", "workers", "load", "req/s", "p50 ms", "p95 ms", "p99 ms",
               "errors", "server CPU %", "CPU split %", "wrk CPU %", "other CPU %", "RSS MiB",
               "PSS MiB", "goal")
    table = sorted(({k: r[k] for k in columns if k in r} for s in servers for r in s["scenarios"]),
                   key=lambda r: (scenarios.index(r["scenario"]), r["workers"],
                                  backends.index(r["backend"])))
    print_table(f"paperfeed serve under wrk: {corpus.papers:,} papers, {ns.connections} "
                f"connections, {ns.threads} wrk threads, {ns.duration:g} s per run (after "
                f"{ns.warmup:g} s warm-up), loopback, {os.cpu_count()} cores shared by wrk and "
                f"the server; goal for {'/'.join(GOAL_SCENARIOS)}: >= {GOAL_RPS} req/s at "
                f"p95 <= {GOAL_P95_MS} ms", table)
    print("\nworkers = server processes (`paperfeed serve --workers N`, one SO_REUSEPORT socket "
          "each). CPU % is of one core during the run: the server's process tree, wrk, and "
          "everything else on the machine; CPU split % is each server process's share. RSS is "
          "summed over the process tree (shared pages once per process); PSS splits them.")
    write_json(ns.output, {
        "home": str(home), "papers": corpus.papers, "embedder": embedder,
        "wrk": wrk.wrk_version(), "duration_s": ns.duration, "warmup_s": ns.warmup,
        "quiet_wait_s": ns.quiet_wait, "retries": ns.retries,
        "connections": ns.connections, "wrk_threads": ns.threads, "wrk_timeout": wrk.TIMEOUT,
        "cores": os.cpu_count(), "workers": workers, "backends": backends,
        "db_copy": copied, "backfill": "held off: the index writer lock held while measuring",
        "goal": {"scenarios": list(GOAL_SCENARIOS), "req_per_s": GOAL_RPS, "p95_ms": GOAL_P95_MS},
        "scenarios": {name: SCENARIOS[name] for name in scenarios},
        "members": MEMBERS, "vote_pool": len(corpus.vote_pool),
        "table": table, "servers": servers, "profile": profile,
        "wall_seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()

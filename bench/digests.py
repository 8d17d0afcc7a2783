"""Digests: time to build and send 10,000 subscribers' digests to a local SMTP sink.

    python bench/digests.py [--subscribers 10000] [--home DIR] [--source DIR] [--now DATE]
                            [--backend postgresql [--database-url postgresql://...]]

Works on a copy of a built arXiv data dir (default: /tmp/pf-bench-cs from `bench/scale.py
--corpus cs`); the source is only read (SQLite's backup API) and copied once into --home
(default /tmp/pf-bench-digests), whose digest tables are reset on every run. Setup: 200
bench members upvote papers of the week (so "trending" ranks by votes) and N active
subscribers are added: 40% trending only, 40% a saved search only, 20% both; half daily,
half weekly; saved searches drawn from ~200 queries with Zipf popularity. The first 200
subscribers go through the app's API, the rest in one transaction.

Then, as `paperfeed worker` does, DigestSender.plan() and .deliver() run for the daily and
then the weekly period, with `now` = the corpus's latest day + 1, and once more for both
("rerun": everything is planned already, nothing may be sent). Phases are the sender's own
(`SendReport.seconds`); the SMTP sink (harness/smtp.py) runs in its own process and counts
messages, bytes and Message-IDs, which checks every sent digest arrived exactly once. A
probe then times one digest's parts (build, serialise, send, connect) on their own.

With `--backend postgresql` the working copy's store (reset) is copied into a new database
of the bench's own PostgreSQL 18 server (or the empty one `--database-url` names) by
`db copy`'s code, with the index, into `<home>-pg` (harness/postgres.py), and the same
setup and runs go to that store: the sender's transactions, the outbox claims (FOR UPDATE
SKIP LOCKED there) and the exactly-once check all on PostgreSQL.

Writes bench/results/digests[-N][-postgresql].json: runs (per run: due, queued, empty, sent, failed,
seconds per phase, msg/s, average size, peak RSS, what the sink got), details (searches
per run: how many, how many found nothing), where_the_time_goes, smtp_probe,
exactly_once, setup, config, peak RSS of this process and the sink.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from harness import community, datadir, smtp, tables
from harness.community import Subscriber
from harness.measure import ms_each, peak_rss_mib, phase_peak, reset_peak
from harness.postgres import BenchPostgres, data_dir_copy
from harness.queries import saved_searches
from harness.report import log, print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.digests import DigestSender, SendReport
from paperfeed.digests.content import digest_period, search_candidates
from paperfeed.mail import Mailer
from paperfeed.settings import Settings

SEED = 20240601
SUBSCRIBERS = 10_000
VOTERS, VOTES_PER_VOTER = 200, 8
N_QUERIES = 200
BENCH_USER = "digestbench-"
MARKER = ".digests-bench-copy"  # only a dir holding this is ever reset by this script


def run(name: str, frequencies: tuple[str, ...], catalog: Catalog, settings: Settings,
        mailer: Mailer, sink: smtp.Sink, now: datetime) -> dict[str, Any]:
    """Plan and deliver each frequency's digests, as the worker does; the run's row."""
    before = sink.stats()
    reset_peak()
    report = SendReport()
    plan_s = deliver_s = 0.0
    due = 0

    def progress(_n: int) -> None:
        if report.sent and report.sent % 2000 == 0:
            log(f"  {name}: {report.sent} sent")

    started = time.perf_counter()
    for frequency in frequencies:
        sender = DigestSender(catalog, settings, mailer)
        due += len(catalog.store.subscriptions.due(frequency))
        t0 = time.perf_counter()
        sender.plan(frequency, now, report=report)
        t1 = time.perf_counter()
        sender.deliver(report=report, progress=progress)
        plan_s += t1 - t0
        deliver_s += time.perf_counter() - t1
    wall = time.perf_counter() - started
    peak = phase_peak()
    after = sink.stats()
    received = after["messages"] - before["messages"]
    s = report.seconds
    row = {
        "run": name, "due": due, "queued": report.planned, "empty": report.empty,
        "planned earlier": report.already_planned, "sent": report.sent,
        "failed": report.failed + report.retried,
        "plan s": plan_s, "choose s": s.get("choose papers", 0.0), "queue s": s.get("queue", 0.0),
        "deliver s": deliver_s, "render s": s.get("render", 0.0), "smtp s": s.get("smtp", 0.0),
        "record s": s.get("record", 0.0), "wall s": wall,
        "msg/s": report.sent / wall if wall else 0.0,
        "deliver msg/s": report.sent / deliver_s if deliver_s else 0.0,
        "avg KiB": (after["bytes"] - before["bytes"]) / received / 1024 if received else 0.0,
        "peak MiB": round(peak, 1), "sink got": received,
        "sink conns": after["connections"] - before["connections"],
    }
    return {"row": row, "new_message_ids": after["ids"][len(before["ids"]):],
            "detail": {"sink_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2)}}


def searches(catalog: Catalog, subscribers: list[Subscriber], frequency: str,
             now: datetime) -> dict[str, Any]:
    """The saved searches a run of `frequency` made (the sender runs each distinct query once
    per period), rerun to see how many found no paper above the relevance threshold."""
    period = digest_period(frequency, now)
    distinct: dict[str, str] = {}
    for _, f, _, q in subscribers:  # the casing of the first subscriber, as the sender
        if q and f == frequency:
            distinct.setdefault(q.lower(), q)
    hits = [len(search_candidates(catalog, q, period)) for q in distinct.values()]
    return {"distinct_searches": len(hits),
            "searches_with_no_relevant_paper": sum(h == 0 for h in hits),
            "mean_relevant_per_search": round(sum(hits) / len(hits), 1) if hits else None}


def verify(catalog: Catalog, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every digest the outbox calls sent arrived once, and nothing else arrived."""
    received = [i for r in runs for i in r["new_message_ids"]]
    sent = tables.sent_message_ids(catalog)
    counts = Counter(received)
    return {"outbox_sent": len(sent), "sink_received": len(received),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "missing": len(set(sent) - set(counts)),
            "unexpected": len(set(counts) - set(sent)),
            "exactly_once": len(received) == len(sent) and set(sent) == set(counts)}


def total_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The daily and weekly runs together."""
    rows = [r["row"] for r in runs]
    total = {k: sum(r[k] for r in rows) if isinstance(v, int | float) else v
             for k, v in rows[0].items()} | {"run": "daily + weekly"}
    total["msg/s"] = total["sent"] / total["wall s"] if total["wall s"] else 0.0
    total["deliver msg/s"] = total["sent"] / total["deliver s"] if total["deliver s"] else 0.0
    total["avg KiB"] = (sum(r["avg KiB"] * r["sink got"] for r in rows) / total["sink got"]
                        if total["sink got"] else 0.0)
    total["peak MiB"] = max(r["peak MiB"] for r in rows)
    return total


def breakdown(runs: list[dict[str, Any]], probe: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the runs' time went, by the sender's phases; serialising is the probe's
    ms per message times the messages sent (an estimate: it happens inside smtplib)."""
    t = total_row(runs)
    wall, sent = t["wall s"], t["sent"]
    searched = sum(r["detail"]["distinct_searches"] for r in runs)
    flatten = sent * next(p["ms each"] for p in probe if p["probe"].startswith("serialise")) / 1000
    parts = [
        ("plan", "subscriptions due + trending query + loop",
         t["plan s"] - t["choose s"] - t["queue s"], len(runs)),
        ("plan", "choose papers: distinct searches (query x period), is_planned",
         t["choose s"], searched),
        ("plan", "queue: store.outbox.plan (1 IMMEDIATE txn each), make_msgid", t["queue s"],
         t["queued"] + t["empty"]),
        ("deliver", "render: sender.build (lookups, Jinja text+html, EmailMessage)",
         t["render s"], sent),
        ("deliver", "smtp: serialise message (BytesGenerator; probe estimate)", flatten, sent),
        ("deliver", "smtp: rest (MAIL/RCPT/DATA/. round trips, connect, hand-over txn)",
         t["smtp s"] - flatten, sent),
        ("deliver", "record: mark_sent (1 IMMEDIATE txn each)", t["record s"], sent),
        ("deliver", "claim (1 IMMEDIATE txn per 20), QUIT, rest of the loop",
         t["deliver s"] - t["render s"] - t["smtp s"] - t["record s"], t["sink conns"]),
        ("total", "wall (plan + deliver)", wall, None),
    ]
    return [{"phase": phase, "component": what, "seconds": round(seconds, 3),
             "% of wall": round(100 * seconds / wall, 1) if wall else 0.0, "calls": calls,
             "ms/call": round(1000 * seconds / calls, 3) if calls else None}
            for phase, what, seconds, calls in parts]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pf-bench-digests"),
                        help="Working copy of the data dir (made from --source if missing).")
    parser.add_argument("--source", type=Path, default=Path("/tmp/pf-bench-cs"),
                        help="Built data dir to copy (only read).")
    parser.add_argument("--now", type=date.fromisoformat, default=None,
                        help="Day the digests are sent (default: latest paper day + 1).")
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--database-url", help="An empty PostgreSQL database for --backend "
                        "postgresql (default: a new one on the bench's own server).")
    args = parser.parse_args()
    rng = random.Random(SEED)
    sink = smtp.Sink()  # before the catalog: the child starts small
    log(f"SMTP sink pid {sink.process.pid} on 127.0.0.1:{sink.port}")
    stack = contextlib.ExitStack()
    try:
        started = time.perf_counter()
        setup: dict[str, Any] = {"home": {"copied": datadir.copy(args.source, args.home, MARKER)}}
        tables.reset_digests(args.home, BENCH_USER)
        setup["home"]["seconds"] = round(time.perf_counter() - started, 2)
        if args.backend == "postgresql":
            url = args.database_url or stack.enter_context(BenchPostgres()).database("digests")
            args.home = args.home.with_name(args.home.name + "-pg")
            setup["db_copy"] = data_dir_copy(args.home.with_name(args.home.name[:-3]),
                                             args.home, url)
        setup["load_before"] = round(os.getloadavg()[0], 2)
        setup["store_mb_before"] = round(tables.store_bytes(args.home) / 1e6, 1)
        embedder = datadir.embedder_of(args.home)
        settings = datadir.settings(
            args.home, embedder, smtp_host="127.0.0.1", smtp_port=sink.port,
            smtp_security="none", smtp_username="", smtp_timeout=20,
            base_url="https://paperfeed.example.org",
            mail_from="paperfeed <digests@paperfeed.example.org>")
        started = time.perf_counter()
        catalog = Catalog(settings)
        papers = catalog.store.papers.count()
        setup["open_catalog_seconds"] = round(time.perf_counter() - started, 2)
        latest = catalog.store.papers.latest_date()
        assert latest is not None, "the store has no papers"
        now = datetime.combine(args.now or latest + timedelta(days=1), dtime(7, 0), tzinfo=UTC)
        daily, weekly = digest_period("daily", now), digest_period("weekly", now)
        log(f"{papers} papers, latest {latest}; now={now:%Y-%m-%d %H:%M} UTC "
            f"daily {daily.start}..{daily.end}, weekly {weekly.start}..{weekly.end}")
        setup["votes"] = community.seed_votes(catalog, BENCH_USER, VOTERS, VOTES_PER_VOTER,
                                              weekly.start, weekly.end, rng)
        query_list = saved_searches(N_QUERIES, rng)
        subscribers = community.plan_subscribers(args.subscribers, query_list, rng)
        setup["subscribers"] = community.add_subscribers(catalog, subscribers)
        log(f"setup: {setup}")

        mailer = Mailer(settings)
        runs = []
        for name in ("daily", "weekly"):
            log(f"run {name}")
            runs.append(run(name, (name,), catalog, settings, mailer, sink, now))
            runs[-1]["detail"] |= searches(catalog, subscribers, name, now)
            log(f"  {runs[-1]['row']}")
        exact = verify(catalog, runs)
        log("rerun (daily + weekly, all planned already)")
        rerun = run("rerun", ("daily", "weekly"), catalog, settings, mailer, sink, now)
        log("SMTP probe")
        sender = DigestSender(catalog, settings)
        item = next(i for i in catalog.store.outbox.items() if i.status == "sent")
        message = sender.build(item)[1]
        probe = [{"probe": "build (sender.build: lookups, Jinja, EmailMessage)", "n": 100,
                  "ms each": ms_each(lambda: sender.build(item), 100)},
                 *smtp.probe(settings, message)]
        sink_stats = sink.stats()
        setup["load_after"] = round(os.getloadavg()[0], 2)
        setup["store_mb_after"] = round(tables.store_bytes(args.home) / 1e6, 1)
        catalog.store.close()
    finally:
        sink.stop()
        stack.close()

    rows = [r["row"] for r in runs] + [total_row(runs), rerun["row"]]
    where = breakdown(runs, probe)
    kinds = Counter(("both" if t and q else "trending" if t else "search", f)
                    for _, f, t, q in subscribers)
    print_table(f"Digests on {args.backend}: {args.subscribers:,} subscribers, {papers:,} papers, "
                f"now {now:%Y-%m-%d} (daily {daily.start}..{daily.end}, "
                f"weekly {weekly.start}..{weekly.end})", rows)
    print_table("Where the time goes (daily + weekly runs)", where)
    print_table("SMTP probe: one digest, one connection", probe)
    print(f"\nexactly once: {exact}\nsearches: daily {runs[0]['detail']}, weekly "
          f"{runs[1]['detail']}\nsetup: {setup}\npeak RSS: bench process "
          f"{peak_rss_mib():.0f} MiB, sink process {sink_stats['peak_rss_mib']:.0f} MiB "
          f"(sink CPU {sink_stats['cpu_s']:.1f} s)")
    name = "digests" + ("" if args.subscribers == SUBSCRIBERS else f"-{args.subscribers}")
    write_json(name + ("" if args.backend == "sqlite" else f"-{args.backend}"), {
        "config": {"backend": args.backend, "subscribers": args.subscribers,
                   "mix": dict(community.MIX),
                   "daily_share": community.DAILY_SHARE, "queries": len(query_list),
                   "distinct_queries_used": len({q for *_, q in subscribers if q}),
                   "zipf_s": community.ZIPF_S,
                   "kinds": {f"{k}/{f}": n for (k, f), n in kinds.items()},
                   "papers": papers, "latest_day": latest.isoformat(), "now": now.isoformat(),
                   "daily_period": [daily.start.isoformat(), daily.end.isoformat()],
                   "weekly_period": [weekly.start.isoformat(), weekly.end.isoformat()],
                   "embedder": embedder, "digest_size": settings.digest_size,
                   "home": str(args.home), "source": str(args.source),
                   "sink": "aiosmtpd in a separate process, counting only"},
        "setup": setup, "runs": rows,
        "details": {r["row"]["run"]: r["detail"] for r in runs + [rerun]},
        "where_the_time_goes": where, "smtp_probe": probe, "exactly_once": exact,
        "peak_rss_mib": {"bench": round(peak_rss_mib(), 1),
                         "sink": round(sink_stats["peak_rss_mib"], 1)},
        "sink_cpu_s": round(sink_stats["cpu_s"], 2),
    })


if __name__ == "__main__":
    main()

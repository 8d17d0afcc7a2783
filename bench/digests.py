"""Digests: time to build and send 10,000 subscribers' digests to a local SMTP sink.

    python bench/digests.py [--subscribers 10000] [--home DIR] [--source DIR] [--now DATE]

Works on a copy of a built arXiv data dir (default: /tmp/pf-bench-cs from
`bench/scale.py --corpus cs`); the source is only read, through SQLite's backup
API, and copied once into --home (default /tmp/pf-bench-digests), whose digest
tables are reset on every run. Setup seeds upvotes from 200 bench members (so
"trending" ranks by votes) and N active subscribers: 40% trending only, 40% a
saved search only, 20% both; half daily, half weekly. Saved searches are drawn
from ~200 queries with Zipf popularity, so many subscribers share a query. The
first 200 subscribers are created through the app's API (add_subscription +
set_status, two transactions each), the rest with one executemany transaction.

Then, as `paperfeed worker` does, DigestSender.plan() and .deliver() run for the
daily and then the weekly period, with `now` = the corpus's latest day + 1 (so
the periods hold papers), and once more for both ("rerun": everything is planned
already, nothing may be sent). The SMTP sink (aiosmtpd) runs in its own process
and only counts messages, bytes and Message-IDs, which verifies that every sent
digest arrived exactly once. App functions are wrapped with timers in this
process (no package file is changed) to show where the time goes. Prints tables
and writes bench/results/digests[-N].json.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import random
import re
import resource
import shutil
import sqlite3
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from email.generator import BytesGenerator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_rss_mib, print_table, write_json  # noqa: E402

SEED = 20240601
SUBSCRIBERS = 10_000
VIA_API = 200  # subscribers created through DigestStore's API; the rest in bulk
VOTERS = 200
VOTES_PER_VOTER = 8
MIX = (("trending", 0.4), ("search", 0.4), ("both", 0.2))
DAILY_SHARE = 0.5
ZIPF_S = 1.0
N_QUERIES = 200
BENCH_USER = "digestbench-"
MARKER = ".digests-bench-copy"  # only a dir holding this is ever reset by this script
DIGEST_TABLES = ("subscriptions", "outbox", "sent_papers", "job_locks")  # dependency order
DIGEST_SCHEMA = ("subscriptions", "subscriptions_email", "subscriptions_due", "outbox",
                 "outbox_queue", "sent_papers", "sent_papers_outbox", "job_locks")
SOURCE = Path("/tmp/pf-bench-cs")
HOME = Path("/tmp/pf-bench-digests")

# Saved searches as computer-science readers write them (the cs snapshot), plus the
# topic list of bench/scale.py; variations below bring the list to N_QUERIES.
CS_QUERIES = [
    "transformer language models", "graph neural networks", "few-shot learning",
    "meta-learning", "neural architecture search", "knowledge distillation",
    "model compression and pruning", "quantization of neural networks",
    "generative adversarial networks", "variational autoencoders", "normalizing flows",
    "image segmentation", "semantic segmentation of street scenes", "3d point cloud",
    "pose estimation", "face recognition", "video action recognition", "visual question answering",
    "image captioning", "text classification", "named entity recognition", "question answering",
    "machine reading comprehension", "dialogue systems", "text summarization",
    "sentiment analysis", "word embeddings", "BERT fine-tuning", "cross-lingual transfer",
    "speech synthesis", "speaker verification", "recommender systems",
    "collaborative filtering", "click-through rate prediction", "learning to rank",
    "information retrieval", "multi-armed bandits", "offline reinforcement learning",
    "multi-agent reinforcement learning", "imitation learning", "robot grasping",
    "motion planning", "autonomous vehicles", "anomaly detection", "time series forecasting",
    "interpretability of deep networks", "fairness in machine learning",
    "privacy-preserving machine learning", "membership inference attacks", "backdoor attacks",
    "malware detection", "intrusion detection", "blockchain smart contracts",
    "software vulnerability detection", "fuzzing", "static analysis", "program verification",
    "type systems", "compiler optimization", "distributed systems", "cloud computing scheduling",
    "edge computing", "serverless computing", "database query optimization",
    "graph databases", "stream processing", "wireless networks", "5G networks",
    "network function virtualization", "software defined networking", "internet of things",
    "energy efficient deep learning hardware", "FPGA accelerator", "approximation algorithms",
    "online algorithms", "parameterized complexity", "computational geometry",
    "graph partitioning", "submodular optimization", "combinatorial optimization",
    "SAT solving", "formal verification of neural networks", "human-computer interaction",
    "crowdsourcing", "social network analysis", "misinformation detection",
    "hate speech detection", "medical image analysis", "drug discovery",
    "natural language inference", "commonsense reasoning", "domain adaptation",
    "continual learning", "active learning", "semi-supervised learning",
    "uncertainty estimation", "gaussian processes", "variational inference",
    "neural ordinary differential equations", "attention mechanisms", "capsule networks",
]
VARIATIONS = ("{q} survey", "efficient {q}", "{q} benchmark", "deep learning for {q}",
              "robust {q}", "scalable {q}")
SINK_STATS_TIMEOUT_S = 60.0
PROBE_MESSAGES = 100
PROBE_CONNECTS = 10


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def queries(rng: random.Random) -> list[str]:
    """~N_QUERIES saved searches: hand-written ones, a few case variants (the sender's
    cache is case-insensitive), and variations; in a seeded popularity order."""
    from scale import TOPIC_QUERIES

    base = list(dict.fromkeys(CS_QUERIES + TOPIC_QUERIES))
    found = list(base)
    found += [q.title() for q in rng.sample(base, 8)]
    while len(found) < N_QUERIES:
        candidate = rng.choice(VARIATIONS).format(q=rng.choice(base))
        if candidate not in found:
            found.append(candidate)
    rng.shuffle(found)  # popularity rank: not the order written above
    return found[:N_QUERIES]


# -- the SMTP sink, in its own process ------------------------------------------

_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(<[^>\r\n]+>)")


def _sink_main(conn: Any) -> None:
    """Accept every message; count messages, bytes, connections and Message-IDs."""
    from aiosmtpd.controller import Controller

    lock = threading.Lock()
    state: dict[str, Any] = {"messages": 0, "bytes": 0, "connections": 0, "ids": []}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            raw = envelope.original_content or envelope.content
            head = raw[:raw.find(b"\r\n\r\n")]
            match = _MESSAGE_ID.search(head)
            with lock:
                state["messages"] += 1
                state["bytes"] += len(raw)
                state["ids"].append(match.group(1).decode() if match else "")
            return "250 2.0.0 OK"

    class SinkController(Controller):
        def _trigger_server(self) -> None:
            assert self.server is not None
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

        def factory(self) -> Any:
            with lock:
                state["connections"] += 1
            return super().factory()

    controller = SinkController(Handler(), hostname="127.0.0.1", port=0)
    controller.start()
    with lock:
        state["connections"] = 0  # aiosmtpd's readiness probe
    conn.send(controller.port)
    while True:
        command = conn.recv()
        if command == "stats":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with lock:
                conn.send({**state, "ids": list(state["ids"]),
                           "cpu_s": usage.ru_utime + usage.ru_stime,
                           "peak_rss_mib": usage.ru_maxrss / 1024})
        elif command == "stop":
            controller.stop()
            conn.send("stopped")
            return


class Sink:
    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_sink_main, args=(child,), daemon=True)
        self.process.start()
        if not self._conn.poll(SINK_STATS_TIMEOUT_S):
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(self._conn.recv())

    def stats(self) -> dict[str, Any]:
        self._conn.send("stats")
        if not self._conn.poll(SINK_STATS_TIMEOUT_S):
            raise RuntimeError("the SMTP sink did not answer")
        return dict(self._conn.recv())

    def stop(self) -> None:
        if self.process.is_alive():
            self._conn.send("stop")
            self._conn.poll(10)
            self.process.join(10)


# -- data dir: copy, reset, seed ----------------------------------------------------


def prepare_home(source: Path, home: Path) -> dict[str, Any]:
    """Copy `source` into `home` once (read-only on the source); reset bench state."""
    if home.resolve() == source.resolve():
        sys.exit("--home must not be the source data dir: this script writes to it")
    started = time.perf_counter()
    copied = False
    if not (home / "paperfeed.sqlite").exists():
        if home.exists() and any(home.iterdir()):
            sys.exit(f"{home} is not empty and holds no paperfeed.sqlite; not touching it")
        if not (source / "paperfeed.sqlite").exists() or not (source / "index").is_dir():
            sys.exit(f"{source} is not a built data dir; run bench/scale.py --corpus cs first")
        free = shutil.disk_usage(home.parent if not home.exists() else home).free
        need = sum(f.stat().st_size for f in source.rglob("*") if f.is_file())
        if free < 2 * need:
            sys.exit(f"not enough disk for a copy of {source}: {need / 2**30:.1f} GiB, "
                     f"{free / 2**30:.1f} GiB free")
        home.mkdir(parents=True, exist_ok=True)
        log(f"copy {source} -> {home} (SQLite backup API, source opened read-only)")
        src = sqlite3.connect(f"file:{source / 'paperfeed.sqlite'}?mode=ro", uri=True)
        dst = sqlite3.connect(home / "paperfeed.sqlite")
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        shutil.copytree(source / "index", home / "index")
        if (source / "secret_key").exists():
            shutil.copy2(source / "secret_key", home / "secret_key")
        (home / MARKER).write_text(f"copy of {source}, made by bench/digests.py\n")
        copied = True
    if not (home / MARKER).exists():
        sys.exit(f"{home} was not made by this script (no {MARKER}); not resetting its "
                 "subscriptions. Pass an empty or new --home.")
    conn = sqlite3.connect(home / "paperfeed.sqlite", isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM sent_papers")
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM subscriptions")
        voters = f"SELECT id FROM users WHERE username LIKE '{BENCH_USER}%'"
        touched = [r[0] for r in conn.execute(
            f"SELECT DISTINCT paper_rowid FROM votes WHERE user_id IN ({voters})")]
        conn.execute(f"DELETE FROM votes WHERE user_id IN ({voters})")
        conn.execute(f"DELETE FROM users WHERE id IN ({voters})")
        conn.executemany(
            "UPDATE paper_votes SET votes = (SELECT count(*) FROM votes"
            " WHERE votes.paper_rowid = paper_votes.paper_rowid) WHERE paper_rowid = ?",
            [(r,) for r in touched])
        conn.execute("DELETE FROM paper_votes WHERE votes = 0")
        rebuilt = _current_digest_schema(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return {"copied": copied, "digest_tables_rebuilt": rebuilt,
            "seconds": round(time.perf_counter() - started, 2)}


def _current_digest_schema(conn: sqlite3.Connection) -> list[str]:
    """Recreate the (now empty) digest tables if the copy has an older draft of their
    migration than this checkout's; other schema differences stop the bench."""
    from paperfeed.store.migrate import _migrations

    version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    fresh = sqlite3.connect(":memory:")  # the schema of the copy's version (Catalog
    for number, _name, sql in _migrations():  # migrates the copy further when opened)
        if number <= version:
            fresh.executescript(sql)
    want = dict(fresh.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    have = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
    differ = sorted(n for n in want.keys() | have.keys()
                    if want.get(n) != have.get(n) and n != "schema_version")
    if not differ:
        return []
    if not set(differ) <= set(DIGEST_SCHEMA):
        sys.exit(f"the copy's schema differs from this checkout's outside the digest tables: "
                 f"{differ}; rebuild the source with bench/scale.py")
    log(f"the copy's digest tables differ from this checkout's migration ({differ}): "
        "recreating them (they are empty)")
    for name in reversed(DIGEST_TABLES):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    for name in DIGEST_SCHEMA:
        conn.execute(want[name])
    return differ


def seed_votes(catalog: Any, start: date, end: date, rng: random.Random) -> dict[str, Any]:
    """VOTERS members upvote papers of the weekly window, Zipf-popular, through the API."""
    started = time.perf_counter()
    papers = [p.rowid for p in catalog.store.between(start, end, 100_000)]
    rng.shuffle(papers)
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(papers))]
    votes = 0
    for i in range(VOTERS):
        user = catalog.community.add_user(f"{BENCH_USER}{i:03d}",
                                          f"{BENCH_USER}{i:03d}@bench.invalid", "x",
                                          is_admin=False)
        chosen = set(rng.choices(papers, weights, k=VOTES_PER_VOTER)) if papers else set()
        for rowid in chosen:
            catalog.community.vote(user.id, rowid, up=True)
            votes += 1
    return {"voters": VOTERS, "votes": votes, "papers_in_window": len(papers),
            "seconds": round(time.perf_counter() - started, 2)}


def plan_subscribers(n: int, query_list: list[str],
                     rng: random.Random) -> list[tuple[str, str, bool, str | None]]:
    """(email, frequency, trending, query) for n subscribers."""
    weights = [1 / (rank + 1) ** ZIPF_S for rank in range(len(query_list))]
    kinds = [kind for kind, share in MIX for _ in range(round(share * n))][:n]
    kinds += ["both"] * (n - len(kinds))
    rng.shuffle(kinds)
    out = []
    for i, kind in enumerate(kinds):
        frequency = "daily" if rng.random() < DAILY_SHARE else "weekly"
        query = rng.choices(query_list, weights)[0] if kind != "trending" else None
        out.append((f"reader{i:05d}@example.org", frequency, kind != "search", query))
    return out


def add_subscribers(catalog: Any, subscribers: list[tuple[str, str, bool, str | None]]
                    ) -> dict[str, Any]:
    from paperfeed.store.digests import DigestStore

    digests = DigestStore(catalog.store)
    api = subscribers[:VIA_API]
    started = time.perf_counter()
    for email, frequency, trending, query in api:
        sub = digests.add_subscription(email, frequency, trending, query)
        digests.set_status(sub.id, "active")
    api_s = time.perf_counter() - started
    bulk = subscribers[VIA_API:]
    started = time.perf_counter()
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn = catalog.store.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "INSERT INTO subscriptions (email, frequency, trending, query, status, created_at,"
            " confirmed_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
            [(e, f, int(t), q, now, now) for e, f, t, q in bulk])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    bulk_s = time.perf_counter() - started
    return {"via_api": len(api), "api_seconds": round(api_s, 3),
            "api_ms_per_subscriber": round(1000 * api_s / max(1, len(api)), 3),
            "bulk": len(bulk), "bulk_seconds": round(bulk_s, 3)}


# -- timing wrappers (no package file is changed) -------------------------------------


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.search_hits: list[int] = []

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.search_hits.clear()

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        depth = [0]

        def timed(*args: Any, **kwargs: Any) -> Any:
            if depth[0]:  # re-entered (BytesGenerator.flatten of a multipart part)
                return fn(*args, **kwargs)
            depth[0] += 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
                self.calls[name] += 1
                depth[0] -= 1
        return timed


def instrument(timers: Timers) -> None:
    """Module- and class-level wrappers, installed once."""
    from paperfeed.digests import outbox as outbox_mod
    from paperfeed.mail.smtp import MailConnection, Mailer

    search = timers.wrap("search_candidates", outbox_mod.search_candidates)

    def counted_search(*args: Any, **kwargs: Any) -> list[int]:
        found = search(*args, **kwargs)
        timers.search_hits.append(len(found))
        return found

    outbox_mod.search_candidates = counted_search
    for name in ("trending_candidates", "render_digest", "digest_message"):
        setattr(outbox_mod, name, timers.wrap(name, getattr(outbox_mod, name)))
    BytesGenerator.flatten = timers.wrap("flatten", BytesGenerator.flatten)  # type: ignore
    Mailer._open = timers.wrap("smtp connect", Mailer._open)  # type: ignore[method-assign]
    MailConnection.close = timers.wrap("smtp quit", MailConnection.close)  # type: ignore


def instrument_sender(sender: Any, timers: Timers) -> None:
    for name in ("due", "is_planned", "plan", "claim", "sending_owners", "mark_handed_over",
                 "mark_sent", "subscription"):
        setattr(sender.digests, name, timers.wrap(name, getattr(sender.digests, name)))
    sender.subscriptions.urls = timers.wrap("urls", sender.subscriptions.urls)


@contextlib.contextmanager
def render_timers(catalog: Any, timers: Timers) -> Iterator[None]:
    """Time the store reads of render only (search reads papers through get_many too)."""
    catalog.store.get_many = timers.wrap("get_many", catalog.store.get_many)
    catalog.community.vote_counts = timers.wrap("vote_counts", catalog.community.vote_counts)
    try:
        yield
    finally:
        del catalog.store.get_many, catalog.community.vote_counts


# -- runs ---------------------------------------------------------------------------


def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return peak_rss_mib()


def reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def run(name: str, frequencies: tuple[str, ...], catalog: Any, settings: Any, mailer: Any,
        sink: Sink, now: datetime, timers: Timers) -> dict[str, Any]:
    from paperfeed.digests import DigestSender, SendReport

    before = sink.stats()
    reset_peak()
    timers.reset()
    report = SendReport()
    plan_s = deliver_s = 0.0
    due = 0
    started = time.perf_counter()
    for frequency in frequencies:
        sender = DigestSender(catalog, settings, mailer)
        instrument_sender(sender, timers)
        due += len(sender.digests.due(frequency))
        t0 = time.perf_counter()
        sender.plan(frequency, now, report=report)
        t1 = time.perf_counter()
        with render_timers(catalog, timers):
            sender.deliver(report=report,
                           progress=lambda _n: report.sent % 2000 == 0 and report.sent
                           and log(f"  {name}: {report.sent} sent"))
        plan_s += t1 - t0
        deliver_s += time.perf_counter() - t1
    wall = time.perf_counter() - started
    peak = _status("VmHWM")
    after = sink.stats()
    received = after["messages"] - before["messages"]
    sizes = after["bytes"] - before["bytes"]
    new_ids = after["ids"][len(before["ids"]):]
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
        "avg KiB": sizes / received / 1024 if received else 0.0,
        "peak MiB": round(peak, 1), "sink got": received,
        "sink conns": after["connections"] - before["connections"],
    }
    detail = {"timers": {k: round(v, 4) for k, v in timers.seconds.items()},
              "calls": dict(timers.calls),
              "distinct_searches": len(timers.search_hits),
              "searches_with_no_relevant_paper": sum(h == 0 for h in timers.search_hits),
              "mean_relevant_per_search": (round(sum(timers.search_hits)
                                                 / len(timers.search_hits), 1)
                                           if timers.search_hits else None),
              "sink_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
              "new_message_ids": new_ids}
    return {"row": row, "detail": detail, "timers": dict(timers.seconds),
            "calls": dict(timers.calls)}


def breakdown(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the time of the given runs went, nested phase by phase."""
    t: dict[str, float] = defaultdict(float)
    c: Counter[str] = Counter()
    phase: dict[str, float] = defaultdict(float)
    for r in runs:
        for k, v in r["timers"].items():
            t[k] += v
        c.update(r["calls"])
        row = r["row"]
        for key in ("plan s", "choose s", "queue s", "deliver s", "render s", "smtp s",
                    "record s", "wall s"):
            phase[key] += row[key]
    wall = phase["wall s"]
    rows: list[dict[str, Any]] = []

    def add(part: str, what: str, seconds: float, calls: int | None = None) -> None:
        rows.append({"phase": part, "component": what, "seconds": round(seconds, 3),
                     "% of wall": round(100 * seconds / wall, 1) if wall else 0.0,
                     "calls": calls,
                     "ms/call": round(1000 * seconds / calls, 3) if calls else None})

    # plan = due() + trending + per-subscription loop ("choose papers" + "queue")
    plan_rest = phase["plan s"] - phase["choose s"] - phase["queue s"]
    add("plan", "subscriptions due + trending query + loop", plan_rest,
        c["trending_candidates"])
    add("plan", "choose: search_candidates (distinct query x period)",
        t["search_candidates"], c["search_candidates"])
    add("plan", "choose: is_planned (1 SELECT per subscription)", t["is_planned"],
        c["is_planned"])
    add("plan", "choose: rest (cache hits, dict building)",
        phase["choose s"] - t["search_candidates"] - t["is_planned"])
    add("plan", "queue: DigestStore.plan (1 IMMEDIATE txn each)", t["plan"], c["plan"])
    add("plan", "queue: rest (make_msgid)", phase["queue s"] - t["plan"])
    deliver_rest = (phase["deliver s"] - phase["render s"] - phase["smtp s"]
                    - phase["record s"])
    add("deliver", "claim (1 IMMEDIATE txn per 20) + sending_owners",
        t["claim"] + t["sending_owners"], c["claim"])
    add("deliver", "smtp QUIT per batch", t["smtp quit"], c["smtp quit"])
    add("deliver", "rest of the loop",
        deliver_rest - t["claim"] - t["sending_owners"] - t["smtp quit"])
    render_parts = (("subscription", "render: subscription() lookup"),
                    ("get_many", "render: store.get_many (papers)"),
                    ("vote_counts", "render: community.vote_counts"),
                    ("urls", "render: urls (itsdangerous token)"),
                    ("render_digest", "render: render_digest (jinja text+html)"),
                    ("digest_message", "render: digest_message (EmailMessage)"))
    for key, label in render_parts:
        add("deliver", label, t[key], c[key])
    add("deliver", "render: rest",
        phase["render s"] - sum(t[key] for key, _ in render_parts))
    add("deliver", "smtp: connect (Mailer._open, 1 per batch of 20)", t["smtp connect"],
        c["smtp connect"])
    add("deliver", "smtp: flatten message (BytesGenerator)", t["flatten"], c["flatten"])
    add("deliver", "smtp: mark_handed_over (1 IMMEDIATE txn each)", t["mark_handed_over"],
        c["mark_handed_over"])
    add("deliver", "smtp: rest (MAIL/RCPT/DATA/. round trips)",
        phase["smtp s"] - t["smtp connect"] - t["flatten"] - t["mark_handed_over"])
    add("deliver", "record: mark_sent (1 IMMEDIATE txn each)", t["mark_sent"],
        c["mark_sent"])
    add("deliver", "record: rest", phase["record s"] - t["mark_sent"])
    add("total", "wall (plan + deliver)", wall)
    return rows


def smtp_probe(catalog: Any, settings: Any, sink: Sink) -> list[dict[str, Any]]:
    """Per-message SMTP cost of one real digest, sent PROBE_MESSAGES times on one
    connection: as the outbox sends it (a hook between the body and the final "."),
    with smtplib's own one-write DATA, and with the hook and TCP_NODELAY; then the
    cost of opening a connection and its parts."""
    import smtplib
    import socket
    import ssl

    from paperfeed.digests import DigestSender
    from paperfeed.mail import Mailer

    sender = DigestSender(catalog, settings)
    item = next(i for i in sender.digests.outbox() if i.status == "sent")
    _, message = sender.build(item)
    mailer = Mailer(settings)
    rows = []
    variants = (("DATA with before_final_dot hook (outbox)", True, False),
                ("DATA in one write (no hook)", False, False),
                ("hook + TCP_NODELAY on the socket", True, True))
    for label, hook, nodelay in variants:
        with mailer.connection() as conn:
            conn.send(message)  # opens the connection (and warms up)
            if nodelay:
                conn._client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            started = time.perf_counter()
            for _ in range(PROBE_MESSAGES):
                conn.send(message, before_final_dot=(lambda: None) if hook else None)
            seconds = time.perf_counter() - started
        rows.append({"probe": label, "n": PROBE_MESSAGES,
                     "ms each": round(1000 * seconds / PROBE_MESSAGES, 2)})

    def plain_connect() -> None:
        smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20,
                     local_hostname="bench.invalid").close()

    for label, fn in (("Mailer._open() (security=none)", lambda: mailer._open().close()),
                      ("of which ssl.create_default_context()", ssl.create_default_context),
                      ("of which socket.getfqdn() (EHLO name)", socket.getfqdn),
                      ("plain smtplib connect + greeting", plain_connect)):
        started = time.perf_counter()
        for _ in range(PROBE_CONNECTS):
            fn()
        rows.append({"probe": label, "n": PROBE_CONNECTS,
                     "ms each": round(1000 * (time.perf_counter() - started) / PROBE_CONNECTS,
                                      2)})
    return rows


def verify(catalog: Any, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every digest the outbox calls sent arrived once, and nothing else arrived."""
    received = [i for r in runs for i in r["detail"]["new_message_ids"]]
    sent = [r[0] for r in catalog.store.conn.execute(
        "SELECT message_id FROM outbox WHERE status = 'sent'")]
    counts = Counter(received)
    return {"outbox_sent": len(sent), "sink_received": len(received),
            "duplicates": sum(n - 1 for n in counts.values() if n > 1),
            "missing": len(set(sent) - set(counts)),
            "unexpected": len(set(counts) - set(sent)),
            "exactly_once": len(received) == len(sent) and set(sent) == set(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=SUBSCRIBERS)
    parser.add_argument("--home", type=Path, default=HOME,
                        help="Working copy of the data dir (made from --source if missing).")
    parser.add_argument("--source", type=Path, default=SOURCE,
                        help="Built data dir to copy (only read).")
    parser.add_argument("--now", type=date.fromisoformat, default=None,
                        help="Day the digests are sent (default: latest paper day + 1).")
    args = parser.parse_args()

    from paperfeed.catalog import Catalog
    from paperfeed.digests.content import digest_period
    from paperfeed.mail import Mailer
    from paperfeed.settings import load_settings

    rng = random.Random(SEED)
    sink = Sink()  # before the catalog: the child starts small
    log(f"SMTP sink pid {sink.process.pid} on 127.0.0.1:{sink.port}")
    timers = Timers()
    try:
        setup: dict[str, Any] = {"home": prepare_home(args.source, args.home)}
        embedder = _embedder(args.home)
        settings = load_settings(home=args.home, load_demo=False, embedder=embedder,
                                 smtp_host="127.0.0.1", smtp_port=sink.port,
                                 smtp_security="none", smtp_username="", smtp_timeout=20,
                                 base_url="https://paperfeed.example.org",
                                 mail_from="paperfeed <digests@paperfeed.example.org>")
        started = time.perf_counter()
        catalog = Catalog(settings)
        papers = catalog.store.count()
        setup["open_catalog_seconds"] = round(time.perf_counter() - started, 2)
        latest = catalog.store.latest_date()
        assert latest is not None, "the store has no papers"
        day = args.now or latest + timedelta(days=1)
        now = datetime.combine(day, dtime(7, 0), tzinfo=UTC)  # the worker's default 07:00
        daily, weekly = digest_period("daily", now), digest_period("weekly", now)
        log(f"{papers} papers, latest {latest}; now={now:%Y-%m-%d %H:%M} UTC "
            f"daily {daily.start}..{daily.end}, weekly {weekly.start}..{weekly.end}")
        setup["votes"] = seed_votes(catalog, weekly.start, weekly.end, rng)
        query_list = queries(rng)
        subscribers = plan_subscribers(args.subscribers, query_list, rng)
        setup["subscribers"] = add_subscribers(catalog, subscribers)
        log(f"setup: {setup}")

        instrument(timers)
        mailer = Mailer(settings)
        runs = []
        for name, frequencies in (("daily", ("daily",)), ("weekly", ("weekly",))):
            log(f"run {name}")
            runs.append(run(name, frequencies, catalog, settings, mailer, sink, now, timers))
            log(f"  {runs[-1]['row']}")
        first = {"row": _total_row(runs), "detail": {}}
        exact = verify(catalog, runs)
        log("rerun (daily + weekly, all planned already)")
        rerun = run("rerun", ("daily", "weekly"), catalog, settings, mailer, sink, now, timers)
        log("SMTP probe")
        probe = smtp_probe(catalog, settings, sink)
        sink_stats = sink.stats()
    finally:
        sink.stop()

    rows = [r["row"] for r in runs] + [first["row"], rerun["row"]]
    where = breakdown(runs)
    kinds = Counter(("both" if t and q else "trending" if t else "search", f)
                    for _, f, t, q in subscribers)
    print_table(f"Digests: {args.subscribers:,} subscribers, {papers:,} papers, "
                f"now {now:%Y-%m-%d} (daily {daily.start}..{daily.end}, "
                f"weekly {weekly.start}..{weekly.end})", rows)
    print_table("Where the time goes (daily + weekly runs)", where)
    print_table("SMTP probe: one digest, one connection", probe)
    print(f"\nexactly once: {exact}")
    print(f"distinct searches: daily {runs[0]['detail']['distinct_searches']}, weekly "
          f"{runs[1]['detail']['distinct_searches']}; with no relevant paper: "
          f"{runs[0]['detail']['searches_with_no_relevant_paper']} / "
          f"{runs[1]['detail']['searches_with_no_relevant_paper']}")
    print(f"setup: {setup}")
    print(f"peak RSS: bench process {peak_rss_mib():.0f} MiB, "
          f"sink process {sink_stats['peak_rss_mib']:.0f} MiB "
          f"(sink CPU {sink_stats['cpu_s']:.1f} s)")

    for r in runs + [rerun]:
        r["detail"].pop("new_message_ids", None)
    name = "digests" if args.subscribers == SUBSCRIBERS else f"digests-{args.subscribers}"
    write_json(name, {
        "config": {"subscribers": args.subscribers, "mix": dict(MIX),
                   "daily_share": DAILY_SHARE, "queries": len(query_list),
                   "distinct_queries_used": len({q for *_, q in subscribers if q}),
                   "zipf_s": ZIPF_S, "kinds": {f"{k}/{f}": n for (k, f), n in kinds.items()},
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


def _embedder(home: Path) -> str:
    import json

    return str(json.loads((home / "index" / "meta.json").read_text())["embedder"])


def _total_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r["row"] for r in runs]
    total: dict[str, Any] = {"run": "daily + weekly"}
    for key, value in rows[0].items():
        if key in ("run", "msg/s", "deliver msg/s", "avg KiB", "peak MiB"):
            continue
        total[key] = sum(r[key] for r in rows) if isinstance(value, int | float) else value
    sent, received = total["sent"], total["sink got"]
    total["msg/s"] = sent / total["wall s"] if total["wall s"] else 0.0
    total["deliver msg/s"] = sent / total["deliver s"] if total["deliver s"] else 0.0
    total["avg KiB"] = (sum(r["avg KiB"] * r["sink got"] for r in rows) / received
                        if received else 0.0)
    total["peak MiB"] = max(r["peak MiB"] for r in rows)
    return {k: total.get(k) for k in rows[0]}


if __name__ == "__main__":
    main()

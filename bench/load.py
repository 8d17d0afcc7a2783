"""Load: requests/s and latency of `paperfeed serve` under 50 concurrent HTTP clients.

A real HTTP load generator (wrk) against `paperfeed serve` on loopback, on the
173k-paper arXiv cs data dir that bench/scale.py builds (reused; built with
scale.py's machinery only when missing).

    python bench/load.py [--home /tmp/pf-bench-cs] [--workers 1,2] [--duration 20]
                         [--connections 50] [--threads 2] [--warmup 3]
                         [--scenarios daily,trending,...] [--profile]

For each worker count a fresh `paperfeed serve --workers N` runs on a free
loopback port. 50 bench members are signed up (or logged in) over HTTP and
upvote ~20 papers each from the last two weeks of the corpus, so /trending has
something to rank. Then each scenario gets a warm-up and a measured wrk run;
a generated Lua script rotates the request paths (search queries, paper ids,
members' session cookies) and its done() hook prints p50/p95/p99, requests/s
and the status codes seen. Votes cast by the `vote` scenario are taken back
(bench members, bench pool only) after each server, so every run ranks the
same trending set. Server memory is the sum over the serve process tree (RSS
and PSS). `--profile` then runs the page handlers in process under cProfile.
Prints a table and writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import random
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import print_table, write_json  # noqa: E402

SEED = 20240601
MEMBERS = 50
MEMBER_PREFIX = "loadbench-"
MEMBER_PASSWORD = "loadbench-password-1"
SEED_VOTES_PER_MEMBER = 20
SEED_DAYS = 14
VOTE_POOL = 500  # papers the `vote` scenario votes on (taken back afterwards)
VOTE_REQUESTS = 4000  # distinct pre-formatted vote requests the Lua script cycles through
PAPER_PAGES = 500
START_TIMEOUT_S = 300.0
WRK_TIMEOUT = "10s"
GOAL_RPS, GOAL_P95_MS = 300, 100
GOAL_SCENARIOS = ("daily", "daily-member", "trending", "trending-member")
QUIET_CORES = 0.15  # wait before a run until the machine is this idle
NOISY_CORES = 0.15  # retry a run when other processes used more than this

# More computer-science queries, next to scale.py's topic list (which spans all of arXiv).
EXTRA_QUERIES = [
    "transformer attention efficiency", "few-shot learning", "graph convolutional network",
    "generative adversarial networks", "image segmentation", "question answering",
    "recommender systems collaborative filtering", "differential privacy",
    "smart contract verification", "explainable artificial intelligence",
]

# name -> (description, how requests are made); see `scenario_requests`.
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


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the data dir -------------------------------------------------------------


def paper_count(home: Path) -> int:
    db = home / "paperfeed.sqlite"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    except sqlite3.Error:
        return 0


def ensure_home(home: Path) -> str:
    """The data dir's embedder; builds the cs corpus with bench/scale.py's code if missing."""
    meta = home / "index" / "meta.json"
    if paper_count(home) == 0 or not meta.exists():
        log(f"{home} has no indexed store: building the arXiv cs corpus (bench/scale.py)")
        import scale

        source = scale.SHARED / "data" / "arxiv" / "cs.jsonl.xz"
        if not source.exists():
            source = Path("/work/shared/data/arxiv/cs.jsonl.xz")
        build_args = argparse.Namespace(embedder=None, reuse=True, limit=None)
        catalog, _ = scale.ingest_and_index(build_args, source, home)
        catalog.store.close()
    return json.loads(meta.read_text())["embedder"]


def connect(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "paperfeed.sqlite", timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


@dataclass
class Corpus:
    papers: int
    latest: str
    seed_pool: list[str]  # ids of the last SEED_DAYS days: the members' upvotes
    vote_pool: list[tuple[int, str]]  # (rowid, id) the vote scenario votes on
    paper_pages: list[str]


def read_corpus(home: Path) -> Corpus:
    rng = random.Random(SEED)
    with contextlib.closing(connect(home)) as conn:
        count, latest = conn.execute("SELECT count(*), max(published) FROM papers").fetchone()
        since = (date.fromisoformat(latest) - timedelta(days=SEED_DAYS - 1)).isoformat()
        seed_pool = [r[0] for r in conn.execute(
            "SELECT id FROM papers WHERE published >= ? ORDER BY rowid", (since,))]
        year_ago = (date.fromisoformat(latest) - timedelta(days=365)).isoformat()
        older = conn.execute("SELECT rowid, id FROM papers WHERE published >= ?"
                             " AND published < ? ORDER BY rowid", (year_ago, since)).fetchall()
        every = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY rowid")]
    vote_pool = rng.sample([tuple(r) for r in older], min(VOTE_POOL, len(older)))
    return Corpus(count, latest, seed_pool, vote_pool,
                  rng.sample(every, min(PAPER_PAGES, len(every))))


def take_back_pool_votes(home: Path, corpus: Corpus) -> int:
    """Remove the bench members' votes on the vote pool (the `vote` scenario's leftovers)."""
    with contextlib.closing(connect(home)) as conn:
        if not has_table(conn, "votes"):
            return 0
        rowids = [rowid for rowid, _ in corpus.vote_pool]
        marks = ",".join("?" * len(rowids))
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed = conn.execute(
                f"DELETE FROM votes WHERE paper_rowid IN ({marks}) AND user_id IN"
                " (SELECT id FROM users WHERE username LIKE ?)",
                [*rowids, MEMBER_PREFIX + "%"]).rowcount
            conn.execute(
                "UPDATE paper_votes SET votes = (SELECT count(*) FROM votes v"
                " WHERE v.paper_rowid = paper_votes.paper_rowid)"
                f" WHERE paper_rowid IN ({marks})", rowids)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return removed


def existing_members(home: Path) -> set[str]:
    with contextlib.closing(connect(home)) as conn:
        if not has_table(conn, "users"):
            return set()
        return {r[0] for r in conn.execute("SELECT username FROM users WHERE username LIKE ?",
                                           (MEMBER_PREFIX + "%",))}


def community_counts(home: Path) -> dict[str, int]:
    with contextlib.closing(connect(home)) as conn:
        if not has_table(conn, "votes"):
            return {}
        return {"votes": conn.execute("SELECT count(*) FROM votes").fetchone()[0],
                "voted_papers": conn.execute(
                    "SELECT count(*) FROM paper_votes WHERE votes > 0").fetchone()[0],
                "members": conn.execute("SELECT count(*) FROM users").fetchone()[0]}


# -- the server ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def _proc_kib(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    home: Path
    embedder: str
    workers: int
    log_path: Path
    port: int = 0
    proc: subprocess.Popen | None = None
    cold_start_s: float = 0.0
    log_offset: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import httpx

        self.port = free_port()
        cmd = [sys.executable, "-m", "paperfeed", "--data-dir", str(self.home),
               "--embedder", self.embedder, "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", str(self.workers)]
        log(f"start: paperfeed {' '.join(cmd[3:])}")
        started = time.perf_counter()
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        while time.perf_counter() - started < START_TIMEOUT_S:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2, trust_env=False
                             ).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError(f"serve not ready after {START_TIMEOUT_S:.0f}s")
        self.cold_start_s = round(time.perf_counter() - started, 2)
        if self.workers > 1:  # the first worker answered; give the others time to load
            deadline = time.monotonic() + 60
            while len(self.processes()) < self.workers + 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3)
        log(f"ready in {self.cold_start_s}s on {self.url}, processes {self.processes()}")

    def processes(self) -> list[int]:
        return descendants(self.proc.pid) if self.proc else []

    def memory_mib(self) -> dict[str, Any]:
        pids = self.processes()
        rss = [_proc_kib(f"/proc/{p}/status", "VmRSS") for p in pids]
        pss = [_proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids]
        return {"rss_sum": round(sum(rss) / 1024, 1), "pss_sum": round(sum(pss) / 1024, 1),
                "rss_per_process": [round(r / 1024, 1) for r in rss], "processes": len(pids)}

    def cpu(self) -> dict[int, float]:
        return {p: cpu_seconds(p) for p in self.processes()}

    def new_log(self) -> str:
        text = self.log_path.read_text(errors="replace")
        fresh, self.log_offset = text[self.log_offset:], len(text)
        return fresh

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=20)
        # Workers left behind by the supervisor (same process group) go too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


# -- members and votes over HTTP ------------------------------------------------


@dataclass
class Member:
    username: str
    session: str
    csrf: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Cookie": f"pf_session={self.session}; pf_csrf={self.csrf}",
                "X-CSRF-Token": self.csrf}


def sign_in(url: str, username: str, exists: bool) -> Member:
    """Log in (or sign up) through the HTML forms, as a browser does."""
    import httpx

    with httpx.Client(base_url=url, timeout=60, trust_env=False) as client:
        form = "/login" if exists else "/signup"
        client.get(form).raise_for_status()
        data = {"csrf_token": client.cookies["pf_csrf"], "next": "/",
                "password": MEMBER_PASSWORD}
        if exists:
            data["login"] = username
        else:
            data |= {"username": username, "email": f"{username}@bench.invalid"}
        response = client.post(form, data=data)
        if response.status_code != 303 or "pf_session" not in response.cookies:
            raise RuntimeError(f"POST {form} as {username}: {response.status_code} "
                               f"{response.text[:300]}")
        return Member(username, response.cookies["pf_session"], response.cookies["pf_csrf"])


def sign_in_members(server: Server) -> list[Member]:
    names = [f"{MEMBER_PREFIX}{i:02d}" for i in range(MEMBERS)]
    known = existing_members(server.home)
    started = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        members = list(pool.map(lambda n: sign_in(server.url, n, n in known), names))
    log(f"{len(members)} members signed in ({len(names) - len(known & set(names))} new) in "
        f"{time.perf_counter() - started:.1f}s")
    return members


def seed_votes(server: Server, members: list[Member], corpus: Corpus) -> dict[str, Any]:
    """Each member upvotes ~20 papers of the last two weeks, a few papers far more than others."""
    import httpx

    rng = random.Random(SEED + 1)
    pool = corpus.seed_pool
    weights = [1 / (rank + 1) ** 0.7 for rank in range(len(pool))]
    rng.shuffle(weights)
    plan = []
    for member in members:
        chosen: set[str] = set()
        while len(chosen) < min(SEED_VOTES_PER_MEMBER, len(pool)):
            chosen.update(rng.choices(pool, weights, k=SEED_VOTES_PER_MEMBER - len(chosen)))
        plan.extend((member, paper_id) for paper_id in sorted(chosen))
    started = time.perf_counter()

    def vote(item: tuple[Member, str]) -> int:
        member, paper_id = item
        return httpx.post(f"{server.url}/api/papers/{quote(paper_id)}/vote?up=true",
                          headers=member.headers, timeout=60, trust_env=False).status_code

    with ThreadPoolExecutor(8) as pool_:
        statuses = list(pool_.map(vote, plan))
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"seeding votes: {len(bad)} of {len(plan)} failed, e.g. {bad[:5]}:\n"
                           f"{server.new_log()[-3000:]}")
    seconds = time.perf_counter() - started
    log(f"seeded {len(plan)} upvotes on {len({p for _, p in plan})} papers from "
        f"{len(pool)} of the last {SEED_DAYS} days in {seconds:.1f}s")
    return {"upvotes": len(plan), "papers": len({p for _, p in plan}), "pool": len(pool),
            "days": SEED_DAYS, "seconds": round(seconds, 1)}


# -- wrk ----------------------------------------------------------------------


LUA = r"""
-- generated by bench/load.py: rotate pre-formatted requests, count status codes,
-- print machine-readable results from done().
local items = {ITEMS}
local reqs = {}
local counter = 0
local threads = {}
local made = 0
statuses = {}

function setup(thread)
  thread:set("thread_no", made)
  made = made + 1
  table.insert(threads, thread)
end

function init(args)
  for i, it in ipairs(items) do
    reqs[i] = wrk.format(it[1], it[2], it[3], it[4])
  end
  -- threads start at different points of the rotation
  counter = (thread_no or 0) * math.floor(#reqs / 2 + 1)
end

function request()
  counter = counter + 1
  return reqs[(counter % #reqs) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses") or {}) do
      codes[code] = (codes[code] or 0) + n
    end
  end
  local parts = {}
  for code, n in pairs(codes) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'LOADJSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "stdev": %.1f, "max": %d, "p50": %d, ' ..
    '"p75": %d, "p90": %d, "p95": %d, "p99": %d, "p999": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
    table.concat(parts, ", ")))
end
"""


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def lua_script(items: list[tuple[str, str, dict[str, str] | None, str | None]]) -> str:
    rows = []
    for method, path, headers, body in items:
        heads = ("{" + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}"
                                 for k, v in headers.items()) + "}") if headers else "nil"
        rows.append(f"{{{lua_string(method)}, {lua_string(path)}, {heads}, "
                    f"{lua_string(body) if body is not None else 'nil'}}}")
    return LUA.replace("{ITEMS}", "{\n  " + ",\n  ".join(rows) + "\n}")


def queries() -> list[str]:
    try:
        from scale import TOPIC_QUERIES
    except ImportError:  # scale.py needs numpy and the package; the list is only text
        TOPIC_QUERIES = []
    return list(dict.fromkeys([*TOPIC_QUERIES, *EXTRA_QUERIES]))


def scenario_requests(name: str, members: list[Member], corpus: Corpus
                      ) -> list[tuple[str, str, dict[str, str] | None, str | None]]:
    if name == "healthz":
        return [("GET", "/healthz", None, None)]
    if name == "daily":
        return [("GET", "/", None, None)]
    if name == "trending":
        return [("GET", "/trending", None, None)]
    if name in ("daily-member", "trending-member"):
        path = "/" if name == "daily-member" else "/trending"
        return [("GET", path, {"Cookie": m.headers["Cookie"]}, None) for m in members]
    if name == "search":
        return [("GET", "/search?" + urlencode({"q": q}), None, None) for q in queries()]
    if name == "api-search":
        return [("GET", "/api/papers/search?" + urlencode({"q": q, "limit": 20}), None, None)
                for q in queries()]
    if name == "api-daily":
        return [("GET", "/api/daily_papers?sort=trending", None, None)]
    if name == "trending-feed":
        return [("GET", "/feeds/trending.atom", None, None)]
    if name == "paper":
        return [("GET", f"/papers/{quote(pid)}", None, None) for pid in corpus.paper_pages]
    if name == "vote":
        rng = random.Random(SEED + 3)
        return [vote_request(rng, members, corpus) for _ in range(VOTE_REQUESTS)]
    if name == "mixed":
        rng = random.Random(SEED + 4)
        searches = scenario_requests("search", members, corpus)
        items = []
        for _ in range(VOTE_REQUESTS):
            draw = rng.random()
            items.append(("GET", "/", None, None) if draw < 0.4
                         else ("GET", "/trending", None, None) if draw < 0.8
                         else rng.choice(searches) if draw < 0.9
                         else vote_request(rng, members, corpus))
        return items
    raise ValueError(name)


def vote_request(rng: random.Random, members: list[Member], corpus: Corpus
                 ) -> tuple[str, str, dict[str, str] | None, str | None]:
    member = rng.choice(members)
    _, paper_id = rng.choice(corpus.vote_pool)
    up = rng.choice(("true", "false"))
    return ("POST", f"/api/papers/{quote(paper_id)}/vote?up={up}",
            member.headers | {"Content-Length": "0"}, None)


def wrk_version() -> str:
    out = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (out.stdout + out.stderr).splitlines()[0].strip()


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: run `sudo apt-get install -y wrk` (Debian/Ubuntu)")
    log("installing wrk (apt-get install -y wrk)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], env=env, check=True)


def run_wrk(url: str, script: Path, seconds: float, connections: int, threads: int
            ) -> dict[str, Any]:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
           "--timeout", WRK_TIMEOUT, "-s", str(script), url + "/"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("LOADJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no results ({out.returncode}):\n{out.stdout}\n"
                           f"{out.stderr}")
    return json.loads(line.removeprefix("LOADJSON "))


@dataclass
class Args:
    duration: float
    warmup: float
    connections: int
    threads: int
    scenarios: list[str]
    tmp: Path
    retries: int = 2
    results: list[dict[str, Any]] = field(default_factory=list)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk, once it has been waited for
    return usage.ru_utime + usage.ru_stime


def wait_for_quiet(limit_s: float = 90) -> float:
    """Wait (up to `limit_s`) until the rest of the machine uses < QUIET_CORES; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        busy0, _ = machine_cpu()
        time.sleep(1)
        busy1, _ = machine_cpu()
        if busy1 - busy0 < QUIET_CORES:
            break
    return round(time.monotonic() - started - 1, 1)


def measure(server: Server, name: str, items: list, args: Args) -> dict[str, Any]:
    """The quietest of up to 1 + args.retries runs (a run is retried when other processes
    used more than NOISY_CORES of a core while it ran: this machine is shared)."""
    script = args.tmp / f"load_{name}.lua"
    script.write_text(lua_script(items))
    runs: list[dict[str, Any]] = []
    for _ in range(1 + args.retries):
        runs.append(measure_once(server, name, script, len(items), args))
        if runs[-1]["other CPU %"] <= 100 * NOISY_CORES:
            break
        log(f"{name}: other processes used {runs[-1]['other CPU %']}% of a core; again")
    best = min(runs, key=lambda r: r["other CPU %"])
    return {**best, "attempts": len(runs),
            "attempts_req_per_s": [r["req/s"] for r in runs]}


def measure_once(server: Server, name: str, script: Path, distinct: int, args: Args
                 ) -> dict[str, Any]:
    waited = wait_for_quiet()
    if args.warmup > 0:
        run_wrk(server.url, script, args.warmup, args.connections, args.threads)
    server.new_log()
    cpu_before, wrk_before, machine_before = server.cpu(), children_cpu(), machine_cpu()
    started = time.perf_counter()
    wrk = run_wrk(server.url, script, args.duration, args.connections, args.threads)
    wall = time.perf_counter() - started
    cpu_after, wrk_after, machine_after = server.cpu(), children_cpu(), machine_cpu()
    memory = server.memory_mib()
    per_process = {pid: round(cpu_after[pid] - cpu_before.get(pid, 0.0), 1)
                   for pid in cpu_after}
    server_cpu = sum(per_process.values())
    wrk_cpu = wrk_after - wrk_before
    other_cpu = max(0.0, machine_after[0] - machine_before[0] - server_cpu - wrk_cpu)
    server_log = server.new_log()
    seconds = wrk["duration_us"] / 1e6
    lat = {k: round(v / 1000, 2) for k, v in wrk["latency_us"].items()}
    statuses = {int(k): v for k, v in wrk["statuses"].items()}
    bad_status = {code: n for code, n in statuses.items() if not 200 <= code < 400}
    socket_errors = {k: v for k, v in wrk["errors"].items() if k != "status" and v}
    problems = [f"{n}x{code}" for code, n in sorted(bad_status.items())]
    problems += [f"{n} {kind}" for kind, n in socket_errors.items()]
    row = {
        "scenario": name, "workers": server.workers,
        "req/s": round(wrk["requests"] / seconds, 1),
        "p50 ms": lat["p50"], "p95 ms": lat["p95"], "p99 ms": lat["p99"],
        "errors": ", ".join(problems) if problems else "0",
        "server CPU %": round(100 * server_cpu / wall),
        "wrk CPU %": round(100 * wrk_cpu / wall),
        "other CPU %": round(100 * other_cpu / wall),
        "CPU split %": "/".join(str(round(100 * c / server_cpu)) for c in per_process.values()
                                if server_cpu and c / server_cpu >= 0.01) or "-",
        "RSS MiB": memory["rss_sum"], "PSS MiB": memory["pss_sum"],
    }
    if name in GOAL_SCENARIOS:
        row["goal"] = ("met" if row["req/s"] >= GOAL_RPS and row["p95 ms"] <= GOAL_P95_MS
                       and not problems else "MISSED")
    tracebacks = server_log.count("Traceback")
    log(f"{name} x{server.workers}: {row['req/s']} req/s, p95 {row['p95 ms']} ms, "
        f"errors {row['errors']}, CPU % server {row['server CPU %']} wrk {row['wrk CPU %']} "
        f"other {row['other CPU %']}"
        + (f", {tracebacks} tracebacks in the log" if tracebacks else ""))
    return {**row, "requests": wrk["requests"], "seconds": round(seconds, 2),
            "kib_per_response": round(wrk["bytes"] / max(1, wrk["requests"]) / 1024, 1),
            "latency_ms": lat, "statuses": statuses, "socket_errors": wrk["errors"],
            "distinct_requests": distinct, "waited_for_quiet_s": waited,
            "server_cpu_s_per_process": list(per_process.values()), "memory_mib": memory,
            "tracebacks": tracebacks,
            "server_log_tail": server_log[-4000:] if (bad_status or tracebacks) else None}


def run_server(home: Path, embedder: str, workers: int, corpus: Corpus, args: Args,
               members: list[Member] | None) -> tuple[list[Member], dict[str, Any]]:
    take_back_pool_votes(home, corpus)
    server = Server(home, embedder, workers, args.tmp / f"serve-{workers}.log")
    info: dict[str, Any] = {"workers": workers}
    try:
        server.start()
        info |= {"cold_start_s": server.cold_start_s, "memory_at_ready_mib": server.memory_mib()}
        if members is None:
            members = sign_in_members(server)
            info["seed_votes"] = seed_votes(server, members, corpus)
        info["community"] = community_counts(home)
        rows = []
        for name in args.scenarios:
            rows.append(measure(server, name, scenario_requests(name, members, corpus), args))
        info["memory_at_end_mib"] = server.memory_mib()
        info["scenarios"] = rows
        args.results.extend(rows)
        if server.proc and server.proc.poll() is not None:
            info["exited"] = server.proc.returncode
    finally:
        server.stop()
        removed = take_back_pool_votes(home, corpus)
        if removed:
            log(f"took back {removed} votes the vote scenario left on the pool")
    return members, info


# -- in-process profile ---------------------------------------------------------


def profile(home: Path, embedder: str, scenarios: list[str], members: list[Member],
            corpus: Corpus, n: int = 200, top: int = 25) -> dict[str, Any]:
    """cProfile over `n` requests of each GET scenario, in process, same data dir.

    The app is called through httpx's ASGITransport with anyio's thread offload
    replaced by a direct call, so the sync handlers run in the profiled thread.
    """
    import asyncio

    import anyio.to_thread
    import httpx

    from paperfeed.catalog import Catalog
    from paperfeed.settings import load_settings
    from paperfeed.web import create_app

    async def inline(func: Any, *args: Any, **_: Any) -> Any:
        return func(*args)

    settings = load_settings(home=home, embedder=embedder, load_demo=False)
    app = create_app(settings, Catalog(settings))
    out: dict[str, Any] = {}

    async def run(requests: list[tuple[str, dict[str, str]]]
                  ) -> tuple[float, float, pstats.Stats]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://bench") as client:
            for path, headers in requests[:10]:
                (await client.get(path, headers=headers)).raise_for_status()
            started = time.perf_counter()
            for path, headers in requests:
                await client.get(path, headers=headers)
            plain = time.perf_counter() - started
            prof = cProfile.Profile()
            started = time.perf_counter()
            prof.enable()
            for path, headers in requests:
                await client.get(path, headers=headers)
            prof.disable()
            return plain, time.perf_counter() - started, pstats.Stats(prof)

    real_run_sync = anyio.to_thread.run_sync
    anyio.to_thread.run_sync = inline
    try:
        for name in scenarios:
            if name in ("vote", "mixed"):  # writes: measured over HTTP only
                continue
            items = scenario_requests(name, members, corpus)
            requests = [(items[i % len(items)][1], items[i % len(items)][2] or {})
                        for i in range(n)]
            plain, profiled, stats = asyncio.run(run(requests))
            text = io.StringIO()
            stats.stream = text  # type: ignore[attr-defined]
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)
            print(f"\n=== profile {name}: {n} requests in process, one at a time: "
                  f"{1000 * plain / n:.2f} ms/request ({1000 * profiled / n:.2f} under "
                  f"cProfile) ===")
            print(text.getvalue())
            out[name] = {"ms_per_request": round(1000 * plain / n, 2),
                         "ms_per_request_profiled": round(1000 * profiled / n, 2),
                         "top": text.getvalue()}
    finally:
        anyio.to_thread.run_sync = real_run_sync
    return out


# -- main ---------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path("/tmp/pf-bench-cs"),
                        help="Data dir (built with bench/scale.py --corpus cs if missing).")
    parser.add_argument("--duration", type=float, default=20, help="Seconds per scenario.")
    parser.add_argument("--warmup", type=float, default=3, help="Seconds of warm-up each.")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads.")
    parser.add_argument("--workers", default="1,2", help="Worker counts, comma-separated.")
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS,
                        help=f"Comma-separated, from: {', '.join(SCENARIOS)}.")
    parser.add_argument("--retries", type=int, default=2,
                        help="Re-runs of a run other processes disturbed (the quietest counts).")
    parser.add_argument("--profile", action="store_true",
                        help="Afterwards, cProfile the page handlers in process.")
    parser.add_argument("--output", default="load", help="bench/results/<output>.json")
    ns = parser.parse_args()
    scenarios = [s.strip() for s in ns.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    workers = [int(w) for w in ns.workers.split(",")]

    ensure_wrk()
    home = ns.home.resolve()
    embedder = ensure_home(home)
    corpus = read_corpus(home)
    log(f"{home}: {corpus.papers:,} papers (latest {corpus.latest}), embedder {embedder}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pf-load-") as tmp:
        args = Args(ns.duration, ns.warmup, ns.connections, ns.threads, scenarios, Path(tmp),
                    ns.retries)
        members = None
        servers = []
        for count in workers:
            members, info = run_server(home, embedder, count, corpus, args, members)
            servers.append(info)
        prof = (profile(home, embedder, scenarios, members, corpus) if ns.profile and members
                    else None)

    table = [{k: r[k] for k in ("scenario", "workers", "req/s", "p50 ms", "p95 ms", "p99 ms",
                                "errors", "server CPU %", "CPU split %", "wrk CPU %",
                                "other CPU %", "RSS MiB", "PSS MiB") if k in r}
             | ({"goal": r["goal"]} if "goal" in r else {}) for r in args.results]
    table.sort(key=lambda r: (scenarios.index(r["scenario"]), r["workers"]))
    print_table(f"paperfeed serve under wrk: {corpus.papers:,} papers, {ns.connections} "
                f"connections, {ns.threads} wrk threads, {ns.duration:g} s per run "
                f"(after {ns.warmup:g} s warm-up), loopback, {os.cpu_count()} cores shared "
                f"by wrk and the server; goal for {'/'.join(GOAL_SCENARIOS)}: "
                f">= {GOAL_RPS} req/s at p95 <= {GOAL_P95_MS} ms", table)
    print("\nworkers = server processes (`paperfeed serve --workers N`, one SO_REUSEPORT "
          "socket each; N > 1 adds a supervisor that also keeps the index following the "
          "store). CPU % is of one core, measured during the run: the server's process "
          "tree, wrk, and everything else on the machine; CPU split % is each server "
          "process's share (worker balance). RSS is summed over the process tree (shared "
          "pages counted once per process); PSS splits shared pages.")
    write_json(ns.output, {
        "home": str(home), "papers": corpus.papers, "embedder": embedder,
        "wrk": wrk_version(), "duration_s": ns.duration, "warmup_s": ns.warmup,
        "connections": ns.connections, "wrk_threads": ns.threads, "wrk_timeout": WRK_TIMEOUT,
        "cores": os.cpu_count(), "workers": workers,
        "goal": {"scenarios": list(GOAL_SCENARIOS), "req_per_s": GOAL_RPS,
                 "p95_ms": GOAL_P95_MS},
        "scenarios": {name: SCENARIOS[name] for name in scenarios},
        "members": MEMBERS, "vote_pool": len(corpus.vote_pool),
        "table": table, "servers": servers, "profile": prof,
        "wall_seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()

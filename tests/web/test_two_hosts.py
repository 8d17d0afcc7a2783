"""Server mode: two `paperfeed serve` processes, each with its own data directory (its own
indexes) as on two hosts, sharing one PostgreSQL database. What one host records, the other
shows; what the CLI ingests on a third, both find by search within seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..conftest import FIXTURES, REPO, stop_process
from ..postgres import Postgres
from .test_workers import _free_port, _wait

PASSWORD = "correct horse battery"
NEW_TITLE = "Wombat-guided okapi retrieval for sparse citation graphs"


def _paperfeed(home: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "paperfeed", "--data-dir", str(home), *args],
                          env=env, cwd=REPO, check=True, capture_output=True, text=True)
    return done.stdout


def _found(base: str, query: str) -> list[str]:
    return [hit["title"] for hit in httpx.get(f"{base}/api/papers/search",
                                              params={"q": query}, timeout=10).json()]


def test_two_serve_processes_share_one_postgresql(tmp_path: Path, postgres: Postgres) -> None:
    url = postgres.fresh_database()
    env = {**os.environ, "PAPERFEED_DATABASE_URL": url, "PAPERFEED_LOAD_DEMO": "false",
           "PAPERFEED_NEW_PASSWORD": PASSWORD, "PAPERFEED_ARXIV_API_URL": "http://127.0.0.1:9/"}
    hosts = [tmp_path / "host-a", tmp_path / "host-b"]
    records = [json.loads(line) for line in
               (FIXTURES / "arxiv_cs_excerpt.jsonl").read_text().splitlines()[:10]]
    (tmp_path / "papers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    _paperfeed(hosts[0], env, "ingest", "--no-index", str(tmp_path / "papers.jsonl"))
    _paperfeed(hosts[0], env, "user", "add", "ada", "--email", "ada@example.org")
    token = _paperfeed(hosts[0], env, "user", "token", "ada").splitlines()[0]
    ports = [_free_port(), _free_port()]
    logs = [(tmp_path / f"serve-{n}.log").open("wb") for n in range(2)]
    servers = [subprocess.Popen([sys.executable, "-m", "paperfeed", "--data-dir", str(home),
                                 "serve", "--port", str(port)], env=env, cwd=REPO, stderr=log)
               for home, port, log in zip(hosts, ports, logs, strict=True)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, server in zip(bases, servers, strict=True):
            _wait(f"{base}/healthz", server, timeout=180)  # each builds its indexes first
        paper = records[0]["id"]
        voted = httpx.post(f"{bases[0]}/api/papers/{paper}/vote", params={"up": "true"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert voted.status_code == 200 and voted.json()["upvotes"] == 1, voted.text
        seen = httpx.get(f"{bases[1]}/api/papers/{paper}", timeout=10).json()
        assert seen["upvotes"] == 1, "a vote on one host is counted on the other"

        assert _found(bases[1], "wombat okapi") == []
        record = {**records[0]}
        record.update(id="2611.99999", title=NEW_TITLE, abstract="Wombats guide okapis.")
        new = tmp_path / "new.jsonl"
        new.write_text(json.dumps(record) + "\n")
        _paperfeed(tmp_path / "cli-host", env, "ingest", "--no-index", str(new))
        started, found = time.monotonic(), [False, False]
        while not all(found) and time.monotonic() - started < 60:
            found = [NEW_TITLE in _found(base, "wombat okapi") for base in bases]
            time.sleep(0.3)
        assert found == [True, True], "both hosts' indexes followed the shared store"
    finally:
        for server in servers:
            server.terminate()
        for server, log in zip(servers, logs, strict=True):
            stop_process(server, timeout=20)
            log.close()

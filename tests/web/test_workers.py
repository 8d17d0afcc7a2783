"""`paperfeed serve --workers 2`: real processes sharing the port, restarts, indexing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ..conftest import REPO, stop_process

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited ({server.returncode})")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def _pids(base: str, n: int = 40) -> set[int]:
    """Worker pids answering n fresh connections (one being restarted may refuse some)."""
    pids = set()
    for _ in range(n):
        try:
            pids.add(httpx.get(f"{base}/healthz", timeout=5).json()["pid"])
        except httpx.HTTPError:
            continue
    return pids


def test_two_workers_share_the_port_restart_and_index_new_papers(tmp_path: Path) -> None:
    home, port = tmp_path / "data", _free_port()
    env = {**os.environ, "PAPERFEED_HOME": str(home), "PAPERFEED_ARXIV_API_URL":
           "http://127.0.0.1:9/api", "PAPERFEED_NEW_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "paperfeed"]
    subprocess.run([*command, "user", "add", "ada", "--email", "ada@example.org"], env=env,
                   cwd=REPO, check=True, capture_output=True)
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers", "2"],
                              env=env, cwd=REPO, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/healthz", server)
        pids = _pids(base)
        assert len(pids) == 2, "new connections reach both processes"
        os.kill(next(iter(pids)), signal.SIGKILL)
        deadline, seen = time.monotonic() + 60, set(pids)
        while len(seen - pids) < 1 and time.monotonic() < deadline:
            time.sleep(0.3)
            seen |= _pids(base, 10)
        assert len(seen - pids) == 1, "the killed worker was replaced"

        with httpx.Client(base_url=base, timeout=10) as member:
            member.get("/login")
            token = member.cookies["pf_csrf"]
            member.post("/login", data={"login": "ada", "password": PASSWORD,
                                        "csrf_token": token})
            title = "Quokka-based unicorn estimators for sparse ranking"
            answer = member.post("/submit/manual", data={
                "title": title, "abstract": "Quokkas rank unicorns.", "authors": "Ada",
                "csrf_token": member.cookies["pf_csrf"]}, follow_redirects=False)
            assert answer.status_code == 303, answer.text
            deadline = time.monotonic() + 20
            found: list[dict] = []
            while not found and time.monotonic() < deadline:
                found = [hit for hit in member.get("/api/papers/search",
                                                   params={"q": "quokka unicorn"}).json()
                         if hit["title"] == title]
                time.sleep(0.5)
            assert found, "the supervisor indexed the submission for the read-only workers"
        workers = _pids(base)
    finally:
        stop_process(server, timeout=20)
    log.close()
    assert server.returncode == 0, (tmp_path / "serve.log").read_text()
    time.sleep(0.5)
    assert not [pid for pid in workers if _alive(pid)], "workers stop with the server"


def test_workers_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "PAPERFEED_HOME": str(tmp_path / "data")}
    server = subprocess.Popen([sys.executable, "-m", "paperfeed", "serve", "--port", str(port),
                               "--workers", "2"], env=env, cwd=REPO,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/healthz", server)
    workers = _pids(base)
    server.kill()
    server.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0]
    return state != "Z"  # a zombie has exited; only its parent has not reaped it yet

"""`paperfeed serve` as a user runs it: the real command in a subprocess, one process and
`--workers 2`. Bad addresses and data directories are one-line errors; "ready" means
listening; the access log is a setting."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from paperfeed.errors import ConfigError
from paperfeed.web.serving import listen

from ..conftest import REPO

MODES = {"one process": [], "two workers": ["--workers", "2"]}
TIMEOUT_S = 120  # the machine is shared; a start takes seconds, a hang never ends


def _env(home: Path, **settings: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    return {**clean, "PAPERFEED_HOME": str(home), "PAPERFEED_LOAD_DEMO": "false", **settings}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `paperfeed serve` expecting it to stop by itself (an error)."""
    return subprocess.run([sys.executable, "-m", "paperfeed", "serve", *args], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT_S)


def _one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert "ready in" not in result.stderr + result.stdout


class Running:
    """A `paperfeed serve` process whose output lines are read as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "serve", *args], env=env, cwd=REPO,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self.stdout: list[str] = []
        assert self.process.stdout and self.process.stderr
        self.readers = [threading.Thread(target=self._read, args=(name, stream), daemon=True)
                        for name, stream in (("out", self.process.stdout),
                                             ("err", self.process.stderr))]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put((name, line))

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                name, line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.process.poll() is None, f"serve exited ({self.process.returncode})"
                continue
            if name == "out":
                self.stdout.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} never came")

    def stop(self) -> str:
        """Stop it (SIGINT, as Ctrl-C) and return what it wrote on standard output."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        for reader in self.readers:
            reader.join(timeout=10)
        while not self.lines.empty():
            name, line = self.lines.get()
            if name == "out":
                self.stdout.append(line)
        return "".join(self.stdout)


@pytest.fixture
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.mark.parametrize("mode", MODES)
def test_a_port_out_of_range_is_refused(tmp_path: Path, mode: str) -> None:
    result = _serve(_env(tmp_path / "data"), "--port", "99999", *MODES[mode])
    _one_line_error(result, "port 99999 is out of range")
    from_env = _serve(_env(tmp_path / "data", PAPERFEED_PORT="70000"), *MODES[mode])
    _one_line_error(from_env, "port 70000 is out of range")


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_listen_checks_the_range_before_binding(port: int) -> None:
    with pytest.raises(ConfigError, match=f"port {port} is out of range"):
        listen("127.0.0.1", port)


@pytest.mark.parametrize(("mode", "holder"), [
    ("one process", "a plain server"), ("two workers", "a plain server"),
    ("two workers", "another paperfeed's workers")])
def test_a_taken_port_is_one_line_and_no_ready(tmp_path: Path, mode: str, holder: str) -> None:
    with socket.socket() as taken:
        if holder == "another paperfeed's workers":  # they bind with SO_REUSEPORT
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _serve(_env(tmp_path / "data"), "--port", str(port), *MODES[mode])
    _one_line_error(result, f"cannot listen on 127.0.0.1:{port}", "in use")


@pytest.mark.parametrize(("mode", "problem"), [
    ("one process", "a file"), ("one process", "under a file"), ("one process", "read-only"),
    ("two workers", "a file")])
def test_an_unusable_data_dir_is_one_line(tmp_path: Path, mode: str, problem: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    home = {"a file": afile, "under a file": afile / "data", "read-only": tmp_path / "ro"}[problem]
    if problem == "read-only":
        if os.geteuid() == 0:
            pytest.skip("root may write anywhere")
        home.mkdir(mode=0o555)
    result = _serve(_env(home), "--port", str(_free_port()), *MODES[mode])
    _one_line_error(result, str(home))


@pytest.mark.parametrize(("mode", "access_log"), [
    ("one process", None), ("one process", "true"), ("two workers", "true")])
def test_ready_means_listening_and_the_access_log_is_a_setting(
        tmp_path: Path, mode: str, access_log: str | None, running: list[Running]) -> None:
    port = _free_port()
    settings = {"PAPERFEED_ACCESS_LOG": access_log} if access_log else {}
    server = Running(_env(tmp_path / "data", **settings), "--port", str(port),
                     *MODES[mode])
    running.append(server)
    assert f"http://127.0.0.1:{port}/" in server.wait_for("ready in")
    # No retry: at "ready" the server already answers.
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    httpx.get(f"http://127.0.0.1:{port}/api/papers/search?q=x", timeout=10)
    if access_log == "true":
        server.wait_for('"GET /api/papers/search?q=x HTTP/1.1" 200')
    stdout = server.stop()
    logged = '"GET /healthz HTTP/1.1" 200' in stdout
    assert logged == (access_log == "true"), stdout

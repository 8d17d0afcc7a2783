"""`paperfeed serve` in a subprocess: start it, wait until it answers, measure it, stop it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from . import tables
from .measure import cpu_seconds, descendants, free_port, rss_mib, tree_memory_mib
from .report import log

START_TIMEOUT_S = 600.0


@dataclass
class Server:
    """One `paperfeed serve` on a free loopback port, in its own process group (so stopping
    it stops the workers too), its output in `log_path`."""

    home: Path
    embedder: str
    log_path: Path
    workers: int = 1
    port: int = 0
    cold_start_s: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    _log_offset: int = field(default=0, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return ["-m", "paperfeed", "--data-dir", str(self.home), "--embedder", self.embedder,
                "serve", "--host", "127.0.0.1", "--port", str(self.port),
                *(["--workers", str(self.workers)] if self.workers != 1 else [])]

    def start(self) -> None:
        """Start and wait for /healthz; with several workers, give the others time to load."""
        self.port = free_port()
        log(f"start: paperfeed {' '.join(self.command[2:])}")
        started = time.perf_counter()
        env = dict(os.environ)
        if (self.home / tables.URL_FILE).exists():  # a bench data dir on PostgreSQL
            env["PAPERFEED_DATABASE_URL"] = tables.store_url(self.home)
        with open(self.log_path, "w") as out:
            self.proc = subprocess.Popen([sys.executable, *self.command], stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, env=env)
        while not self._healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n"
                                   f"{self.log_path.read_text()[-3000:]}")
            if time.perf_counter() - started > START_TIMEOUT_S:
                raise RuntimeError(f"serve not ready after {START_TIMEOUT_S:.0f}s")
            time.sleep(0.05)
        self.cold_start_s = round(time.perf_counter() - started, 2)
        if self.workers > 1:  # the first worker answered; the others may still be loading
            deadline = time.monotonic() + 60
            while len(self.processes()) < self.workers + 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3)
        log(f"ready in {self.cold_start_s}s on {self.url}, processes {self.processes()}")

    def _healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=2, trust_env=False
                             ).status_code == 200
        except httpx.TransportError:
            return False

    def processes(self) -> list[int]:
        return descendants(self.proc.pid) if self.proc else []

    def memory_mib(self) -> dict[str, Any]:
        """RSS and PSS summed over the process tree."""
        return tree_memory_mib(self.processes())

    def rss_mib(self) -> dict[str, float]:
        """VmRSS / VmHWM of the main process."""
        return rss_mib(self.proc.pid) if self.proc else {}

    def cpu(self) -> dict[int, float]:
        return {p: cpu_seconds(p) for p in self.processes()}

    def new_log(self) -> str:
        """What the server printed since the last call."""
        text = self.log_path.read_text(errors="replace")
        fresh, self._log_offset = text[self._log_offset:], len(text)
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
        with contextlib.suppress(ProcessLookupError):  # workers the supervisor left behind
            os.killpg(self.proc.pid, signal.SIGKILL)

    @property
    def backend(self) -> str:
        return "postgresql" if (self.home / tables.URL_FILE).exists() else "sqlite"

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def index_writer_held(home: Path) -> Iterator[None]:
    """Hold `home`'s index writer lock (index/sync.py's flock on index/write.lock) while a
    measured server runs: its store follower then finds "another writer busy" and neither
    indexes nor runs the transformer backfill (hours of niced embedding on a freshly built
    data dir, which competes with the requests for the GIL and the cores). What is measured
    is the web processes serving an index that is up to date, as on a host whose backfill
    is done. Opening the Catalog waits for the lock only if the index lags the store."""
    import fcntl

    with open(home / "index" / "write.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

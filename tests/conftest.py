"""Shared fixtures: real SQLite stores in tmp dirs, the demo corpus, a served app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.settings import Settings, load_settings
from paperfeed.web import create_app
from paperfeed.web.serving import uvicorn_options

from .postgres import postgres, store_backend  # noqa: F401 - fixtures for every test package
from .smtp_server import smtp_sink  # noqa: F401 - a fixture for every test package

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
Reply = tuple[int, dict[str, str], bytes]


def shared_dir() -> Path:
    return Path(os.environ.get("PAPERFEED_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "pages").is_dir():
        pytest.skip(f"shared data not found at {path} (set PAPERFEED_SHARED)")
    return path


def make_settings(home: Path, **overrides: object) -> Settings:
    overrides.setdefault("trusted_hosts", "testserver,localhost,127.0.0.1,::1")  # TestClient's
    return load_settings(environ={}, home=home, **overrides)


@pytest.fixture(scope="session")
def demo_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A data directory opened for the first time: the demo corpus loads and indexes; its
    map, which a server's follower fits in the background, is fitted here."""
    return with_map(Catalog(make_settings(tmp_path_factory.mktemp("demo"))))


def with_map(catalog: Catalog) -> Catalog:
    """`catalog` with its map of the corpus fitted (a fresh data dir leaves it due)."""
    catalog.indexes.build_map(catalog.store.papers)
    return catalog


@pytest.fixture(scope="session")
def client(demo_catalog: Catalog) -> TestClient:
    return TestClient(create_app(demo_catalog.settings, demo_catalog))


@pytest.fixture
def empty_catalog(tmp_path: Path) -> Catalog:
    return Catalog(make_settings(tmp_path / "data", load_demo=False))


class LiveServer:
    def __init__(self, catalog: Catalog) -> None:
        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(catalog.settings, catalog), host="127.0.0.1",
                                port=self.port, **uvicorn_options(catalog.settings))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(demo_catalog: Catalog) -> Iterator[LiveServer]:
    with LiveServer(demo_catalog) as server:
        yield server


@dataclass
class LocalServer:
    """A real HTTP server on 127.0.0.1; `route(params)` decides each reply."""

    route: Callable[[dict[str, str]], Reply]
    requests: list[dict[str, str]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server_state = LocalServer(route=lambda params: (404, {}, b"no route"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            server_state.requests.append(params)
            status, headers, body = server_state.route(params)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}/oai"
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def stop_process(process: subprocess.Popen[Any], sig: int = signal.SIGTERM,
                 timeout: float = 30) -> int:
    """Ask `process` to stop with `sig` and return its exit code; if it has not stopped
    within `timeout`, kill it (no server outlives its test, a failing one included) and
    fail."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"{process.args!r} did not stop on {signal.Signals(sig).name} "
                             f"within {timeout:.0f} s; killed") from None

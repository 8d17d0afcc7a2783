"""Shared fixtures for source tests: paths to the real data and a loopback HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from ..conftest import shared_dir

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

Reply = tuple[int, dict[str, str], bytes]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Named apart from the root conftest's `shared` so the two never shadow each other."""
    path = shared_dir()
    if not (path / "pages").is_dir():
        pytest.skip(f"shared data not found at {path} (set PAPERFEED_SHARED)")
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


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


class SleepRecorder:
    """Stands in for time.sleep: records the waits, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()

"""Shared fixtures for source tests: paths to the real data and a loopback HTTP server."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import LocalServer, Reply, local_server, shared_dir  # noqa: F401 - re-exported

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


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


class SleepRecorder:
    """Stands in for time.sleep: records the waits, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()

"""`paperfeed serve` believes X-Forwarded-For only from PAPERFEED_FORWARDED_ALLOW_IPS.

uvicorn on its own believes 127.0.0.1: a client on the host (or behind something local
that passes the header on) claimed a new address with every request, and the failed-login
counter per address never filled (issue 9.11). Real server processes, with and without
--workers, as an operator starts them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from paperfeed.members.accounts import ADDRESS_FAILURES

from ..conftest import REPO, stop_process
from .test_workers import _free_port, _wait


@pytest.mark.parametrize("workers,proxies,believed", [
    (1, "", False), (2, "", False), (1, "127.0.0.1", True)])
def test_a_spoofed_forwarded_address_does_not_reset_the_login_counter(
        tmp_path: Path, workers: int, proxies: str, believed: bool) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}  # uvicorn's own
    env |= {"PAPERFEED_HOME": str(tmp_path / "data"), "PAPERFEED_LOAD_DEMO": "false"}
    if proxies:
        env["PAPERFEED_FORWARDED_ALLOW_IPS"] = proxies
    server = subprocess.Popen([sys.executable, "-m", "paperfeed", "serve", "--port", str(port),
                               "--workers", str(workers)], env=env, cwd=REPO,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/healthz", server)
        with httpx.Client(base_url=base, timeout=20) as client:
            client.get("/login")
            token = client.cookies["pf_csrf"]

            def fail(name: str, forwarded_for: str) -> int:
                return client.post("/login", data={
                    "login": name, "password": "wrong password", "csrf_token": token},
                    headers={"X-Forwarded-For": forwarded_for}).status_code

            # A new unknown name each time: only the per-address counter fills up.
            assert [fail(f"guess{i}", f"203.0.113.{i}") for i in range(ADDRESS_FAILURES)] \
                == [400] * ADDRESS_FAILURES
            last = fail("guess-last", "198.51.100.7")
    finally:
        stop_process(server, timeout=20)
    assert last == (400 if believed else 429), \
        "a configured proxy is believed; anyone else's header is not"

"""The README's first-use examples, as a new user would try them: every `paperfeed` command
it shows, run for real in a fresh demo data directory, and every local URL it names.

Where a command needs the world outside this machine or minutes of work, the test swaps
in the nearest local thing and says so in SUBSTITUTES: the OAI-PMH harvest asks a loopback
server for recorded arXiv pages, digests go to a loopback SMTP server, the 173k-paper
snapshot is replaced by 20 lines of it, `serve` gets a free port.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import FIXTURES, REPO, LocalServer, Reply, stop_process
from .smtp_server import SmtpSink

README = (REPO / "README.md").read_text()
SUBSTITUTES = {"../shared/data/arxiv/cs.jsonl.xz": str(FIXTURES / "arxiv_cs_excerpt.jsonl")}
LONG_RUNNING = {"serve": "ready in", "worker": "daily-digest"}  # command -> its started line
TIMEOUT_S = 300
LISTING_PREFIXES = ("/papers/", "/search")  # with "/": pages that list papers


def readme_commands() -> list[list[str]]:
    """Every `paperfeed ...` command in the README (code blocks and inline code), in order."""
    blocks = "\n".join(re.findall(r"^```bash\n(.*?)^```", README, re.M | re.S))
    in_blocks = re.findall(r"^(?:\.venv/bin/)?(paperfeed [a-z][^#\n]*)", blocks, re.M)
    inline = re.findall(r"`(paperfeed [a-z][^`]*)`", README)
    found = sorted((README.find(c), c) for c in {c.strip() for c in [*in_blocks, *inline]})
    return [shlex.split(command)[1:] for _, command in found]


def readme_urls() -> list[str]:
    """Every local URL the README names outside its benchmark tables (which name routes
    measured, not examples to open)."""
    text = README[:README.index("## Benchmarks")] + README[README.index("## Development"):]
    urls = re.findall(r"`http://127\.0\.0\.1:8000(/[^`\s]*)`", text)
    urls += re.findall(r"`(/[^`\s]*)`", text)
    return list(dict.fromkeys(urls))


def _env(home: Path, sink: SmtpSink) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAPERFEED_")}
    return {**clean, "PAPERFEED_HOME": str(home), "PAPERFEED_NEW_PASSWORD": "a long password",
            **{f"PAPERFEED_{k.upper()}": str(v) for k, v in sink.overrides.items()}}


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _runnable(args: list[str], oai_url: str, port: int) -> list[str]:
    args = [SUBSTITUTES.get(arg, arg) for arg in args]
    if args[:2] == ["harvest", "arxiv"]:
        args += ["--url", oai_url, "--delay", "0"]
    if args[0] == "serve":
        args += ["--port", str(port)]
    return args


def _check(args: list[str], result: subprocess.CompletedProcess[str]) -> None:
    allowed = {0, 2} if args[0] == "ingest" else {0}  # 2: records skipped, each reported
    assert result.returncode in allowed, f"{args}: {result.returncode}\n{result.stderr}"
    if "--json" in args:
        assert re.match(r"\[\s*\{", result.stdout), result.stdout[:200]
    if args[0] == "similar":
        assert "  1. " in result.stdout, result.stdout


def _run_until_started(args: list[str], env: dict[str, str], port: int, log: Path) -> None:
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "paperfeed", *args], env=env,
                                   cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + TIMEOUT_S
        # Both print their started line on standard error.
        while LONG_RUNNING[args[0]] not in log.read_text():
            assert process.poll() is None, f"{args} exited: {log.read_text()}"
            assert time.monotonic() < deadline, f"{args} did not start"
            time.sleep(0.2)
        if args[0] == "serve":
            assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
    finally:
        stop_process(process, signal.SIGINT, timeout=60)


def test_the_readme_shows_the_commands_and_urls_this_test_runs() -> None:
    commands = [args[0] for args in readme_commands()]
    assert {"serve", "ingest", "harvest", "search", "similar", "user", "digest",
            "worker"} <= set(commands)
    assert {"/papers/date/2025-08-01", "/papers/week/2025-W31", "/"} <= set(readme_urls())


def test_every_readme_command_works_on_a_fresh_demo_data_dir(
        tmp_path: Path, local_server: LocalServer, smtp_sink: SmtpSink) -> None:
    def oai(params: dict[str, str]) -> Reply:
        page = (FIXTURES / "oai_listrecords_page2_last.xml").read_bytes()
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, page

    local_server.route = oai
    env, port = _env(tmp_path / "data", smtp_sink), _free_port()
    for readme_args in readme_commands():
        args = _runnable(readme_args, local_server.url, port)
        if args[0] in LONG_RUNNING:
            _run_until_started(args, env, port, tmp_path / f"{args[0]}.log")
            continue
        result = subprocess.run([sys.executable, "-m", "paperfeed", *args], env=env, cwd=REPO,
                                capture_output=True, text=True, timeout=TIMEOUT_S)
        _check(args, result)


@pytest.mark.parametrize("url", readme_urls())
def test_every_local_url_in_the_readme_answers_on_the_demo(client: TestClient, url: str) -> None:
    """`client` serves a data directory opened for the first time: the demo as shipped."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.text[:300])
    path = urlsplit(url).path
    if response.headers["content-type"].startswith("application/json") and \
            path != "/api/openapi.json":
        assert response.json(), f"{url} is empty on the demo"
    elif path == "/" or path.startswith(LISTING_PREFIXES):
        assert 'href="/papers/pf-' in response.text, f"{url} lists no paper on the demo"

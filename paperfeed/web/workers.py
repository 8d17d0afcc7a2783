"""`paperfeed serve --workers N`: N server processes, each with its own listening socket.

uvicorn's own `--workers` share one listening socket, and a client that keeps
its connections open (a browser, a proxy, a load balancer) often ends up with
all of them on one process while the others idle (measured: a 100/0 split
under 50 keep-alive clients). Here every process binds the address with
SO_REUSEPORT, so the kernel spreads new connections evenly across them. The
supervisor restarts a process that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

from ..errors import ConfigError
from ..settings import Settings

STARTUP_S = 10.0  # a worker that fails sooner is broken, not unlucky: stop, don't loop


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every paperfeed server process tells uvicorn, with or without --workers.

    Forwarded headers are believed only from the proxies PAPERFEED_FORWARDED_ALLOW_IPS
    names. uvicorn by default believes any connection from 127.0.0.1, so a client
    reaching the site through something local that passes the header on (or from the
    host itself) could claim a new address with every request, and the failed-login
    counter per address would start afresh each time.
    """
    proxies = settings.forwarded_allow_ips.strip()
    return {"log_level": "warning", "proxy_headers": bool(proxies),
            "forwarded_allow_ips": proxies or None}


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _run_worker(environ: dict[str, str], host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    os.environ.update(environ)
    sock = _listen(host, port)
    server = uvicorn.Server(uvicorn.Config("paperfeed.web.asgi:app", **options))
    supervisor = os.getppid()

    def exit_with_supervisor() -> None:  # even a SIGKILLed supervisor leaves no workers
        while os.getppid() == supervisor:
            time.sleep(1)
        server.should_exit = True

    threading.Thread(target=exit_with_supervisor, daemon=True).start()
    server.run(sockets=[sock])


def serve_workers(settings: Settings, workers: int) -> None:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("--workers needs SO_REUSEPORT (Linux, BSD, macOS)")
    _listen(settings.host, settings.port).close()  # fail now if the address is taken
    environ = {k: v for k, v in os.environ.items() if k.startswith("PAPERFEED_")}
    environ |= {"PAPERFEED_HOME": str(settings.home), "PAPERFEED_EMBEDDER": settings.embedder}
    spawn = multiprocessing.get_context("spawn")

    started: dict[int, float] = {}

    def start() -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_run_worker, name="paperfeed-web", args=(
            environ, settings.host, settings.port, uvicorn_options(settings)))
        process.start()
        started[id(process)] = time.monotonic()
        return process

    processes = [start() for _ in range(workers)]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            time.sleep(0.5)
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                young = time.monotonic() - started.pop(id(process)) < STARTUP_S
                if young and (process.exitcode or 0) > 0:  # failed by itself, not killed
                    raise ConfigError(f"a web worker failed to start (exit code "
                                      f"{process.exitcode}); run without --workers to see why")
                processes[i] = start()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)

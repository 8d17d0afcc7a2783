"""`paperfeed serve --workers N`: N server processes, each with its own listening socket.

uvicorn's own `--workers` share one listening socket, and a client that keeps
its connections open (a browser, a proxy, a load balancer) often ends up with
all of them on one process while the others idle (measured: a 100/0 split
under 50 keep-alive clients). Here every process binds the address with
SO_REUSEPORT, so the kernel spreads new connections evenly across them. The
supervisor restarts a process that dies and stops them all on SIGINT/SIGTERM, and
announces "ready" once every process has said it accepts connections.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

from ..errors import ConfigError
from ..settings import Settings
from .serving import listen, make_server, uvicorn_options

STARTUP_S = 10.0  # a worker that fails sooner is broken, not unlucky: stop, don't loop


def _run_worker(environ: dict[str, str], host: str, port: int, options: dict[str, Any],
                ready: Event) -> None:
    os.environ.update(environ)
    sock = listen(host, port, reuse_port=True)
    server = make_server("paperfeed.web.asgi:app", options, on_ready=ready.set)
    supervisor = os.getppid()

    def exit_with_supervisor() -> None:  # even a SIGKILLed supervisor leaves no workers
        while os.getppid() == supervisor:
            time.sleep(1)
        server.should_exit = True

    threading.Thread(target=exit_with_supervisor, daemon=True).start()
    server.run(sockets=[sock])


def claim(settings: Settings) -> None:
    """Fail now, in one line, if the workers could not listen: a plain bind (no
    SO_REUSEPORT) fails while anyone holds the port, even another paperfeed's workers."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("--workers needs SO_REUSEPORT (Linux, BSD, macOS)")
    listen(settings.host, settings.port).close()


def serve_workers(settings: Settings, workers: int, on_ready: Callable[[], object]) -> None:
    claim(settings)
    environ = {k: v for k, v in os.environ.items() if k.startswith("PAPERFEED_")}
    environ |= {"PAPERFEED_HOME": str(settings.home), "PAPERFEED_EMBEDDER": settings.embedder}
    spawn = multiprocessing.get_context("spawn")

    started: dict[int, float] = {}
    ready = [spawn.Event() for _ in range(workers)]

    def start(n: int) -> multiprocessing.process.BaseProcess:
        process = spawn.Process(target=_run_worker, name="paperfeed-web", args=(
            environ, settings.host, settings.port, uvicorn_options(settings), ready[n]))
        process.start()
        started[id(process)] = time.monotonic()
        return process

    processes = [start(n) for n in range(workers)]
    announced = False
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            time.sleep(0.1 if not announced else 0.5)
            if not announced and all(event.is_set() for event in ready):
                announced = True
                on_ready()
            for i, process in enumerate(processes):
                if process.is_alive() or stopping:
                    continue
                young = time.monotonic() - started.pop(id(process)) < STARTUP_S
                if young and (process.exitcode or 0) > 0:  # failed by itself, not killed
                    raise ConfigError(f"a web worker failed to start (exit code "
                                      f"{process.exitcode}); run without --workers to see why")
                processes[i] = start(i)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)

"""Listening and serving for `paperfeed serve`, in one process (here) or N (`workers.py`).

The address is claimed before anything slow happens, so a port out of range, a port
another server holds or an unknown host is a one-line error at once, not after the
model has loaded. "Ready" is announced by the server itself once uvicorn's startup is
done and the socket accepts connections, never before. The access log (uvicorn's, one
line per request on standard output) is off unless PAPERFEED_ACCESS_LOG is set: a busy
site writes a line per request, and most installs sit behind a proxy that logs anyway.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvicorn

from ..errors import ConfigError
from ..settings import Settings

BACKLOG = 2048


def listen(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket on host:port, or a ConfigError that says why not.

    `reuse_port` lets several processes share the address (SO_REUSEPORT); without it the
    bind fails when anyone holds the port, including a paperfeed with its own workers.
    """
    if not 1 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range: use 1-65535 (--port or PAPERFEED_PORT)")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: unknown host ({exc})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        reason = ("the port is in use (is paperfeed already running?)"
                  if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc))
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server, calling `on_ready` once it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], object] | None) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.on_ready is not None:
            self.on_ready()


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every paperfeed server process tells uvicorn, with or without --workers.

    Forwarded headers are believed only from the proxies PAPERFEED_FORWARDED_ALLOW_IPS
    names. uvicorn by default believes any connection from 127.0.0.1, so a client
    reaching the site through something local that passes the header on (or from the
    host itself) could claim a new address with every request, and the failed-login
    counter per address would start afresh each time.
    """
    proxies = settings.forwarded_allow_ips.strip()
    return {"log_level": "warning", "access_log": settings.access_log,
            "proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def make_server(app: Any, options: dict[str, Any],
                on_ready: Callable[[], object] | None = None) -> uvicorn.Server:
    """A uvicorn server for `app` (an ASGI app or its import string) with `uvicorn_options`."""
    config = uvicorn.Config(app, **options)
    if options["access_log"]:  # the rest of uvicorn's log stays at warnings
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return _Server(config, on_ready)


def serve_one(app: Any, sock: socket.socket, settings: Settings,
              on_ready: Callable[[], object]) -> None:
    """Serve `app` on `sock` in this process until SIGINT/SIGTERM."""
    make_server(app, uvicorn_options(settings), on_ready=on_ready).run(sockets=[sock])

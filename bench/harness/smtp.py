"""SMTP for benchmarks: a counting sink in its own process, and per-message probes.

The sink accepts everything and only counts it: messages, bytes, connections and
Message-IDs (to check each digest arrived once). Its own process, so its CPU is not the
sender's; aiosmtpd (the `test` extra).
"""

from __future__ import annotations

import io
import multiprocessing as mp
import re
import resource
import smtplib
import socket
import threading
from email.generator import BytesGenerator
from email.message import EmailMessage
from functools import partial
from typing import Any

from paperfeed.mail import Mailer
from paperfeed.settings import Settings

from .measure import ms_each

STATS_TIMEOUT_S = 60.0
_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(<[^>\r\n]+>)")


def _serve(conn: Any) -> None:
    from aiosmtpd.controller import Controller

    lock = threading.Lock()
    state: dict[str, Any] = {"messages": 0, "bytes": 0, "connections": 0, "ids": []}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            raw = envelope.original_content or envelope.content
            match = _MESSAGE_ID.search(raw[:raw.find(b"\r\n\r\n")])
            with lock:
                state["messages"] += 1
                state["bytes"] += len(raw)
                state["ids"].append(match.group(1).decode() if match else "")
            return "250 2.0.0 OK"

    class Counting(Controller):
        def _trigger_server(self) -> None:
            assert self.server is not None
            self.port = self.server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
            super()._trigger_server()

        def factory(self) -> Any:
            with lock:
                state["connections"] += 1
            return super().factory()

    controller = Counting(Handler(), hostname="127.0.0.1", port=0)
    controller.start()
    with lock:
        state["connections"] = 0  # aiosmtpd's readiness probe
    conn.send(controller.port)
    while (command := conn.recv()) != "stop":
        if command == "stats":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with lock:
                conn.send({**state, "ids": list(state["ids"]),
                           "cpu_s": usage.ru_utime + usage.ru_stime,
                           "peak_rss_mib": usage.ru_maxrss / 1024})
    controller.stop()
    conn.send("stopped")


class Sink:
    """Start it before loading big things: the child is spawned, and starts small."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        if not self._conn.poll(STATS_TIMEOUT_S):
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(self._conn.recv())

    def stats(self) -> dict[str, Any]:
        """messages, bytes, connections, ids (in arrival order), cpu_s, peak_rss_mib."""
        self._conn.send("stats")
        if not self._conn.poll(STATS_TIMEOUT_S):
            raise RuntimeError("the SMTP sink did not answer")
        return dict(self._conn.recv())

    def stop(self) -> None:
        if self.process.is_alive():
            self._conn.send("stop")
            self._conn.poll(10)
            self.process.join(10)


def probe(settings: Settings, message: EmailMessage, messages: int = 100,
          connects: int = 10) -> list[dict[str, Any]]:
    """What one message costs: serialising it, sending it on an open connection (as the
    outbox sends, with a hook between the body and the final ".", and in one write), and
    what opening a connection costs."""
    mailer = Mailer(settings)
    rows = [{"probe": "serialise (BytesGenerator.flatten)", "n": messages,
             "ms each": ms_each(lambda: BytesGenerator(io.BytesIO()).flatten(message),
                                 messages)}]
    for label, hook in (("DATA with before_final_dot hook (outbox)", lambda: None),
                        ("DATA in one write (no hook)", None)):
        with mailer.connection() as conn:
            conn.send(message)  # opens the connection (and warms up)
            rows.append({"probe": label, "n": messages, "ms each": ms_each(
                partial(conn.send, message, before_final_dot=hook), messages)})

    def plain_connect() -> None:
        smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20,
                     local_hostname="bench.invalid").close()

    for label, fn in ((f"Mailer._open() (security={settings.smtp_security})",
                       lambda: mailer._open().close()),
                      ("of which socket.getfqdn() (EHLO name)", socket.getfqdn),
                      ("plain smtplib connect + greeting", plain_connect)):
        rows.append({"probe": label, "n": connects, "ms each": ms_each(fn, connects)})
    return rows

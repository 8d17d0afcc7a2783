"""A real SMTP server for tests (aiosmtpd in a thread on 127.0.0.1, a free port).

    from tests.smtp_server import smtp_sink  # noqa: F401   (in any conftest.py)

    def test_reset_mail(smtp_sink, tmp_path):
        settings = make_settings(tmp_path, **smtp_sink.overrides)
        ...                                   # code under test sends a message
        [message] = smtp_sink.wait_for(1)
        assert message["To"] == "alice@example.com"

`SmtpSink(...)` takes options for STARTTLS or implicit TLS (a throwaway `trustme` CA; pass
`sink.client_context` to `Mailer(..., ssl_context=...)`), AUTH, and injected failures.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import ssl
import threading
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Delivered:
    """One accepted message with its envelope and how it arrived."""

    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    connection: int  # 1-based number of the TCP connection it came over
    tls: bool
    login: str | None


class _Controller(Controller):
    """Binds port 0 and learns the real port before aiosmtpd's readiness probe uses it."""

    def __init__(self, sink: SmtpSink, **kwargs: Any) -> None:
        super().__init__(sink, hostname="127.0.0.1", port=0, **kwargs)
        self._sink = sink

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()

    def factory(self) -> SMTP:
        server = super().factory()
        if self._sink.implicit_tls:
            # aiosmtpd only counts STARTTLS as TLS; this socket is TLS from the first byte.
            # Set after __init__, which would warn about AUTH without TLS.
            server._auth_require_tls = False
        self._sink._connected(server)
        return server


class SmtpSink:
    """Accepts and keeps every message; optionally refuses some to exercise error paths.

    fail_rate/fail_code: each RCPT and DATA (those named in `fail_on`) is refused with
    `fail_code` with this probability, drawn from `random.Random(seed)`; `refuse` lists
    recipients that always get `fail_code`. Injected refusals are counted in `.failures`.
    drop_connection_after: close a connection right after accepting that many messages on
    it, as an idle timeout or per-connection limit would.
    rcpt_delay_s: answer each RCPT this much later: a slow server, so that a sender killed
    at a random moment is most likely killed mid-conversation.
    """

    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        fail_rate: float = 0.0,
        fail_code: int = 451,
        fail_on: Collection[str] = ("RCPT", "DATA"),
        refuse: Collection[str] = (),
        seed: int = 0,
        drop_connection_after: int | None = None,
        rcpt_delay_s: float = 0.0,
    ) -> None:
        if starttls and implicit_tls:
            raise ValueError("choose starttls or implicit_tls, not both")
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.auth = auth
        self.fail_rate = fail_rate
        self.fail_code = fail_code
        self.fail_on = {stage.upper() for stage in fail_on}
        self.refuse = {addr.lower() for addr in refuse}
        self.drop_connection_after = drop_connection_after
        self.rcpt_delay_s = rcpt_delay_s
        self.failures = 0
        self.connections = 0
        self.client_context: ssl.SSLContext | None = None
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._deliveries: list[Delivered] = []
        self._connection_of: dict[int, int] = {}  # id(SMTP protocol) -> connection number
        self._delivered_on: dict[int, int] = {}  # connection number -> messages accepted
        self._controller: _Controller | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {"server_hostname": "smtp-sink.test"}
        if self.starttls or self.implicit_tls:
            ca = trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
            self.client_context = ssl.create_default_context()
            ca.configure_trust(self.client_context)
            if self.starttls:
                kwargs.update(tls_context=server_context, require_starttls=True)
            else:
                kwargs["ssl_context"] = server_context
        if self.auth is not None:
            # Plain + AUTH (auth_require_tls=False) makes aiosmtpd warn; it is allowed anyway.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.starttls or self.implicit_tls)
        self._controller = _Controller(self, **kwargs)
        self._controller.start()
        with self._lock:
            self.connections = 0  # forget aiosmtpd's readiness probe
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- what tests read ---------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        assert self._controller is not None, "SmtpSink is not running"
        return int(self._controller.port)

    @property
    def security(self) -> str:
        return "starttls" if self.starttls else "ssl" if self.implicit_tls else "none"

    @property
    def overrides(self) -> dict[str, Any]:
        """Settings fields pointing paperfeed at this server: `make_settings(..., **overrides)`."""
        user, password = self.auth or ("", "")
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": self.security,
                "smtp_username": user, "smtp_password": password, "smtp_timeout": 5}

    @property
    def deliveries(self) -> list[Delivered]:
        with self._lock:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        return [d.message for d in self.deliveries]

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Poll until at least `count` messages arrived (mail sent from another thread)."""
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages
            if len(messages) >= count:
                return messages
            if time.monotonic() >= deadline:
                raise AssertionError(f"expected {count} message(s) within {timeout}s, "
                                     f"got {len(messages)}")
            time.sleep(0.02)

    def clear(self) -> None:
        """Forget messages and counters, e.g. between phases of one test."""
        with self._lock:
            self._deliveries.clear()
            self.failures = 0

    # -- aiosmtpd hooks (run on the server's thread) -------------------------------------

    def _connected(self, server: SMTP) -> None:
        with self._lock:
            self.connections += 1
            self._connection_of[id(server)] = self.connections

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        assert self.auth is not None
        user, password = self.auth
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def _injected_failure(self, stage: str, address: str = "") -> str | None:
        with self._lock:
            fail = address.lower() in self.refuse or (
                stage in self.fail_on and self._random.random() < self.fail_rate)
            if not fail:
                return None
            self.failures += 1
        code = self.fail_code
        reason = "try again later" if 400 <= code < 500 else "refused"
        return f"{code} {code // 100}.3.0 {reason} (injected)"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if self.rcpt_delay_s:
            await asyncio.sleep(self.rcpt_delay_s)
        failure = self._injected_failure("RCPT", address)
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self._injected_failure("DATA")
        if failure:
            return failure
        raw = envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        transport = server.transport
        assert transport is not None
        login = session.auth_data.login.decode() if session.authenticated else None
        with self._lock:
            number = self._connection_of[id(server)]
            self._deliveries.append(Delivered(
                message=message, mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos), raw=raw, connection=number,
                tls=transport.get_extra_info("ssl_object") is not None, login=login))
            self._delivered_on[number] = self._delivered_on.get(number, 0) + 1
            drop = self._delivered_on[number] == self.drop_connection_after
        if drop:
            # Runs once the reply below is written: the client sees 250, then a closed socket.
            server.loop.call_soon(transport.close)
        return "250 2.0.0 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A plain (no TLS, no AUTH) SMTP server that keeps every message sent to it."""
    with SmtpSink() as sink:
        yield sink

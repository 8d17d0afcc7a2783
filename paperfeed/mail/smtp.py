"""Composing emails and handing them to an SMTP server.

Only the stdlib (`email`, `smtplib`, `ssl`). Headers go out as receivers parse them:
the stdlib's default policy folds any header longer than 78 characters, and a value it
cannot fold at a space (a URL) it turns into RFC 2047 encoded-words, which RFC 2369/8058
readers of List-Unsubscribe take literally, so one-click unsubscribe found no URL.
Structured headers passed in `headers` are therefore written as given, folded only at
a comma between list items; Subject, From and To keep the stdlib's encoding, which
they need for non-ASCII text. Every failure surfaces as a `MailError` whose
`permanent` flag tells the caller (later: a retrying outbox) whether another attempt can help;
nothing here retries a message that may already have been accepted, so a retry never
duplicates an email.
"""

from __future__ import annotations

import email.policy
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid
from types import TracebackType
from typing import Any

from ..errors import BadRequest, ConfigError, MailError
from ..settings import Settings

SECURITY_MODES = ("none", "starttls", "ssl")

# Control characters, including the Unicode line breaks some clients honour: header injection.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# A plain addr-spec: no quoted local parts, comments or source routes, which real users lack.
_ADDR_SPEC = re.compile(r'[^\s@<>()\[\]\\,;:"]+@[^\s@<>()\[\]\\,;:"]+')
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # printable ASCII without ":" (RFC 5322 ftext)
# Raw headers (set_raw) are written as set; header objects still fold as the default does.
_POLICY = email.policy.default.clone(refold_source="none")
_FOLD_AT = 78  # RFC 5322: lines SHOULD be at most 78 characters and MUST be at most 998
_MAX_LINE = 998
_LIST_COMMA = re.compile(r",\s*(?![^<>]*>)")  # a comma between items, not inside <...>
# Headers compose() sets itself; taking them from `headers` would duplicate or override them.
_RESERVED = frozenset({
    "bcc", "cc", "content-transfer-encoding", "content-type", "date", "from", "message-id",
    "mime-version", "reply-to", "sender", "subject", "to",
})


def mail_enabled(settings: Settings) -> bool:
    """Whether outgoing email is configured, so callers can hide "email me" features."""
    return bool(settings.smtp_host)


def _address(value: str, what: str, error: type[Exception]) -> Address:
    """Exactly one mailbox, or `error`: one header value must never smuggle in another."""
    if _CONTROL.search(value):
        raise error(f"{what} must not contain line breaks or control characters")
    pairs = getaddresses([value])
    if len(pairs) != 1 or not _ADDR_SPEC.fullmatch(pairs[0][1]):
        raise error(f"{what} {value!r} is not a single email address")
    name, addr = pairs[0]
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as exc:  # the header parser's own verdict
        raise error(f"{what} {value!r} is not a single email address") from exc


def _header_value(value: str, what: str) -> str:
    if _CONTROL.search(value):
        raise BadRequest(f"{what} must not contain line breaks or control characters")
    return value


def _structured(name: str, value: str) -> str:
    """A structured header's value as it goes on the wire: ASCII, never encoded, folded
    only between comma-separated items (`<url1>, <url2>`) when a line would pass 78."""
    _header_value(value, f"header {name}")
    if not value.isascii():
        raise BadRequest(f"header {name} must be ASCII (percent-encode URLs)")
    items = _LIST_COMMA.split(value.strip())
    lines = [f"{name}: {items[0]}"]
    for item in items[1:]:
        lines[-1] += ","
        if len(lines[-1]) + 1 + len(item) > _FOLD_AT:
            lines.append(f" {item}")
        else:
            lines[-1] += f" {item}"
    if max(len(line) for line in lines) > _MAX_LINE:
        raise BadRequest(f"header {name} has an item longer than an email line may be")
    return "\n".join(lines)[len(name) + 2:]


def _subject(value: str) -> str | Header:
    """Subject text, as the stdlib folds it, unless it holds "=?": the header parser would
    decode that as an encoded-word, so a query typed as "=?utf-8?b?...?=" would reach the
    reader as other words. Such a subject is encoded whole, so it decodes to itself."""
    _header_value(value, "subject")
    return Header(value, "utf-8", header_name="Subject") if "=?" in value else value


def compose(
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    sender: str,
    reply_to: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """One email to one recipient: text/plain, plus an HTML alternative when `html` is given.

    `to` and `subject` may carry user input, so anything that could add a header or a
    recipient is refused with `BadRequest`; a bad `sender`/`reply_to` is a `ConfigError`
    (they come from settings). `headers` adds e.g. List-Unsubscribe.
    """
    recipient = _address(to, "recipient", BadRequest)
    from_ = _address(sender, "sender (PAPERFEED_MAIL_FROM)", ConfigError)
    message = EmailMessage(policy=_POLICY)
    message["From"] = from_
    message["To"] = recipient
    if reply_to:
        message["Reply-To"] = _address(reply_to, "reply-to (PAPERFEED_MAIL_REPLY_TO)",
                                       ConfigError)
    subject_value = _subject(subject)
    if isinstance(subject_value, Header):
        message.set_raw("Subject", subject_value.encode(linesep="\n"))
    else:
        message["Subject"] = subject_value
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=from_.domain)
    for name, value in (headers or {}).items():
        if not _HEADER_NAME.fullmatch(name) or name.lower() in _RESERVED:
            raise ValueError(f"header {name!r} cannot be set through `headers`")
        message.set_raw(name, _structured(name, value))
    # Quoted-printable keeps text readable in the raw source; spam filters distrust base64 text.
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return message


class _Tracking:
    """Remembers whether DATA was begun: after that a lost connection may have delivered.

    With `before_final_dot` set, DATA is sent in two steps, the message and then its
    terminating "." line, and the hook runs in between: the last moment the sender can
    record "handed over" while the server still cannot have accepted the message
    (a server discards a DATA whose "." never came).
    """

    data_started = False
    before_final_dot: Callable[[], None] | None = None

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.data_started = True
        hook = self.before_final_dot
        if hook is None:
            return super().data(msg)  # type: ignore[misc]
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        body = msg if isinstance(msg, bytes) else msg.encode("utf-8")
        body = re.sub(rb"(?m)^\.", b"..", body)  # dot-stuffing, RFC 5321 4.5.2
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)  # type: ignore[attr-defined]
        hook()
        self.send(b".\r\n")  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]


class _SMTP(_Tracking, smtplib.SMTP):
    pass


class _SMTPSSL(_Tracking, smtplib.SMTP_SSL):
    pass


_Client = _SMTP | _SMTPSSL


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}".strip()


def _mail_error(exc: BaseException, server: str, username: str) -> MailError:
    """Classify an smtplib/socket failure: 5xx and refusals are permanent, the rest is not."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return MailError(f"SMTP login failed for {username!r} at {server}: "
                         f"{_reply(exc.smtp_code, exc.smtp_error)}",
                         permanent=True, code=exc.smtp_code)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = exc.recipients
        if not refused:
            return MailError(f"{server}: the message has no recipients", permanent=True)
        codes = [code for code, _ in refused.values()]
        temporary = [code for code in codes if not 500 <= code < 600]
        detail = "; ".join(f"{rcpt}: {_reply(code, text)}"
                           for rcpt, (code, text) in refused.items())
        return MailError(f"{server} refused the recipient ({detail})",
                         permanent=not temporary, code=(temporary or codes)[0])
    if isinstance(exc, smtplib.SMTPResponseException):  # sender/data/connect/helo refused
        code = exc.smtp_code
        return MailError(f"{server} refused the message: {_reply(code, exc.smtp_error)}",
                         permanent=500 <= code < 600, code=code)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailError(f"{server} closed the connection: {exc}", permanent=False)
    if isinstance(exc, smtplib.SMTPException):
        # Missing STARTTLS/AUTH/SMTPUTF8 support: the same server will refuse again.
        return MailError(f"{server}: {exc}", permanent=True)
    if isinstance(exc, TimeoutError):
        return MailError(f"{server} did not answer in time", permanent=False)
    return MailError(f"could not talk to SMTP server {server}: {exc}", permanent=False)


class Mailer:
    """Sends messages through the SMTP server configured in `Settings`.

    `ssl_context` replaces the system trust store, e.g. with a test CA; certificates are
    always verified.
    """

    def __init__(self, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> None:
        security = settings.smtp_security.strip().lower()
        if security not in SECURITY_MODES:
            raise ConfigError(f"PAPERFEED_SMTP_SECURITY={settings.smtp_security!r} is not valid; "
                              f"use one of: {', '.join(SECURITY_MODES)}")
        self.settings = settings
        self.security = security
        self._ssl_context = ssl_context

    @property
    def server(self) -> str:
        return f"{self.settings.smtp_host}:{self.settings.smtp_port}"

    def send(self, message: EmailMessage) -> None:
        """Deliver one message on its own connection; raises MailError/ConfigError."""
        with self.connection() as conn:
            conn.send(message)

    def connection(self) -> MailConnection:
        """A connection for many messages: `with mailer.connection() as conn: conn.send(m)`."""
        if not mail_enabled(self.settings):
            raise ConfigError("email is not configured: set PAPERFEED_SMTP_HOST (and "
                              "PAPERFEED_SMTP_PORT, PAPERFEED_SMTP_SECURITY, "
                              "PAPERFEED_SMTP_USERNAME/PASSWORD as your provider requires)")
        return MailConnection(self)

    def _error(self, exc: BaseException) -> MailError:
        return _mail_error(exc, self.server, self.settings.smtp_username)

    def _context(self) -> ssl.SSLContext:
        # Loading the system trust store takes ~25 ms: once per Mailer, and only for TLS.
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _open(self) -> _Client:
        s = self.settings
        client: _Client
        try:
            if self.security == "ssl":
                client = _SMTPSSL(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout,
                                  context=self._context())
            else:
                client = _SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            # The outbox writes a message's final "." separately (see _Tracking); with
            # Nagle's algorithm that small write waits for the server's delayed ACK of
            # the body, ~40 ms per message on Linux.
            assert client.sock is not None  # the constructor connected
            client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                if self.security == "starttls":
                    client.starttls(context=self._context())
                if s.smtp_username:
                    client.login(s.smtp_username, s.smtp_password)
            except BaseException:
                client.close()
                raise
        except (smtplib.SMTPException, OSError) as exc:
            raise self._error(exc) from exc
        return client


class MailConnection:
    """One SMTP session reused for several messages, opened on the first send.

    If a reused connection turns out to be gone before DATA began (the server dropped an
    idle session or closed it with 421), it reconnects once and sends again: nothing of that
    message had been accepted, so this cannot duplicate it. A failed message leaves the
    connection usable for the next one (smtplib resets the transaction).
    """

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer
        self._client: _Client | None = None
        self.connects = 0

    def send(self, message: EmailMessage, *,
             before_final_dot: Callable[[], None] | None = None) -> None:
        """Send one message. `before_final_dot` runs just before the server can accept
        it (see `_Tracking`): an outbox records the hand-over there."""
        for attempt in (1, 2):
            reused = self._client is not None
            if self._client is None:
                self._client = self._mailer._open()
                self.connects += 1
            client = self._client
            client.data_started = False
            client.before_final_dot = before_final_dot
            try:
                refused = client.send_message(message)
            except (smtplib.SMTPException, OSError) as exc:
                gone = client.sock is None
                if gone:
                    self._client = None
                if attempt == 1 and reused and gone and not client.data_started:
                    continue
                raise self._mailer._error(exc) from exc
            if refused:  # some recipients accepted it: a retry would duplicate for them
                detail = "; ".join(f"{rcpt}: {_reply(code, text)}"
                                   for rcpt, (code, text) in refused.items())
                raise MailError(f"{self._mailer.server} delivered the message but refused "
                                f"some recipients ({detail})", permanent=True,
                                code=next(iter(refused.values()))[0])
            return

    def close(self) -> None:
        """QUIT politely; the messages are already accepted, so a failing QUIT is harmless."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def __enter__(self) -> MailConnection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

"""The mail layer against a real SMTP server (aiosmtpd), no mocks."""

from __future__ import annotations

import pickle
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage

import jinja2
import pytest

from paperfeed.errors import BadRequest, ConfigError, MailError
from paperfeed.mail import Mailer, compose, mail_enabled, render_email
from paperfeed.settings import Settings
from tests.smtp_server import SmtpSink

SENDER = "paperfeed <paperfeed@example.org>"


def message(to: str = "Bob Reader <bob@example.com>", subject: str = "Your papers ✓",
            **headers: str) -> EmailMessage:
    return compose(to=to, subject=subject, text="Plain body: naïve café\n",
                   html="<p>HTML body: naïve café</p>\n", sender=SENDER,
                   reply_to="help@example.org", headers=headers or None)


def mailer_for(sink: SmtpSink, **overrides: object) -> Mailer:
    settings = Settings().with_overrides(**{**sink.overrides, **overrides})
    return Mailer(settings, ssl_context=sink.client_context)


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None, f"no text/{kind} part"
    return str(part.get_content()).replace("\r\n", "\n")  # text travels with CRLF line ends


@pytest.fixture
def tls_sink() -> Iterator[SmtpSink]:
    with SmtpSink(starttls=True, auth=("alice", "s3cret")) as sink:
        yield sink


# -- compose ------------------------------------------------------------------------------


def test_send_delivers_multipart_alternative_with_headers(smtp_sink: SmtpSink) -> None:
    mailer_for(smtp_sink).send(message(**{"List-Unsubscribe": "<https://pf.example/unsub/1>"}))

    [delivered] = smtp_sink.deliveries
    assert delivered.mail_from == "paperfeed@example.org"
    assert delivered.rcpt_tos == ["bob@example.com"]
    got = delivered.message
    assert got.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert body(got, "plain") == "Plain body: naïve café\n"
    assert body(got, "html") == "<p>HTML body: naïve café</p>\n"
    assert got["From"] == SENDER
    assert got["To"] == "Bob Reader <bob@example.com>"
    assert got["Subject"] == "Your papers ✓"
    assert got["Reply-To"] == "help@example.org"
    assert got["List-Unsubscribe"] == "<https://pf.example/unsub/1>"
    assert got["Message-ID"].startswith("<") and got["Message-ID"].endswith("@example.org>")
    assert got["Date"].datetime.tzinfo is not None


def test_compose_without_html_is_plain_text_and_ids_are_unique() -> None:
    one = compose(to="a@example.com", subject="s", text="only text", html=None, sender=SENDER)
    two = compose(to="a@example.com", subject="s", text="only text", html=None, sender=SENDER)
    assert one.get_content_type() == "text/plain"
    assert not one.is_multipart()
    assert one["Reply-To"] is None
    assert one["Message-ID"] != two["Message-ID"]


@pytest.mark.parametrize("to", [
    "victim@example.com\r\nBcc: everyone@example.com",
    "victim@example.com\nBcc: everyone@example.com",
    "victim@example.com\u2028Bcc: everyone@example.com",
    "victim@example.com\r\n",
    "victim@example.com, other@example.com",
    "victim@example.com other@example.com",
    "alice@example.org)<bob@example.org>",
    "not an address",
    "",
])
def test_recipient_must_be_one_address_without_line_breaks(to: str) -> None:
    with pytest.raises(BadRequest):
        message(to=to)


def test_subject_and_header_values_cannot_inject_headers() -> None:
    with pytest.raises(BadRequest, match="subject"):
        message(subject="Hello\r\nBcc: everyone@example.com")
    with pytest.raises(BadRequest, match="List-Unsubscribe"):
        message(**{"List-Unsubscribe": "<https://x>\r\nBcc: everyone@example.com"})
    with pytest.raises(ValueError, match="Bcc"):
        message(Bcc="everyone@example.com")


def test_bad_sender_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="PAPERFEED_MAIL_FROM"):
        compose(to="a@example.com", subject="s", text="t", html=None, sender="paperfeed")


# -- configuration --------------------------------------------------------------------------


def test_unconfigured_host_is_a_config_error() -> None:
    settings = Settings()
    assert not mail_enabled(settings)
    assert mail_enabled(settings.with_overrides(smtp_host="smtp.example.org"))
    with pytest.raises(ConfigError, match="PAPERFEED_SMTP_HOST"):
        Mailer(settings).send(message())


def test_invalid_security_names_the_allowed_values() -> None:
    with pytest.raises(ConfigError, match="none, starttls, ssl"):
        Mailer(Settings(smtp_host="smtp.example.org", smtp_security="tls"))


# -- TLS and AUTH ---------------------------------------------------------------------------


def test_starttls_and_login(tls_sink: SmtpSink) -> None:
    mailer_for(tls_sink).send(message())

    [delivered] = tls_sink.deliveries
    assert delivered.tls
    assert delivered.login == "alice"
    assert delivered.rcpt_tos == ["bob@example.com"]


def test_wrong_password_is_permanent_with_a_clear_message(tls_sink: SmtpSink) -> None:
    with pytest.raises(MailError, match="SMTP login failed") as err:
        mailer_for(tls_sink, smtp_password="wrong").send(message())
    assert err.value.permanent
    assert err.value.code == 535
    assert "wrong" not in str(err.value)
    assert tls_sink.messages == []


def test_untrusted_certificate_is_refused(tls_sink: SmtpSink) -> None:
    settings = Settings().with_overrides(**tls_sink.overrides)
    with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED") as err:
        Mailer(settings).send(message())  # system trust store: does not know the test CA
    assert not err.value.permanent
    assert tls_sink.messages == []


def test_implicit_tls() -> None:
    with SmtpSink(implicit_tls=True, auth=("alice", "s3cret")) as sink:
        assert sink.overrides["smtp_security"] == "ssl"
        mailer_for(sink).send(message())
        [delivered] = sink.deliveries
    assert delivered.tls
    assert delivered.login == "alice"


# -- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(("stage", "code", "permanent"), [
    ("RCPT", 451, False),
    ("RCPT", 550, True),
    ("DATA", 452, False),
    ("DATA", 554, True),
])
def test_refusals_are_classified_by_reply_code(stage: str, code: int, permanent: bool) -> None:
    with SmtpSink(fail_rate=1.0, fail_code=code, fail_on=(stage,)) as sink:
        with pytest.raises(MailError) as err:
            mailer_for(sink).send(message())
        assert sink.failures == 1
        assert sink.messages == []
    assert err.value.permanent is permanent
    assert err.value.code == code
    assert str(code) in str(err.value)


def test_server_not_listening_is_temporary() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    with pytest.raises(MailError, match=f"127.0.0.1:{port}") as err:
        Mailer(settings).send(message())
    assert not err.value.permanent
    assert err.value.code is None


def test_silent_server_times_out_as_temporary() -> None:
    with socket.socket() as sock:  # accepts TCP connections (backlog) but never greets
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        settings = Settings(smtp_host="127.0.0.1", smtp_port=sock.getsockname()[1],
                            smtp_security="none", smtp_timeout=1)
        started = time.monotonic()
        with pytest.raises(MailError) as err:
            Mailer(settings).send(message())
    assert time.monotonic() - started < 5
    assert not err.value.permanent


def test_partially_refused_recipients_are_reported_not_swallowed() -> None:
    msg = message()
    msg.replace_header("To", "ok@example.com, bounce@example.com")
    with SmtpSink(refuse={"bounce@example.com"}, fail_code=550) as sink:
        with pytest.raises(MailError, match="bounce@example.com") as err:
            mailer_for(sink).send(msg)
        [delivered] = sink.deliveries
    assert delivered.rcpt_tos == ["ok@example.com"]
    assert err.value.permanent  # a retry would send it to ok@example.com twice
    assert err.value.code == 550


def test_mail_error_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(MailError("451 later", permanent=False, code=451)))
    assert (str(copy), copy.permanent, copy.code) == ("451 later", False, 451)


# -- connections ----------------------------------------------------------------------------


def test_connection_sends_many_messages_over_one_session(smtp_sink: SmtpSink) -> None:
    with mailer_for(smtp_sink).connection() as conn:
        for i in range(3):
            conn.send(message(to=f"reader{i}@example.com"))
        assert conn.connects == 1
    assert smtp_sink.connections == 1
    assert [d.rcpt_tos for d in smtp_sink.deliveries] == [
        [f"reader{i}@example.com"] for i in range(3)]
    assert {d.connection for d in smtp_sink.deliveries} == {1}


def test_connection_reconnects_once_when_the_server_dropped_it() -> None:
    with SmtpSink(drop_connection_after=2) as sink:
        with mailer_for(sink).connection() as conn:
            for i in range(5):
                conn.send(message(to=f"reader{i}@example.com"))
        recipients = [d.rcpt_tos[0] for d in sink.deliveries]
        numbers = [d.connection for d in sink.deliveries]
    assert recipients == [f"reader{i}@example.com" for i in range(5)]  # each exactly once
    assert numbers == [1, 1, 2, 2, 3]


def test_a_refused_message_leaves_the_connection_usable() -> None:
    with SmtpSink(refuse={"bounce@example.com"}, fail_code=550) as sink:
        with mailer_for(sink).connection() as conn:
            with pytest.raises(MailError):
                conn.send(message(to="bounce@example.com"))
            conn.send(message(to="ok@example.com"))
        assert [d.rcpt_tos for d in sink.deliveries] == [["ok@example.com"]]
        assert sink.connections == 1


def test_injected_temporary_failures_are_all_reported() -> None:
    errors: list[MailError] = []
    with SmtpSink(fail_rate=0.3, fail_code=451, seed=7) as sink:
        with mailer_for(sink).connection() as conn:
            for i in range(12):
                try:
                    conn.send(message(to=f"reader{i}@example.com"))
                except MailError as exc:
                    errors.append(exc)
        delivered = len(sink.messages)
        failures = sink.failures
    assert errors and delivered  # the seed gives a mix of both
    assert delivered + len(errors) == 12
    assert len(errors) == failures
    assert all(not e.permanent and e.code == 451 for e in errors)


# -- templates ------------------------------------------------------------------------------


def test_password_reset_email_escapes_the_username_in_html(smtp_sink: SmtpSink) -> None:
    username = "<script>alert(1)</script>"
    reset_url = "https://pf.example/reset?token=abc&user=7"
    text, html = render_email("password_reset", username=username, reset_url=reset_url,
                              expires_minutes=30, site_url="https://pf.example")
    mailer_for(smtp_sink).send(compose(to="a@example.com", subject="Reset your password",
                                       text=text, html=html, sender=SENDER))

    [got] = smtp_sink.wait_for(1)
    got_text, got_html = body(got, "plain"), body(got, "html")
    assert "<script>" not in got_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in got_html
    assert 'href="https://pf.example/reset?token=abc&amp;user=7"' in got_html
    assert f"reset the password for {username} on paperfeed" in got_text
    assert reset_url in got_text
    assert "expires in 30 minutes" in got_text and "expires in 30 minutes" in got_html
    assert "ignore this email" in got_text


def test_templates_refuse_missing_context() -> None:
    with pytest.raises(jinja2.UndefinedError, match="reset_url"):
        render_email("password_reset", username="alice", expires_minutes=30,
                     site_url="https://pf.example")

"""Acting as a member over HTTP on a site that sends email (a real SMTP sink)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.web import create_app

from ..smtp_server import Delivered, SmtpSink

PASSWORD = "correct horse battery"


def csrf(client: TestClient) -> str:
    if not client.cookies.get("pf_csrf"):
        client.get("/login")
    return client.cookies["pf_csrf"]


def signed_up(catalog: Catalog, name: str) -> TestClient:
    """A client signed up as `name` on a site without email: logged in at once."""
    client = TestClient(create_app(catalog.settings, catalog))
    answer = client.post("/signup", data={"username": name, "email": f"{name}@example.org",
                                          "password": PASSWORD, "csrf_token": csrf(client)},
                         follow_redirects=False)
    assert answer.status_code == 303
    return client


def mail_to(sink: SmtpSink, address: str, subject: str, timeout: float = 10) -> Delivered:
    """The first delivery to `address` whose subject contains `subject` (mail is sent
    from the app's mail thread, so it may arrive after the response)."""
    deadline = time.monotonic() + timeout
    while True:
        for delivery in sink.deliveries:
            message = delivery.message
            if message["To"] == address and subject in message["Subject"]:
                return delivery
        if time.monotonic() > deadline:
            raise AssertionError(f"no {subject!r} mail to {address} within {timeout}s; got "
                                 f"{[(m['To'], m['Subject']) for m in sink.messages]}")
        time.sleep(0.02)


def link_in(delivery: Delivered, path: str) -> str:
    """The site-relative link to `path` in the plain-text part of a delivered email."""
    text = delivery.message.get_body(("plain",)).get_content()
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=\S+)", text)
    assert found, text
    return found.group(1)


def sign_up_and_verify(client: TestClient, sink: SmtpSink, name: str,
                       email: str | None = None) -> None:
    """Sign up, open the emailed verification link and press its button: logged in,
    with a verified address. Forgets the sink's messages afterwards."""
    email = email or f"{name}@example.org"
    answer = client.post("/signup", data={"username": name, "email": email,
                                          "password": PASSWORD, "csrf_token": csrf(client)})
    assert answer.status_code == 200 and "Check your inbox" in answer.text, answer.text
    link = link_in(mail_to(sink, email, "Verify"), "/verify")
    assert client.get(link).status_code == 200
    token = urlsplit(link).query.removeprefix("token=")
    done = client.post("/verify", data={"token": token, "csrf_token": csrf(client)},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account?notice=verified"
    assert client.cookies.get("pf_session")
    sink.clear()

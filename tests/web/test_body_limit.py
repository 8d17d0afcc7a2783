"""The body limit holds for streamed bytes, not only for a declared Content-Length.

A chunked request declares no length: a 600 MB chunked form used to be read and
parsed whole before the CSRF check refused it (issue 9.3). Against a real uvicorn
server: the 413 comes back while the client is still sending, and the server closed
the connection instead of reading the rest.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from fastapi.testclient import TestClient

from paperfeed.http.guards import FORM_LIMITS, MAX_BODY_BYTES

from ..conftest import LiveServer

SENT_AT_MOST = 256 * 2**20  # what the client would send if nobody stopped it
FORM = {"content-type": "application/x-www-form-urlencoded"}


class Upload:
    """A chunked form body that counts what the client managed to send: fields each
    within the form limits, so only the body limit can stop it."""

    def __init__(self, total: int) -> None:
        self.total, self.sent = total, 0

    def __iter__(self) -> Iterator[bytes]:
        field = 0
        while self.sent < self.total:
            field += 1
            chunk = b"f%d=%s&" % (field, b"a" * (FORM_LIMITS["max_part_size"] // 2))
            self.sent += len(chunk)
            yield chunk


def test_a_chunked_form_over_the_limit_is_refused_while_it_streams(
        live_server: LiveServer) -> None:
    upload = Upload(SENT_AT_MOST)
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        answer = client.post("/login", content=upload, headers=FORM)
    assert answer.status_code == 413, answer.text[:200]
    assert answer.headers["content-type"].startswith("text/html")  # the error page
    assert f"larger than {MAX_BODY_BYTES // 1024} kB" in answer.text
    assert answer.headers["connection"] == "close"
    # The kernel's socket buffers take a few MB before the client notices the close.
    assert upload.sent < SENT_AT_MOST // 8, f"the server read {upload.sent} bytes"
    with httpx.Client(base_url=live_server.url) as client:  # and it still serves
        assert client.get("/login").status_code == 200


def test_a_declared_length_over_the_limit_is_refused_unread(client: TestClient) -> None:
    answer = client.post("/login", content=b"x" * (MAX_BODY_BYTES + 1), headers=FORM)
    assert answer.status_code == 413 and "larger than" in answer.text
    assert client.post("/login", content=b"x", headers=FORM | {"content-length": "x"}
                       ).status_code == 413


def test_forms_are_parsed_with_low_limits(client: TestClient) -> None:
    client.get("/login")
    token = client.cookies["pf_csrf"]
    many = {f"f{i}": "x" for i in range(FORM_LIMITS["max_fields"])} | {"csrf_token": token}
    answer = client.post("/login", data=many)
    assert answer.status_code == 400 and "Too many fields" in answer.text
    huge = {"csrf_token": token, "username": "a" * (FORM_LIMITS["max_part_size"] + 1)}
    assert client.post("/login", data=huge).status_code == 400
    # A form the CSRF check parses (logout has no form fields of its own) has them too.
    assert client.post("/logout", data=many).status_code == 400

"""What no route should see: a request for a host we do not serve, an oversized URL or body.

Checked once, before routing, by the app's middleware; each refusal is an error of
the one tree (errors.py), so it gets the same page or JSON envelope as any other.

The body limit is counted on the bytes as they arrive (`BodyLimit`, an ASGI
middleware wrapping `receive`), not taken from Content-Length: a chunked request
declares no length, and a 600 MB chunked form used to be read and parsed whole
(server RSS 523 → 828 MB) before the CSRF check refused it (issue 9.3). Now the
413 goes out when the 256 kB limit is passed, with `Connection: close` so the
server stops reading what the client is still sending. FastAPI 0.165's own
`max_body_size` answers a declared oversize length with a plain-text 413 from
outside the app's error handler, so the one error shape would be lost.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypedDict
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import BadRequest, PaperfeedError, RequestTooLarge, UrlTooLong

MAX_URL_BYTES = 4096
MAX_BODY_BYTES = 256 * 1024  # the largest form (a hand-entered paper) is ~20 kB


class FormLimits(TypedDict, total=False):  # the shape of FastAPI's `form_limits`
    max_fields: int
    max_files: int
    max_part_size: int


# Every form is parsed with these (FastAPI's Form parameters and the CSRF check alike):
# the largest form has 8 fields; no form takes a file; an abstract is a few kB.
FORM_LIMITS = FormLimits(max_fields=20, max_files=0, max_part_size=64 * 1024)
# The routes that take a file: a BibTeX upload into a collection, as a form on the site
# (web/library_views.py) or as the body in the API (api/collections.py).
# Starlette spools the file part to disk past 1 MB, so the larger limit costs no memory;
# 2 MB holds ~2,000 entries with abstracts (members/library_import.py MAX_ENTRIES).
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
UPLOAD_LIMITS = FormLimits(max_fields=5, max_files=1, max_part_size=64 * 1024)
UPLOAD_PATH = re.compile(r"(/api/collections|/library)/\d{1,18}/import\Z")


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    if "*" in allowed:
        return True
    try:
        name = urlsplit("//" + host).hostname
    except ValueError:
        return False
    return name is not None and name in allowed


def check_request(request: Request, allowed_hosts: frozenset[str]) -> None:
    if not host_allowed(request.headers.get("host", ""), allowed_hosts):
        # Pages never build URLs from Host (absolute URLs come from PAPERFEED_BASE_URL),
        # so this is defence in depth: a forged Host gets nothing rendered for it.
        raise BadRequest("unknown host: set PAPERFEED_BASE_URL or PAPERFEED_TRUSTED_HOSTS "
                         "to the name this site is served as")
    if len(str(request.url)) > MAX_URL_BYTES:
        raise UrlTooLong(f"the URL is longer than {MAX_URL_BYTES} bytes")


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes, declared or streamed, gets a
    413 from `refuse` (the app's one error path) the moment the limit is passed.

    Whoever was reading the body gets RequestTooLarge raised from `receive`; whatever
    the app answers after that is dropped, since the 413 has gone out.
    """

    def __init__(self, app: ASGIApp, refuse: Callable[[Request, PaperfeedError], Response],
                 limit: int = MAX_BODY_BYTES) -> None:
        self.app, self.refuse, self.limit = app, refuse, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit
        if UPLOAD_PATH.match(scope.get("path", "")):
            limit = MAX_UPLOAD_BYTES + 64 * 1024  # the file and the form around it
        error = RequestTooLarge(f"the request body is larger than {limit // 1024} kB")
        length = Request(scope).headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await self._answer(scope, receive, send, error)
        received, answered, started = 0, False, False

        async def counting_receive() -> Message:
            nonlocal received, answered
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                if not started and not answered:
                    answered = True
                    await self._answer(scope, receive, send, error)
                raise error
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise

    async def _answer(self, scope: Scope, receive: Receive, send: Send,
                      error: PaperfeedError) -> None:
        response = self.refuse(Request(scope, receive), error)
        response.headers["Connection"] = "close"  # the rest of the body is never read
        await response(scope, receive, send)

"""What no route should see: a request for a host we do not serve, an oversized URL or body.

Checked once, before routing, by the app's middleware; each refusal is an error of
the one tree (errors.py), so it gets the same page or JSON envelope as any other.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from ..errors import BadRequest, RequestTooLarge, UrlTooLong

MAX_URL_BYTES = 4096
MAX_BODY_BYTES = 256 * 1024  # the largest form (a hand-entered paper) is ~20 kB


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
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"the request body is larger than {MAX_BODY_BYTES // 1024} kB")

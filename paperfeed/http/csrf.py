"""CSRF by the double-submit pattern.

Every visitor gets a random `pf_csrf` cookie; every state-changing request must
echo it, in the `csrf_token` form field (HTML forms) or the `X-CSRF-Token`
header (the JSON API, fetch()). A page on another site can make a browser send
our cookies but cannot read them, so it cannot echo the token. Session cookies
are also SameSite=Lax. The app factory attaches `verify_csrf` to every route
that is not GET, and a test walks the route table to keep it that way.
"""

from __future__ import annotations

import hmac
import re
import secrets

from fastapi import Request
from fastapi.responses import Response

from ..errors import Forbidden
from .guards import FORM_LIMITS

CSRF_COOKIE = "pf_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_MAX_AGE_S = 365 * 86400
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What `secrets.token_urlsafe(24)` makes; a cookie of any other shape was not issued here
# and is replaced, never echoed into a page.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _issued_csrf_cookie(request: Request) -> str:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return cookie if TOKEN_SHAPE.fullmatch(cookie) else ""


def csrf_token(request: Request) -> str:
    """This visitor's token (made on the first request; the middleware sets the cookie)."""
    token = getattr(request.state, "csrf_token", None)
    if token is None:
        token = _issued_csrf_cookie(request) or new_token()
        request.state.csrf_token = token
    return token


def set_csrf_cookie(request: Request, response: Response, *, secure: bool) -> None:
    """Set the cookie if this response handed out a new token (a page with a form)."""
    token = getattr(request.state, "csrf_token", None)
    if token and request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, max_age=CSRF_MAX_AGE_S, httponly=False,
                            samesite="lax", secure=secure)


def renew_csrf_cookie(response: Response, *, secure: bool) -> None:
    """A new session gets a new CSRF token, so one planted before login is useless."""
    response.set_cookie(CSRF_COOKIE, new_token(), max_age=CSRF_MAX_AGE_S,
                        samesite="lax", secure=secure)


async def verify_csrf(request: Request) -> None:
    """Dependency of every state-changing route. Reads the form once; FastAPI reuses it."""
    if request.method in SAFE_METHODS:
        return
    expected = _issued_csrf_cookie(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and "form" in request.headers.get("content-type", ""):
        value = (await request.form(**FORM_LIMITS)).get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("This form has expired or did not come from this site. "
                        "Reload the page and try again.")

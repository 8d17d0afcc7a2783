"""Who is asking, and may they change anything: session cookie, CSRF, login checks.

CSRF uses the double-submit pattern: every visitor gets a random `pf_csrf`
cookie; every state-changing request must echo it, in the `csrf_token` form
field (HTML forms) or the `X-CSRF-Token` header (the JSON API, fetch()). A
page on another site can make a browser send our cookies but cannot read
them, so it cannot echo the token. Session cookies are also SameSite=Lax.
`app.py` attaches `verify_csrf` to every route that is not GET, and a test
walks the route table to keep it that way.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from ..errors import PaperfeedError
from ..members import Accounts
from ..store.community import User

SESSION_COOKIE = "pf_session"
CSRF_COOKIE = "pf_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What `secrets.token_urlsafe(24)` makes; a cookie of any other shape was not issued here
# and is replaced, never echoed into a page.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _issued_csrf_cookie(request: Request) -> str:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return cookie if TOKEN_SHAPE.fullmatch(cookie) else ""


class Forbidden(PaperfeedError):
    """403: a refused CSRF check, or a member without the right role."""


class LoginRequired(PaperfeedError):
    """401 for the API; pages redirect to the login form and come back."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__("Log in first.")
        self.next_path = next_path


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts


def current_user(request: Request) -> User | None:
    if not hasattr(request.state, "user"):
        request.state.user = accounts(request).session_user(request.cookies.get(SESSION_COOKIE))
    return request.state.user


def require_member(request: Request, next_path: str | None = None) -> User:
    user = current_user(request)
    if user is None:
        raise LoginRequired(next_path or request.url.path)
    return user


def require_admin(request: Request) -> User:
    user = require_member(request)
    if not user.is_admin:
        raise Forbidden("Only an admin can do that.")
    return user


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
        response.set_cookie(CSRF_COOKIE, token, max_age=365 * 86400, httponly=False,
                            samesite="lax", secure=secure)


async def verify_csrf(request: Request) -> None:
    """Dependency of every state-changing route. Reads the form once; FastAPI reuses it."""
    if request.method in SAFE_METHODS:
        return
    expected = _issued_csrf_cookie(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD, "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("This form has expired or did not come from this site. "
                        "Reload the page and try again.")


def start_session(request: Request, response: Response, user: User) -> None:
    token = accounts(request).start_session(user)
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, max_age=30 * 86400, httponly=True,
                        samesite="lax", secure=settings.cookie_secure)
    # A new session gets a new CSRF token, so one planted before login is useless.
    response.set_cookie(CSRF_COOKIE, new_token(), max_age=365 * 86400,
                        samesite="lax", secure=settings.cookie_secure)


def end_session(request: Request, response: Response) -> None:
    accounts(request).end_session(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE)


def safe_next(raw: Any, default: str = "/") -> str:
    """A same-site path to return to after login; anything else goes home."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        return default
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or "\\" in raw or len(raw) > 1000:
        return default
    return raw


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"

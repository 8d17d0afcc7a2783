"""Who is asking: the session cookie, the member behind it, login and role checks."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from ..errors import Forbidden, LoginRequired
from ..members import Accounts
from ..models import User
from .csrf import renew_csrf_cookie

SESSION_COOKIE = "pf_session"
SESSION_MAX_AGE_S = 30 * 86400


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


def start_session(request: Request, response: Response, user: User) -> None:
    token = accounts(request).start_session(user)
    secure = request.app.state.settings.cookie_secure
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_MAX_AGE_S, httponly=True,
                        samesite="lax", secure=secure)
    renew_csrf_cookie(response, secure=secure)


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

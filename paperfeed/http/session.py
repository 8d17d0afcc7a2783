"""Who is asking: the session cookie or an API token, the member behind it, login and
role checks."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from ..errors import Forbidden, LoginRequired
from ..members import Accounts
from ..models import User
from .csrf import renew_csrf_cookie, verify_csrf

SESSION_COOKIE = "pf_session"
SESSION_MAX_AGE_S = 30 * 86400

# Declared through FastAPI's security classes so the OpenAPI description names both ways
# in (as alternatives); neither looks anything up itself.
_token = HTTPBearer(auto_error=False, scheme_name="token", description=(
    "A personal API token (account page, or `paperfeed user token NAME`): "
    "`Authorization: Bearer pf_…`. No CSRF header needed."))
_session = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session",
                        description="The site's session cookie; state-changing requests "
                                    "also send the pf_csrf cookie's value as X-CSRF-Token.")


def accounts(request: Request) -> Accounts:
    return request.app.state.accounts


async def api_credentials(
        request: Request,
        token: Annotated[HTTPAuthorizationCredentials | None, Depends(_token)],
        session: Annotated[str | None, Depends(_session)]) -> None:
    """Dependency of every API route (the router's): who is asking is the bearer token
    if one is sent, else the session cookie. With a token present the cookie is not
    looked at, so a bad token never falls back to a session. The token is only noted
    here: `current_user` looks it up in the handler's thread, off the event loop.
    On a read route an unknown token grants nothing and refuses nothing (clients of the
    public API send their own tokens); a member action answers it with a 401."""
    if token is not None:
        request.state.bearer = token.credentials


async def member_credentials(request: Request) -> None:
    """Dependency of every API route that acts as a member: a bearer token (noted by
    `api_credentials`), or the session cookie with the CSRF check. A token is no ambient
    credential (a browser never adds one by itself), so it needs no CSRF token."""
    if getattr(request.state, "bearer", None) is not None:
        return
    try:
        await verify_csrf(request)
    except Forbidden:  # the form wording ("This form has expired") means nothing to a client
        raise Forbidden("missing or wrong X-CSRF-Token header: with the session cookie, send "
                        "the pf_csrf cookie's value in it; or authenticate with a bearer "
                        "token (Authorization: Bearer pf_…)") from None


def current_user(request: Request) -> User | None:
    if not hasattr(request.state, "user"):
        bearer = getattr(request.state, "bearer", None)
        request.state.user = (
            accounts(request).tokens.user_for(bearer) if bearer is not None
            else accounts(request).session_user(request.cookies.get(SESSION_COOKIE)))
    return request.state.user


def require_member(request: Request, next_path: str | None = None,
                   why: str | None = None) -> User:
    """The member asking; else LoginRequired, back to `next_path`, saying `why` (a word
    the login form knows, e.g. "upvote")."""
    user = current_user(request)
    if user is None:
        if getattr(request.state, "bearer", None) is not None:
            raise LoginRequired(message="That API token is not valid: it was revoked, or "
                                        "mistyped. Make a new one on your account page.")
        raise LoginRequired(next_path or request.url.path, why=why)
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

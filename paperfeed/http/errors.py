"""FastAPI's and Starlette's own errors, translated into the tree at the boundary.

Routing (404, 405), form parsing (400) and parameter validation (422, answered as
400 like every other bad input) raise the framework's exceptions; the app's one
error handler sees only `PaperfeedError`s.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from ..errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PaperfeedError,
    RequestTooLarge,
    UrlTooLong,
)

BY_STATUS: dict[int, type[PaperfeedError]] = {cls.status: cls for cls in (
    BadRequest, Forbidden, NotFound, MethodNotAllowed, Conflict, RequestTooLarge, UrlTooLong)}


def as_paperfeed_error(exc: Exception, request: Request) -> PaperfeedError:
    if isinstance(exc, PaperfeedError):
        return exc
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}"
            for err in exc.errors())
        return BadRequest(problems or "invalid request")
    if isinstance(exc, HTTPException):
        return _from_http_exception(exc, request)
    raise TypeError(f"not an error the app translates: {exc!r}")


def _from_http_exception(exc: HTTPException, request: Request) -> PaperfeedError:
    """The router's own 404 and 405 carry only the status phrase ("Not Found"), which the
    error page would print under its title: say what was asked for instead."""
    message = str(exc.detail)
    if exc.status_code == 405:
        allow = tuple((exc.headers or {}).get("Allow", "").replace(" ", "").split(","))
        return method_not_allowed(request, tuple(m for m in allow if m))
    if exc.status_code == 404 and message == HTTPStatus.NOT_FOUND.phrase:
        message = f"There is nothing at {request.url.path}."
    error = BY_STATUS.get(exc.status_code, PaperfeedError)(message)
    error.status = exc.status_code
    return error


def method_not_allowed(request: Request, allow: tuple[str, ...]) -> MethodNotAllowed:
    takes = " or ".join(allow) or "other methods"
    return MethodNotAllowed(f"{request.url.path} does not take {request.method}; "
                            f"it takes {takes}", allow)


def refuse_get_on_post_routes(routes: list[BaseRoute]) -> None:
    """A GET of a POST-only address is a 405 with `Allow`, not whatever route comes next.

    Starlette answers 405 itself only when no later route matches; but paper ids may hold
    a slash, so `GET /papers/ID/vote` fell through to the paper route and was a 404 "no
    paper with id 'ID/vote'". Each POST-only path gets a GET/HEAD route right after it
    that says what the path takes. Call once per route list, after it is complete.
    """
    methods: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, APIRoute):
            methods.setdefault(route.path, set()).update(route.methods or ())
    for path, taken in methods.items():
        if taken & {"GET", "HEAD"}:
            continue
        allow = tuple(sorted(taken))
        position = max(i for i, r in enumerate(routes)
                       if isinstance(r, APIRoute) and r.path == path)

        async def refuse(request: Request, allow: tuple[str, ...] = allow) -> Response:
            raise method_not_allowed(request, allow)

        routes.insert(position + 1, Route(path, refuse, methods=["GET", "HEAD"],
                                          include_in_schema=False))

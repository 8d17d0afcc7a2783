"""FastAPI's and Starlette's own errors, translated into the tree at the boundary.

Routing (404, 405), form parsing (400) and parameter validation (422, answered as
400 like every other bad input) raise the framework's exceptions; the app's one
error handler sees only `PaperfeedError`s.
"""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

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


def as_paperfeed_error(exc: Exception) -> PaperfeedError:
    if isinstance(exc, PaperfeedError):
        return exc
    if isinstance(exc, RequestValidationError):
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}"
            for err in exc.errors())
        return BadRequest(problems or "invalid request")
    if isinstance(exc, HTTPException):
        error = BY_STATUS.get(exc.status_code, PaperfeedError)(str(exc.detail))
        error.status = exc.status_code
        return error
    raise TypeError(f"not an error the app translates: {exc!r}")

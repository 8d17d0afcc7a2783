"""The API's one error shape: `{"error": {"status": N, "message": "..."}}`.

Every error of the tree (errors.py) carries its status; the app's one error
handler sends it here for paths under /api, and documents the shape in OpenAPI.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..errors import PaperfeedError


class ErrorBody(BaseModel):
    status: int
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


def _described(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": text}
            for status, text in statuses.items()}


# What any operation can answer besides its result: refusals of the request guards
# (http/guards.py: 413, 414; an unknown Host is a 400), bad parameters (400: never
# FastAPI's 422), an unknown paper (404), a database too busy to answer in time (503).
ERRORS = _described({
    400: "Bad input: a parameter out of range or malformed, an empty query",
    404: "No such paper (or one only an admin may see)",
    413: "Request body larger than the limit",
    414: "URL longer than the limit",
    503: "The database was too busy to answer in time; retry",
})
MEMBER_ERRORS = {**ERRORS, **_described({
    401: "No member: no session, or an unknown or revoked token",
    403: "A session without the X-CSRF-Token header, or not allowed",
})}


def error_json(error: PaperfeedError) -> JSONResponse:
    return JSONResponse({"error": {"status": error.status, "message": str(error)}},
                        status_code=error.status)

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


ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}}
MEMBER_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 401: {"model": ErrorOut}, 403: {"model": ErrorOut}}


def error_json(error: PaperfeedError) -> JSONResponse:
    return JSONResponse({"error": {"status": error.status, "message": str(error)}},
                        status_code=error.status)

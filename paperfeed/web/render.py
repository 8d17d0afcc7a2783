"""Rendering helpers shared by the pages and the error handlers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..catalog import Catalog
from ..settings import Settings


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    catalog: Catalog = request.app.state.catalog
    new_since = (datetime.now(UTC) - timedelta(hours=settings.new_hours)).isoformat(
        timespec="seconds")
    context.setdefault("active", None)
    context.setdefault("query", "")
    return request.app.state.templates.TemplateResponse(
        request, template,
        {"new_since": new_since, "paper_count": catalog.store.count(), **context},
        status_code=status,
    )


def error_response(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed",
              414: "Request too long", 500: "Something went wrong"}
    return render(request, "error.html", status=status, status_code=status,
                  title=titles.get(status, "Error"), message=message)

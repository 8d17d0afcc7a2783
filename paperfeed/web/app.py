"""The ASGI application: factory, route table, one error path with two shapes."""

from __future__ import annotations

import time
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..api import routes as api
from ..catalog import Catalog
from ..errors import BadRequest, NotFound, PaperfeedError
from ..settings import Settings
from . import views
from .render import error_response

MAX_URL_BYTES = 4096
REFRESH_EVERY_S = 1.0


def create_app(settings: Settings, catalog: Catalog | None = None) -> FastAPI:
    catalog = catalog or Catalog(settings)
    app = FastAPI(
        title="paperfeed",
        summary="Research papers: daily lists, hybrid search, similar papers.",
        version="0.1.0",
        openapi_url="/api/openapi.json",
        docs_url=None,  # Swagger UI loads its assets from a CDN; /api is rendered here instead
        redoc_url=None,
    )
    app.state.catalog = catalog
    app.state.settings = settings
    folder = resources.files("paperfeed.web")
    templates = Jinja2Templates(directory=str(folder / "templates"))
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(folder / "static")), name="static")

    # Route table: HTML pages, then the JSON API. Date routes come before the
    # catch-all paper route because old-style arXiv ids contain a slash.
    app.add_api_route("/", views.home, methods=["GET"], response_class=HTMLResponse,
                      include_in_schema=False)
    app.add_api_route("/papers/{kind}", views.latest, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/papers/date/{day}", views.by_day, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/papers/week/{week}", views.by_week, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/papers/month/{month}", views.by_month, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/papers/{paper_id:path}", views.paper, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/search", views.search, methods=["GET"], response_class=HTMLResponse,
                      include_in_schema=False)
    app.add_api_route("/subscribe", views.subscribe, methods=["GET"],
                      response_class=HTMLResponse, include_in_schema=False)
    app.add_api_route("/api", views.api_docs, methods=["GET"], response_class=HTMLResponse,
                      include_in_schema=False)
    app.add_api_route("/healthz", views.healthz, methods=["GET"], include_in_schema=False)
    app.include_router(api.router, prefix="/api")

    _install_error_handlers(app)
    _install_middleware(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PaperfeedError)
    async def paperfeed_error(request: Request, exc: PaperfeedError) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400 if isinstance(exc, BadRequest) else 500
        return error_response(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'][1:]) or 'request'}: {err['msg']}"
            for err in exc.errors())
        return error_response(request, 400, problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(request, exc.status_code, str(exc.detail))


def _install_middleware(app: FastAPI) -> None:
    last_refresh = [0.0]

    @app.middleware("http")
    async def guard_and_refresh(request: Request, call_next: Any) -> Response:
        if len(str(request.url)) > MAX_URL_BYTES:
            return error_response(request, 414, f"the URL is longer than {MAX_URL_BYTES} bytes")
        now = time.monotonic()
        if now - last_refresh[0] > REFRESH_EVERY_S:
            # Another process may have ingested: pick up its index checkpoint.
            last_refresh[0] = now
            request.app.state.catalog.refresh()
        return await call_next(request)

"""The ASGI application: factory, route table, one error path with two shapes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..api import routes as api
from ..catalog import Catalog
from ..errors import BadRequest, NotFound, PaperfeedError
from ..members import Accounts, TooManyAttempts
from ..settings import Settings
from . import account_views, community_views, digest_views, feed_views, views
from .page_cache import PageCache
from .render import error_response
from .session import Forbidden, LoginRequired, set_csrf_cookie, verify_csrf

MAX_URL_BYTES = 4096
MAX_BODY_BYTES = 256 * 1024  # the largest form (a hand-entered paper) is ~20 kB
REFRESH_EVERY_S = 1.0


def create_app(settings: Settings, catalog: Catalog | None = None) -> FastAPI:
    catalog = catalog or Catalog(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are CPU-bound Python: 40 threads (anyio's default) on 2 cores spend
        # their time contending for the GIL (a page took 19-36 ms instead of 3.4 ms).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        yield

    app = FastAPI(
        lifespan=lifespan,
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
    templates.env.auto_reload = False  # no stat() of every template on every render
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(folder / "static")), name="static")

    app.state.accounts = Accounts(catalog.community, settings)
    app.state.page_cache = PageCache()
    _add_routes(app)
    app.include_router(api.router, prefix="/api")

    _install_error_handlers(app)
    _install_middleware(app)
    return app


def _add_routes(app: FastAPI) -> None:
    """The route table. Every route that changes state gets the CSRF check.

    Date routes come before the catch-all paper route because old-style arXiv
    ids contain a slash.
    """
    def page(path: str, endpoint: Any, methods: tuple[str, ...] = ("GET",),
             *, csrf: bool = True) -> None:
        changes = any(m not in ("GET", "HEAD") for m in methods)
        app.add_api_route(path, endpoint, methods=list(methods), include_in_schema=False,
                          response_class=HTMLResponse,
                          dependencies=[Depends(verify_csrf)] if changes and csrf else None)

    post = ("POST",)
    page("/", views.home)
    page("/trending", views.trending)
    page("/papers/{kind}", views.latest)
    page("/papers/date/{day}", views.by_day)
    page("/papers/week/{week}", views.by_week)
    page("/papers/month/{month}", views.by_month)
    page("/papers/{paper_id:path}/vote", community_views.vote_form, post)
    page("/papers/{paper_id:path}/hide", community_views.hide, post)
    page("/papers/{paper_id:path}", views.paper)
    page("/search", views.search)
    page("/submit", community_views.submit_form)
    page("/submit", community_views.submit, post)
    page("/submit/manual", community_views.submit_manual, post)
    page("/members/{username}", community_views.member)
    page("/signup", account_views.signup_form)
    page("/signup", account_views.signup, post)
    page("/login", account_views.login_form)
    page("/login", account_views.login, post)
    page("/logout", account_views.logout, post)
    page("/forgot", account_views.forgot_form)
    page("/forgot", account_views.forgot, post)
    page("/reset", account_views.reset_form)
    page("/reset", account_views.reset, post)
    page("/feeds/daily.atom", feed_views.daily_feed)
    page("/feeds/trending.atom", feed_views.trending_feed)
    page("/feeds/search.atom", feed_views.search_feed)
    page("/feeds/members/{username}/upvotes.atom", feed_views.member_feed)
    page("/subscribe", digest_views.subscribe_form)
    page("/subscribe", digest_views.subscribe, post)
    page("/subscribe/confirm", digest_views.confirm)
    page("/unsubscribe", digest_views.unsubscribe_page)
    # RFC 8058 one-click: mail providers POST here with neither session nor CSRF cookie;
    # the signed token in the URL is the authority. The only POST without the CSRF check.
    page("/unsubscribe", digest_views.unsubscribe, post, csrf=False)
    page("/subscriptions", digest_views.manage)
    page("/subscriptions/{subscription_id}/status", digest_views.change, post)
    page("/subscriptions/{subscription_id}/preview", digest_views.preview_mine)
    page("/digest/preview", digest_views.preview_by_token)
    page("/api", views.api_docs)
    app.add_api_route("/healthz", views.healthz, methods=["GET"], include_in_schema=False)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api"):
            return error_response(request, 401, "log in first: this needs a member's session")
        return RedirectResponse(f"/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return error_response(request, 403, str(exc))

    @app.exception_handler(TooManyAttempts)
    async def too_many(request: Request, exc: TooManyAttempts) -> Response:
        response = error_response(request, 429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

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


def _host_allowed(host: str, allowed: frozenset[str]) -> bool:
    if "*" in allowed:
        return True
    try:
        name = urlsplit("//" + host).hostname
    except ValueError:
        return False
    return name is not None and name in allowed


def _install_middleware(app: FastAPI) -> None:
    last_refresh = [0.0]

    allowed_hosts = app.state.settings.allowed_hosts

    @app.middleware("http")
    async def guard_and_refresh(request: Request, call_next: Any) -> Response:
        if not _host_allowed(request.headers.get("host", ""), allowed_hosts):
            # Pages never build URLs from Host (absolute URLs come from PAPERFEED_BASE_URL),
            # so this is defence in depth: a forged Host gets nothing rendered for it.
            return error_response(request, 400, "unknown host: set PAPERFEED_BASE_URL or "
                                  "PAPERFEED_TRUSTED_HOSTS to the name this site is served as")
        if len(str(request.url)) > MAX_URL_BYTES:
            return error_response(request, 414, f"the URL is longer than {MAX_URL_BYTES} bytes")
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return error_response(request, 413, f"the request body is larger than "
                                  f"{MAX_BODY_BYTES // 1024} kB")
        now = time.monotonic()
        if now - last_refresh[0] > REFRESH_EVERY_S:
            # Another process may have ingested: pick up its index checkpoint.
            last_refresh[0] = now
            request.app.state.catalog.refresh()
        response = await call_next(request)
        set_csrf_cookie(request, response, secure=request.app.state.settings.cookie_secure)
        return response

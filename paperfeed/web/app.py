"""The ASGI application: factory, route table, one error path with two shapes.

The site is where the pages (`web/`) and the JSON API (`api/`) meet: `create_app`
mounts the API's router, so `web` may import `api`, never the other way round;
what both need about the request (session, CSRF, guards) is in `http/`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp

from ..api import admin as api_admin
from ..api import atlas as api_atlas
from ..api import authors as api_authors
from ..api import collections as api_collections
from ..api import comments as api_comments
from ..api import foryou as api_foryou
from ..api import markdown as api_markdown
from ..api import openapi as api_openapi
from ..api import routes as api
from ..api.errors import error_json
from ..catalog import Catalog
from ..discover.foryou import Recommender
from ..errors import LoginRequired, MethodNotAllowed, PaperfeedError
from ..http.csrf import set_csrf_cookie, verify_csrf
from ..http.errors import as_paperfeed_error, refuse_get_on_post_routes
from ..http.guards import FORM_LIMITS, UPLOAD_LIMITS, BodyLimit, check_request
from ..http.headers import SecurityHeaders
from ..jobs.follower import IndexFollower
from ..mail import MailQueue
from ..members import Accounts
from ..settings import Settings
from . import (
    account_page,
    account_views,
    admin_page,
    author_views,
    comment_views,
    community_views,
    digest_views,
    feed_views,
    foryou_views,
    library_views,
    map_views,
    views,
)
from .page_cache import PageCache
from .render import error_page

API_PREFIX = "/api"
MAIL_DRAIN_S = 10.0  # on shutdown, account emails still queued get this long to go out


class _Site(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        """The security headers wrap everything, Starlette's bare 500 page included."""
        return SecurityHeaders(super().build_middleware_stack(),
                               https_only=self.state.settings.cookie_secure)


def create_app(settings: Settings, catalog: Catalog | None = None) -> FastAPI:
    catalog = catalog or Catalog(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are CPU-bound Python: 40 threads (anyio's default) on 2 cores spend
        # their time contending for the GIL (a page took 19-36 ms instead of 3.4 ms).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        # Papers stored by other processes (or by a request that could not index) become
        # searchable within a second; indexes re-open in this thread, never on the loop.
        follower = IndexFollower(catalog).start()
        yield
        follower.stop()
        await anyio.to_thread.run_sync(app.state.mail.wait_idle, MAIL_DRAIN_S)

    app = _Site(
        lifespan=lifespan,
        title="paperfeed",
        summary="Research papers: daily lists, hybrid search, similar papers.",
        version="0.1.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI loads its assets from a CDN; /api is rendered here instead
        redoc_url=None,
        form_limits=FORM_LIMITS,
    )
    app.state.catalog = catalog
    app.state.settings = settings
    folder = resources.files("paperfeed.web")
    templates = Jinja2Templates(directory=str(folder / "templates"))
    templates.env.auto_reload = False  # no stat() of every template on every render
    templates.env.filters["author_url"] = author_views.author_url
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(folder / "static")), name="static")

    app.state.accounts = Accounts(catalog.store.members, settings)
    app.state.mail = MailQueue(settings)  # account emails, sent off the request
    app.state.page_cache = PageCache()
    app.state.recommender = Recommender(catalog)  # fitted For-you models, per member
    app.include_router(api_markdown.router)  # before the page route /papers/{id} takes it
    _add_routes(app)
    app.include_router(api_collections.router, prefix=API_PREFIX)  # before /papers/{id}
    app.include_router(api_foryou.router, prefix=API_PREFIX)  # before /papers/{id}
    app.include_router(api_comments.router, prefix=API_PREFIX)  # before /papers/{id}
    app.include_router(api_authors.router, prefix=API_PREFIX)
    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(api_admin.router, prefix=API_PREFIX)
    app.include_router(api_atlas.router, prefix=API_PREFIX)
    api_openapi.describe(app, settings.max_limit)
    refuse_get_on_post_routes(app.router.routes)  # the API's own: in api/routes.py

    _install_error_handler(app)
    _install_middleware(app)
    return app


def _add_routes(app: FastAPI) -> None:
    """The route table. Every route that changes state gets the CSRF check.

    Date routes come before the catch-all paper route because old-style arXiv
    ids contain a slash.
    """
    def page(path: str, endpoint: Any, methods: tuple[str, ...] = ("GET",),
             *, csrf: bool = True, form_limits: Any = None) -> None:
        changes = any(m not in ("GET", "HEAD") for m in methods)
        app.add_api_route(path, endpoint, methods=list(methods), include_in_schema=False,
                          response_class=HTMLResponse, form_limits=form_limits,
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
    page("/papers/{paper_id:path}/save", library_views.save_form, post)
    page("/papers/{paper_id:path}/collections", library_views.paper_collections)
    page("/papers/{paper_id:path}/rating", foryou_views.rate_form, post)
    page("/papers/{paper_id:path}/comments.atom", comment_views.feed)
    page("/papers/{paper_id:path}/comments", comment_views.post, post)
    for action in ("edit", "delete", "hide"):
        page(f"/comments/{{comment_id:int}}/{action}", getattr(comment_views, action), post)
    page("/papers/{paper_id:path}", views.paper)
    page("/search", views.search)
    page("/map", map_views.map_page)
    page("/trends", map_views.trends)
    page("/submit", community_views.submit_form)
    page("/submit", community_views.submit, post)
    page("/submit/manual", community_views.submit_manual, post)
    page("/members/{username}", community_views.member)
    page("/authors", author_views.search)
    page("/authors/{name:path}", author_views.author)
    _add_library_routes(page)
    page("/signup", account_views.signup_form)
    page("/signup", account_views.signup, post)
    page("/login", account_views.login_form)
    page("/login", account_views.login, post)
    page("/logout", account_views.logout, post)
    page("/forgot", account_views.forgot_form)
    page("/forgot", account_views.forgot, post)
    page("/reset", account_views.reset_form)
    page("/reset", account_views.reset, post)
    page("/account", account_page.account)
    page("/account/verification", account_page.send_verification, post)
    page("/account/password", account_page.change_password, post)
    page("/account/tokens", account_page.create_token, post)
    page("/account/tokens/{token_id}/revoke", account_page.revoke_token, post)
    page("/verify", account_page.verify_form)
    page("/verify", account_page.verify, post)
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
    page("/admin", admin_page.admin)
    page("/for-you", foryou_views.for_you)
    page("/for-you/rate", foryou_views.rate_round)
    page("/for-you/categories", foryou_views.pick_categories, post)
    page("/for-you/digest", foryou_views.set_digest, post)
    page("/for-you/feeds", foryou_views.new_feed, post)
    page("/for-you/feeds/{feed_id}/revoke", foryou_views.revoke_feed, post)
    page("/for-you/feed/{token}.atom", foryou_views.private_feed)
    page("/api", views.api_docs)
    app.add_api_route("/healthz", views.healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/favicon.ico", views.favicon, methods=["GET"], include_in_schema=False)


def _add_library_routes(page: Any) -> None:
    """A member's collections; exports before the pages (`/library/3.bib` is not a page)."""
    post = ("POST",)
    page("/library", library_views.library)
    page("/library", library_views.create, post)
    page("/library/{collection_id:int}.bib", library_views.export_bib)
    page("/library/{collection_id:int}.json", library_views.export_json)
    page("/library/{collection_id:int}", library_views.collection_page)
    for action in ("rename", "delete", "share", "unshare"):
        page(f"/library/{{collection_id:int}}/{action}", getattr(library_views, action), post)
    page("/library/{collection_id:int}/add", library_views.add_paper, post)
    page("/library/{collection_id:int}/remove", library_views.remove_paper, post)
    # The one form with a file: its own limits (the CSRF check reads the same parsed form).
    page("/library/{collection_id:int}/import", library_views.import_file, post,
         form_limits=UPLOAD_LIMITS)
    page("/c/{token}.bib", library_views.shared_bib)
    page("/c/{token}.json", library_views.shared_json)
    page("/c/{token}", library_views.shared_page)


def error_response(request: Request, error: PaperfeedError) -> Response:
    """The one error path: the JSON envelope under /api, else the error page.

    A page that needs a member sends a visitor to the login form and back instead.
    """
    if request.url.path.startswith(API_PREFIX):
        response: Response = error_json(error)
        if isinstance(error, LoginRequired):  # RFC 6750: say how to authenticate
            response.headers["WWW-Authenticate"] = 'Bearer realm="paperfeed"'
    elif isinstance(error, LoginRequired):
        why = f"&why={quote(error.why)}" if error.why else ""
        return RedirectResponse(f"/login?next={quote(error.next_path)}{why}", status_code=303)
    else:
        response = error_page(request, error)
    if isinstance(error, MethodNotAllowed) and error.allow:
        response.headers["Allow"] = ", ".join(error.allow)
    if error.retry_after_s:
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def _install_error_handler(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        return error_response(request, as_paperfeed_error(exc, request))

    for kind in (PaperfeedError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, handle)


def _install_middleware(app: FastAPI) -> None:
    allowed_hosts = app.state.settings.allowed_hosts

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        try:
            check_request(request, allowed_hosts)
        except PaperfeedError as exc:
            return error_response(request, exc)
        response = await call_next(request)
        set_csrf_cookie(request, response, secure=request.app.state.settings.cookie_secure)
        return response

    app.add_middleware(BodyLimit, refuse=error_response)  # outermost: sees bytes first

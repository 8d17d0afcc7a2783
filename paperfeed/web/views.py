"""HTML pages. Each handler gathers data from `discover` and renders a template."""

from __future__ import annotations

import math
import os
from importlib import resources
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from ..catalog import Catalog
from ..discover import atlas, daily
from ..discover.relevance import floored_page, newest_close
from ..discover.search import MODES, Hit, newest, parse_filters
from ..discover.search import search as run_search
from ..discover.similar import shared_terms, similar
from ..discover.trending import trending as rank_trending
from ..discover.visibility import lookup
from ..errors import BadRequest, NotFound
from ..http.session import current_user
from ..members.comments import render as render_comment
from ..members.comments import threads
from ..models import StoredPaper, Submission
from ..store import MAX_COMMENT
from .map_views import bars, neighbourhood
from .render import render, vote_state

FAVICON = str(resources.files("paperfeed.web") / "static" / "favicon.svg")


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _page_number(raw: str | None) -> int:
    if raw is None:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise BadRequest(f"p={raw!r} is not a page number")
    return int(raw)


def _render_period(request: Request, period: daily.Period | None, *,
                   latest: bool = False) -> Response:
    """`latest`: the page is "the latest day/week/month with papers", and says so."""
    return request.app.state.page_cache.page(
        request, lambda: _period_page(request, period, latest))


def _period_page(request: Request, period: daily.Period | None,
                 latest: bool) -> HTMLResponse:
    catalog = _catalog(request)
    page_size = request.app.state.settings.page_size
    page = _page_number(request.query_params.get("p"))
    sort = daily.parse_sort(request.query_params.get("sort"))
    category = _category(request.query_params.get("category"))
    papers: list[StoredPaper] = []
    neighbours = None
    total = daily.count(catalog, period, category) if period else 0
    pages = max(1, math.ceil(total / page_size))
    if page > pages:  # a URL naming no page is an error, not an empty "Page 99 of 3"
        raise NotFound(f"there is no page {page}: this list has {pages} "
                       f"page{'' if pages == 1 else 's'}")
    if period:
        papers = daily.listing(catalog, period.start, period.end, page_size,
                               (page - 1) * page_size, sort=sort, category=category)
        neighbours = daily.neighbours(catalog, period)
    return render(request, "daily.html", period=period, papers=papers, total=total,
                  neighbours=neighbours, page=page, pages=pages, latest=latest,
                  active=period.kind if period else "day", sort=sort, category=category,
                  categories=catalog.store.papers.categories_between(
                      period.start, period.end) if period else [],
                  **vote_state(request, papers))


def _category(raw: str | None) -> str | None:
    """A daily list's category filter: one arXiv category (`cs.LG`), or none."""
    if not raw:
        return None
    if len(raw) > 40 or not raw.replace(".", "").replace("-", "").isalnum():
        raise BadRequest(f"category={raw[:40]!r} is not a category name (e.g. cs.LG)")
    return raw


def trending(request: Request) -> Response:
    return request.app.state.page_cache.page(request, lambda: _trending_page(request))


def _trending_page(request: Request) -> HTMLResponse:
    catalog = _catalog(request)
    settings = request.app.state.settings
    page = _page_number(request.query_params.get("p"))
    ranked = rank_trending(catalog, settings.page_size + 1, (page - 1) * settings.page_size)
    papers = catalog.store.papers.get_many([t.paper_key for t in ranked[:settings.page_size]])
    if page > 1 and not papers:
        raise NotFound(f"there is no page {page}: the trending list is shorter")
    return render(request, "trending.html", papers=papers, page=page,
                  more=len(ranked) > settings.page_size, active="trending",
                  half_life=settings.trending_half_life_hours, **vote_state(request, papers))


def home(request: Request) -> Response:
    return _render_period(request, daily.latest_period(_catalog(request), "day"), latest=True)


def latest(request: Request, kind: str) -> Response:
    """The latest week or month; `/papers/date?day=…` is the date picker's jump to a day."""
    if kind == "date" and request.query_params.get("day"):
        period = daily.parse_period(day=request.query_params["day"])
        assert period is not None
        params = {k: v for k, v in request.query_params.items() if k in ("sort", "category")}
        return RedirectResponse(f"/papers/date/{period.key}"
                                + (f"?{urlencode(params)}" if params else ""), status_code=303)
    if kind == "week":
        return _render_period(request, daily.latest_period(_catalog(request), "week"),
                              latest=True)
    if kind == "month":
        return _render_period(request, daily.latest_period(_catalog(request), "month"),
                              latest=True)
    return paper(request, kind)


def by_day(request: Request, day: str) -> Response:
    return _render_period(request, daily.parse_period(day=day))


def by_week(request: Request, week: str) -> Response:
    return _render_period(request, daily.parse_period(week=week))


def by_month(request: Request, month: str) -> Response:
    return _render_period(request, daily.parse_period(month=month))


def paper(request: Request, paper_id: str) -> Response:
    """Shared by every visitor and member (page_cache); admins, who get moderation
    controls, and a hidden submission's page (admins only) are rendered per request."""
    catalog = _catalog(request)
    user = current_user(request)
    found = lookup(catalog, paper_id, user)  # admins see a hidden one
    submission = catalog.store.community.submission(found.key)
    if (user and user.is_admin) or (submission and submission.hidden):
        return _paper_page(request, found, submission)
    return request.app.state.page_cache.page(
        request, lambda: _paper_page(request, found, submission))


def _paper_page(request: Request, found: StoredPaper,
                submission: Submission | None) -> HTMLResponse:
    catalog = _catalog(request)
    related = similar(catalog, found, 10)
    why = shared_terms(catalog, found, [other for other, _ in related])
    user = current_user(request)
    comments = catalog.store.comments.thread(found.key, moderator=bool(user and user.is_admin))
    return render(request, "paper.html", paper=found, similar=related, why=why,
                  neighbourhood=neighbourhood(catalog, found),
                  sources=catalog.store.papers.sources_of(found.key), submission=submission,
                  notice=request.query_params.get("notice"), threads=threads(comments),
                  comment_count=sum(1 for c in comments if not (c.deleted or c.hidden)),
                  comment_html=render_comment, max_comment=MAX_COMMENT,
                  **vote_state(request, [found, *(other for other, _ in related)]))


SEARCH_SORTS = ("relevance", "date")


def search(request: Request, q: str = "", mode: str = "hybrid", category: str = "",
           p: str | None = None, sort: str = "relevance") -> HTMLResponse:
    """Without a query or a filter this is the search page itself, with a prompt: an
    empty query is no error here (the API, which has no page to show, says 400).
    `sort=date`: the close matches, newest first, counted (discover.relevance.newest_close)."""
    catalog = _catalog(request)
    q = q.strip()
    params = request.query_params
    page = _page_number(p)
    page_size = request.app.state.settings.page_size
    offset = (page - 1) * page_size
    error = None
    hits: list[Hit] = []
    total = None  # known for a date-sorted search, and on the last page of the others
    chart: dict = {}
    try:
        if sort not in SEARCH_SORTS:
            raise BadRequest(f"sort={sort[:20]!r}: use relevance or date")
        filters = parse_filters(params.get("from"), params.get("to"), category)
        if q or filters.active:
            chart = bars(atlas.trend(catalog, q, filters))
        if q and sort == "date":
            found = newest_close(catalog, q, mode=mode, filters=filters)
            total, hits = len(found), found[offset:offset + page_size + 1]
        elif q:
            hits = floored_page(catalog, q, run_search(
                catalog, q, limit=page_size + 1, offset=offset, mode=mode,
                filters=filters), mode=mode)
        elif filters.active:  # no query: the newest papers that pass the filter
            hits = newest(catalog, filters, page_size + 1, offset)
    except BadRequest as exc:
        error = str(exc)
    more = len(hits) > page_size
    if total is None and not more and hits:
        total = offset + len(hits)
    next_params = {k: v for k, v in params.items() if k != "p"} | {"p": str(page + 1)}
    sort_params = {k: v for k, v in params.items() if k not in ("p", "sort")}
    return render(request, "search.html", status=400 if error else 200, query=q,
                  hits=hits[:page_size], first=offset + 1, total=total, sort=sort,
                  sort_urls={s: "/search?" + urlencode(sort_params | {"sort": s})
                             for s in SEARCH_SORTS},
                  mode=mode if mode in MODES else "hybrid", modes=MODES, error=error,
                  date_from=params.get("from"), date_to=params.get("to"), category=category,
                  categories=catalog.store.papers.categories(), more=more,
                  next_url="/search?" + urlencode(next_params), chart=chart,
                  **vote_state(request, [h.paper for h in hits[:page_size]]))


def favicon(request: Request) -> FileResponse:
    """/favicon.ico, which browsers and crawlers ask for whatever the page links: the SVG."""
    return FileResponse(FAVICON, media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


def api_docs(request: Request) -> HTMLResponse:
    return render(request, "api.html", spec=request.app.openapi())


def healthz(request: Request) -> JSONResponse:
    catalog = _catalog(request)
    return JSONResponse({"papers": catalog.store.papers.count(), "pid": os.getpid(),
                         "indexed": catalog.indexes.semantic.stamp.count,
                         "embedder": catalog.indexes.semantic.stamp.model})

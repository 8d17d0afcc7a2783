"""JSON API: daily papers, search, one paper, similar papers, trending, votes.

The shapes are the public daily-papers API's (shapes.py), so its clients work against
paperfeed by changing only the endpoint; so are its query parameters (`date`, `week`,
`month`, `submitter`, `sort=publishedAt|trending`, `p`, `limit`, `q`). Who is asking is
read once for every route (`api_credentials`: a bearer token, else the session), so an
admin's token opens a hidden paper here as the session does on the site.
Errors are always `{"error": {"status": N, "message": "..."}}`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from ..catalog import Catalog
from ..discover import daily
from ..discover.relevance import floored_page
from ..discover.search import MAX_QUERY_CHARS, MODES, parse_filters, required_query
from ..discover.search import search as run_search
from ..discover.similar import similar as find_similar
from ..discover.trending import trending as rank_trending
from ..discover.visibility import lookup
from ..errors import BadRequest
from ..http.errors import refuse_get_on_post_routes
from ..http.session import api_credentials, current_user, member_credentials, require_member
from ..models import StoredPaper
from .errors import ERRORS, MEMBER_ERRORS
from .shapes import (
    ListItem,
    Marks,
    PaperOut,
    RankedItem,
    TrendingItem,
    list_item,
    paper_out,
    search_items,
    similar_items,
)

router = APIRouter(tags=["papers"], dependencies=[Depends(api_credentials)])

# The names a client may send, as enums in the OpenAPI description. `publishedAt` is
# the public API's name for paperfeed's `newest` (the day listed, newest first).
Sort = Literal["trending", "newest", "publishedAt"]
Mode = Literal["hybrid", "keyword", "semantic"]
SORT_ALIASES = {"publishedAt": "newest"}
assert set(get_args(Sort)) == {*daily.SORTS, *SORT_ALIASES}, "Sort must name daily.SORTS"
assert get_args(Mode) == MODES, "Mode must name discover.search.MODES"
# With a submitter and no period, the list spans every day (the public API's meaning).
ALL_DAYS = daily.Period("month", date(1, 1, 1), date(9999, 12, 31))


class VoteOut(BaseModel):
    id: str
    upvotes: int
    voted: bool


def _limit(default: int) -> Any:
    """`limit`, bounded by PAPERFEED_MAX_LIMIT: read per request, since `Query(le=...)` is
    fixed at import. `openapi.describe` puts the bound into the OpenAPI description."""
    def limit(request: Request, limit: Annotated[int, Query(
            ge=1, description="Items per page, at most PAPERFEED_MAX_LIMIT")] = default) -> int:
        most: int = request.app.state.settings.max_limit
        if limit > most:
            raise BadRequest(f"limit: Input should be less than or equal to {most}")
        return limit
    return Depends(limit)


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _items(request: Request, papers: list[StoredPaper]) -> list[dict]:
    marks = Marks.of(_catalog(request), papers)
    return [list_item(paper, marks) for paper in papers]


Page = Annotated[int, Query(ge=0, le=100_000, description="Page, from 0")]


@router.get("/daily_papers", response_model=list[ListItem], responses=ERRORS,
            summary="Papers of a day, week or month (default: the latest day with papers)")
def daily_papers(request: Request,
                 date: Annotated[str | None, Query(
                     description="A day, e.g. 2025-08-01 (give one of date, week, month)"
                 )] = None,
                 week: Annotated[str | None, Query(
                     description="An ISO week, e.g. 2025-W31")] = None,
                 month: Annotated[str | None, Query(description="A month, e.g. 2025-08")] = None,
                 submitter: Annotated[str | None, Query(
                     max_length=100, description="Only papers this member submitted "
                     "(their username); without a period: on any day")] = None,
                 limit: int = _limit(50), p: Page = 0,
                 sort: Annotated[Sort, Query(description=(
                     "trending: most upvoted first; newest (or publishedAt): "
                     "the day listed, newest first"))] = daily.DEFAULT_SORT,  # type: ignore[assignment]
                 ) -> list[dict]:
    catalog = _catalog(request)
    period = daily.parse_period(day=date, week=week, month=month)
    if period is None:
        period = ALL_DAYS if submitter else daily.latest_period(catalog)
    if period is None:
        return []
    papers = daily.listing(catalog, period.start, period.end, limit, p * limit,
                           sort=SORT_ALIASES.get(sort, sort), submitter=submitter)
    return _items(request, papers)


@router.get("/trending", response_model=list[TrendingItem], responses=ERRORS,
            summary="Trending: upvotes decayed with the paper's age (see README)")
def trending_papers(request: Request, limit: int = _limit(50), p: Page = 0) -> list[dict]:
    catalog = _catalog(request)
    ranked = rank_trending(catalog, limit, p * limit)
    found = {paper.key: paper for paper in
             catalog.store.papers.get_many([t.paper_key for t in ranked])}
    papers = [found[t.paper_key] for t in ranked if t.paper_key in found]
    scores = {t.paper_key: round(t.score, 4) for t in ranked}
    return [{**item, "score": scores[paper.key]}
            for paper, item in zip(papers, _items(request, papers), strict=True)]


@router.post("/papers/{paper_id:path}/vote", response_model=VoteOut, responses=MEMBER_ERRORS,
             dependencies=[Depends(member_credentials)],
             summary="Upvote: toggle, or set with ?up=true|false. As a member: a personal "
                     "token (Authorization: Bearer), or the session cookie with the "
                     "X-CSRF-Token header (the pf_csrf cookie's value)")
def vote(request: Request, paper_id: str, up: bool | None = None) -> VoteOut:
    paper = _get(request, paper_id)
    user = require_member(request)
    state = _catalog(request).store.community.vote(user.id, paper.key, up)
    return VoteOut(id=paper.id, upvotes=state.votes, voted=state.voted)


@router.get("/papers/search", response_model=list[RankedItem], responses=ERRORS,
            summary="Hybrid (BM25 + semantic) search; highlights are HTML with <mark>",
            description="Ranked hits, best first; an empty list when nothing clears the "
                        "relevance floor (no close matches).")
def search_papers(request: Request, q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)],
                  limit: int = _limit(20), mode: Mode = "hybrid",
                  date_from: Annotated[str | None, Query(alias="from")] = None,
                  date_to: Annotated[str | None, Query(alias="to")] = None,
                  category: str | None = None) -> list[RankedItem]:
    filters = parse_filters(date_from, date_to, category)
    catalog, query = _catalog(request), required_query(q)
    hits = run_search(catalog, query, limit=limit, mode=mode, filters=filters)
    return search_items(catalog, floored_page(catalog, query, hits, mode=mode))


def _get(request: Request, paper_id: str) -> StoredPaper:
    """A paper as this visitor may see it (a hidden one only for admins)."""
    return lookup(_catalog(request), paper_id, current_user(request))


@router.get("/papers/{paper_id:path}/similar", response_model=list[RankedItem],
            responses=ERRORS,
            summary="Papers most similar to a paper (embedding neighbours, shared key terms)")
def similar_papers(request: Request, paper_id: str, limit: int = _limit(10)
                   ) -> list[RankedItem]:
    paper = _get(request, paper_id)
    catalog = _catalog(request)
    return similar_items(catalog, paper, find_similar(catalog, paper, limit))


@router.get("/papers/{paper_id:path}", response_model=PaperOut, responses=ERRORS,
            summary="One paper, by paperfeed id or arXiv id")
def get_paper(request: Request, paper_id: str) -> PaperOut:
    paper = _get(request, paper_id)
    return paper_out(paper, Marks.of(_catalog(request), [paper]))


refuse_get_on_post_routes(router.routes)  # GET .../vote: a 405, not "no paper 'ID/vote'"

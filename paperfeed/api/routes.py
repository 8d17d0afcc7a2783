"""JSON API: daily papers, search, one paper, similar papers.

Shapes follow the public daily-papers APIs (a list of `{paper: {...}}` items,
`summary` for the abstract, `publishedAt`) so existing scripts port easily;
every list item also carries `id`, `title` and, where ranked, `score`.
Errors are always `{"error": {"status": N, "message": "..."}}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel

from ..catalog import Catalog
from ..discover import daily
from ..discover.search import MAX_QUERY_CHARS, MODES, Hit, parse_filters, required_query
from ..discover.search import search as run_search
from ..discover.similar import similar as find_similar
from ..discover.trending import trending as rank_trending
from ..discover.visibility import lookup
from ..errors import BadRequest
from ..http.errors import refuse_get_on_post_routes
from ..http.session import current_user, member_credentials, require_member
from ..models import StoredPaper
from .errors import ERRORS, MEMBER_ERRORS

router = APIRouter(tags=["papers"])


class Author(BaseModel):
    name: str


class PaperOut(BaseModel):
    id: str
    title: str
    summary: str
    authors: list[Author]
    publishedAt: str | None
    updatedAt: str | None
    categories: list[str]
    arxivId: str | None
    doi: str | None
    version: int | None
    links: dict[str, str]


class ListItem(BaseModel):
    id: str
    title: str
    publishedAt: str | None
    upvotes: int
    paper: PaperOut


class TrendingItem(ListItem):
    score: float
    listedOn: str


class VoteOut(BaseModel):
    id: str
    upvotes: int
    voted: bool


class RankedItem(ListItem):
    score: float
    ranks: dict[str, int] = {}
    highlights: dict[str, str] = {}


def _one_of(names: Iterable[str]) -> str:
    """The query pattern for one of `names` (the rule's own list, in discover/)."""
    return f"^({'|'.join(names)})$"


def _limit(default: int) -> Any:
    """`limit`, bounded by PAPERFEED_MAX_LIMIT: read per request, since `Query(le=...)` is
    fixed at import. `document_limits` puts the bound into the OpenAPI description."""
    def limit(request: Request, limit: Annotated[int, Query(
            ge=1, description="Items per page, at most PAPERFEED_MAX_LIMIT")] = default) -> int:
        most: int = request.app.state.settings.max_limit
        if limit > most:
            raise BadRequest(f"limit: Input should be less than or equal to {most}")
        return limit
    return Depends(limit)


def document_limits(app: FastAPI, max_limit: int) -> None:
    """Make the OpenAPI description say the `limit` bound this app enforces."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()  # FastAPI builds it once and caches it on the app
        for operation in (op for path in spec["paths"].values() for op in path.values()):
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "limit":
                    parameter["schema"]["maximum"] = max_limit
        return spec

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented hook


def paper_out(paper: StoredPaper) -> PaperOut:
    return PaperOut(
        id=paper.id, title=paper.title, summary=paper.abstract,
        authors=[Author(name=a) for a in paper.authors],
        publishedAt=paper.published.isoformat() if paper.published else None,
        updatedAt=paper.updated.isoformat() if paper.updated else None,
        categories=paper.categories, arxivId=paper.arxiv_id, doi=paper.doi,
        version=paper.version, links=paper.links,
    )


def _item(paper: StoredPaper, votes: dict[int, int]) -> dict:
    out = paper_out(paper)
    return {"id": paper.id, "title": paper.title, "publishedAt": out.publishedAt,
            "upvotes": votes.get(paper.key, 0), "paper": out}


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _votes(request: Request, papers: list[StoredPaper]) -> dict[int, int]:
    return _catalog(request).store.community.vote_counts([p.key for p in papers])


@router.get("/daily_papers", response_model=list[ListItem], responses=ERRORS,
            summary="Papers of a day, week or month (default: the latest day with papers)")
def daily_papers(request: Request, date: str | None = None, week: str | None = None,
                 month: str | None = None, limit: int = _limit(50),
                 p: Annotated[int, Query(ge=0, le=100_000, description="Page, from 0")] = 0,
                 sort: Annotated[str, Query(pattern=_one_of(daily.SORTS),
                                            description="trending: most upvoted first")]
                 = daily.DEFAULT_SORT) -> list[dict]:
    catalog = _catalog(request)
    period = (daily.parse_period(day=date, week=week, month=month)
              or daily.latest_period(catalog))
    if period is None:
        return []
    papers = daily.listing(catalog, period.start, period.end, limit, p * limit, sort=sort)
    votes = _votes(request, papers)
    return [_item(paper, votes) for paper in papers]


@router.get("/trending", response_model=list[TrendingItem], responses=ERRORS,
            summary="Trending: upvotes decayed with the paper's age (see README)")
def trending_papers(request: Request, limit: int = _limit(50),
                    p: Annotated[int, Query(ge=0, le=100_000, description="Page, from 0")] = 0,
                    ) -> list[dict]:
    catalog = _catalog(request)
    ranked = rank_trending(catalog, limit, p * limit)
    papers = {paper.key: paper for paper in
              catalog.store.papers.get_many([t.paper_key for t in ranked])}
    votes = {t.paper_key: t.votes for t in ranked}
    return [{**_item(papers[t.paper_key], votes), "score": round(t.score, 4),
             "listedOn": t.listed_on.isoformat()} for t in ranked if t.paper_key in papers]


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


def _ranked(hit: Hit, votes: dict[int, int]) -> dict:
    return {**_item(hit.paper, votes), "score": hit.score, "ranks": hit.ranks,
            "highlights": {"title": str(hit.title_html), "summary": str(hit.snippet_html)}}


@router.get("/papers/search", response_model=list[RankedItem], responses=ERRORS,
            summary="Hybrid (BM25 + semantic) search; highlights are HTML with <mark>")
def search_papers(request: Request, q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)],
                  limit: int = _limit(20),
                  mode: Annotated[str, Query(pattern=_one_of(MODES))] = "hybrid",
                  date_from: Annotated[str | None, Query(alias="from")] = None,
                  date_to: Annotated[str | None, Query(alias="to")] = None,
                  category: str | None = None) -> list[dict]:
    filters = parse_filters(date_from, date_to, category)
    hits = run_search(_catalog(request), required_query(q), limit=limit, mode=mode,
                      filters=filters)
    votes = _votes(request, [hit.paper for hit in hits])
    return [_ranked(hit, votes) for hit in hits]


def _get(request: Request, paper_id: str) -> StoredPaper:
    """A paper as this visitor may see it (a hidden one only for admins)."""
    return lookup(_catalog(request), paper_id, current_user(request))


@router.get("/papers/{paper_id:path}/similar", response_model=list[RankedItem],
            responses=ERRORS, summary="Papers most similar to a paper (cosine of embeddings)")
def similar_papers(request: Request, paper_id: str, limit: int = _limit(10)) -> list[dict]:
    paper = _get(request, paper_id)
    found = find_similar(_catalog(request), paper, limit)
    votes = _votes(request, [other for other, _ in found])
    return [{**_item(other, votes), "score": score} for other, score in found]


@router.get("/papers/{paper_id:path}", response_model=PaperOut, responses=ERRORS,
            summary="One paper, by paperfeed id or arXiv id")
def get_paper(request: Request, paper_id: str) -> PaperOut:
    return paper_out(_get(request, paper_id))


refuse_get_on_post_routes(router.routes)  # GET .../vote: a 405, not "no paper 'ID/vote'"

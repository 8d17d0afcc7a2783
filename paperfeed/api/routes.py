"""JSON API: daily papers, search, one paper, similar papers.

Shapes follow the public daily-papers APIs (a list of `{paper: {...}}` items,
`summary` for the abstract, `publishedAt`) so existing scripts port easily;
every list item also carries `id`, `title` and, where ranked, `score`.
Errors are always `{"error": {"status": N, "message": "..."}}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from ..catalog import Catalog
from ..discover import daily
from ..discover.search import Hit, parse_filters
from ..discover.search import search as run_search
from ..discover.similar import similar as find_similar
from ..errors import BadRequest, NotFound
from ..models import StoredPaper

router = APIRouter(tags=["papers"])
MAX_LIMIT = 100


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
    paper: PaperOut


class RankedItem(ListItem):
    score: float
    ranks: dict[str, int] = {}
    highlights: dict[str, str] = {}


class ErrorBody(BaseModel):
    status: int
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS = {400: {"model": ErrorOut}, 404: {"model": ErrorOut}}
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]


def paper_out(paper: StoredPaper) -> PaperOut:
    return PaperOut(
        id=paper.id, title=paper.title, summary=paper.abstract,
        authors=[Author(name=a) for a in paper.authors],
        publishedAt=paper.published.isoformat() if paper.published else None,
        updatedAt=paper.updated.isoformat() if paper.updated else None,
        categories=paper.categories, arxivId=paper.arxiv_id, doi=paper.doi,
        version=paper.version, links=paper.links,
    )


def _item(paper: StoredPaper) -> dict:
    out = paper_out(paper)
    return {"id": paper.id, "title": paper.title, "publishedAt": out.publishedAt, "paper": out}


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


@router.get("/daily_papers", response_model=list[ListItem], responses=ERRORS,
            summary="Papers of a day, week or month (default: the latest day with papers)")
def daily_papers(request: Request, date: str | None = None, week: str | None = None,
                 month: str | None = None, limit: Limit = 50,
                 p: Annotated[int, Query(ge=0, le=100_000, description="Page, from 0")] = 0,
                 ) -> list[dict]:
    store = _catalog(request).store
    period = daily.parse_period(day=date, week=week, month=month) or daily.latest_period(store)
    if period is None:
        return []
    return [_item(paper) for paper in store.between(period.start, period.end, limit, p * limit)]


def _ranked(hit: Hit) -> dict:
    return {**_item(hit.paper), "score": hit.score, "ranks": hit.ranks,
            "highlights": {"title": str(hit.title_html), "summary": str(hit.snippet_html)}}


@router.get("/papers/search", response_model=list[RankedItem], responses=ERRORS,
            summary="Hybrid (BM25 + semantic) search; highlights are HTML with <mark>")
def search_papers(request: Request, q: Annotated[str, Query(max_length=500)],
                  limit: Limit = 20,
                  mode: Annotated[str, Query(pattern="^(hybrid|keyword|semantic)$")] = "hybrid",
                  date_from: Annotated[str | None, Query(alias="from")] = None,
                  date_to: Annotated[str | None, Query(alias="to")] = None,
                  category: str | None = None) -> list[dict]:
    filters = parse_filters(date_from, date_to, category)
    if not q.strip():
        raise BadRequest("q must not be empty")
    hits = run_search(_catalog(request), q, limit=limit, mode=mode, filters=filters)
    return [_ranked(hit) for hit in hits]


def _get(request: Request, paper_id: str) -> StoredPaper:
    found = _catalog(request).store.get(paper_id)
    if found is None:
        raise NotFound(f"no paper with id {paper_id!r}")
    return found


@router.get("/papers/{paper_id:path}/similar", response_model=list[RankedItem],
            responses=ERRORS, summary="Papers most similar to a paper (cosine of embeddings)")
def similar_papers(request: Request, paper_id: str, limit: Limit = 10) -> list[dict]:
    paper = _get(request, paper_id)
    return [{**_item(other), "score": score}
            for other, score in find_similar(_catalog(request), paper, limit)]


@router.get("/papers/{paper_id:path}", response_model=PaperOut, responses=ERRORS,
            summary="One paper, by paperfeed id or arXiv id")
def get_paper(request: Request, paper_id: str) -> PaperOut:
    return paper_out(_get(request, paper_id))

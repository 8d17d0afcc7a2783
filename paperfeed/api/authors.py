"""Authors in the JSON API: one author's papers and profile, and the author search.

The name is the name as printed on a paper; every variant with the same
`models.author_key` (accents, case, punctuation) is the same author.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ..errors import NotFound
from ..http.session import api_credentials
from ..models import AuthorCount
from .errors import ERRORS
from .routes import Page, _items, _limit
from .shapes import ListItem

router = APIRouter(tags=["authors"], dependencies=[Depends(api_credentials)])

MAX_NAME_CHARS = 300


class AuthorOut(BaseModel):
    name: str = Field(description="The name printed most often")
    key: str = Field(description="The merged key: accents, case and punctuation folded")
    papers: int = Field(description="Number of papers")
    url: str = Field(description="The author page, relative to the site")


class AuthorPageOut(AuthorOut):
    names: list[str] = Field(description="Every spelling printed, most used first")
    categories: dict[str, int] = Field(description="Papers per category, most first")
    coauthors: list[AuthorOut] = Field(description="By number of shared papers")
    variants: list[AuthorOut] = Field(
        description="Other names that may be the same person (an initial for a first "
                    "name), not merged")
    items: list[ListItem] = Field(description="This page of their papers, newest first")


def author_out(author: AuthorCount) -> AuthorOut:
    return AuthorOut(name=author.name, key=author.key, papers=author.papers,
                     url="/authors/" + quote(author.name, safe=""))


@router.get("/authors", response_model=list[AuthorOut], responses=ERRORS,
            summary="Author search: names (or surnames) starting with q (3 letters or more), "
                    "most papers first")
def search_authors(request: Request,
                   q: Annotated[str, Query(min_length=1, max_length=MAX_NAME_CHARS)],
                   limit: int = _limit(30)) -> list[AuthorOut]:
    return [author_out(a) for a in request.app.state.catalog.store.authors.search(q, limit)]


@router.get("/authors/{name:path}", response_model=AuthorPageOut, responses=ERRORS,
            summary="An author: papers (newest first), co-authors, categories")
def get_author(request: Request, name: str, limit: int = _limit(30),
               p: Page = 0) -> AuthorPageOut:
    authors = request.app.state.catalog.store.authors
    if len(name) > MAX_NAME_CHARS:
        raise NotFound(f"no author is named like that ({len(name)} characters)")
    profile = authors.profile(name)
    if not profile.papers:
        raise NotFound(f"no papers by an author named {name!r}")
    papers = authors.papers(name, limit, p * limit)
    return AuthorPageOut(
        **author_out(AuthorCount(profile.key, profile.name, profile.papers)).model_dump(),
        names=[n for n, _ in profile.names], categories=dict(profile.categories),
        coauthors=[author_out(a) for a in profile.coauthors],
        variants=[author_out(a) for a in profile.variants],
        items=_items(request, papers))  # type: ignore[arg-type]

"""Author pages: `/authors/{name}` (the name as printed, URL-encoded) and the author
search `/authors?q=`.

A name is looked up by its `models.author_key`, so every printed variant (accents, case,
punctuation) reaches the same page. The page is the same for every visitor (the page
cache shares it, votes and Save buttons filled in per response).
"""

from __future__ import annotations

import math
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from ..errors import BadRequest, NotFound
from .render import render, vote_state
from .views import _page_number

MAX_NAME_CHARS = 300


def author_url(name: str) -> str:
    """The author page of a name as printed (a Jinja filter on every card)."""
    return "/authors/" + quote(name, safe="")


def author(request: Request, name: str) -> Response:
    return request.app.state.page_cache.page(request, lambda: _author_page(request, name))


def _author_page(request: Request, name: str) -> HTMLResponse:
    authors = request.app.state.catalog.store.authors
    page_size = request.app.state.settings.page_size
    page = _page_number(request.query_params.get("p"))
    if len(name) > MAX_NAME_CHARS:
        raise NotFound(f"no author is named like that ({len(name)} characters)")
    profile = authors.profile(name)
    if not profile.papers:
        raise NotFound(f"no papers by an author named “{name}”. "
                       "Try the author search: /authors?q=…")
    pages = max(1, math.ceil(profile.papers / page_size))
    if page > pages:
        raise NotFound(f"there is no page {page}: this author's list has {pages} "
                       f"page{'' if pages == 1 else 's'}")
    papers = authors.papers(name, page_size, (page - 1) * page_size)
    return render(request, "author.html", profile=profile, papers=papers, page=page,
                  pages=pages, **vote_state(request, papers))


def search(request: Request, q: str = "") -> HTMLResponse:
    q = q.strip()[:MAX_NAME_CHARS]
    try:
        found = request.app.state.catalog.store.authors.search(q, 50) if q else []
    except BadRequest as exc:  # too short: the form again, with the reason
        return render(request, "authors.html", status=400, author_query=q, found=[],
                      error=str(exc))
    return render(request, "authors.html", author_query=q, found=found)

"""Rendering helpers shared by the pages and the error handler."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from ..catalog import Catalog
from ..discover import daily
from ..errors import PaperfeedError
from ..http.csrf import csrf_token
from ..http.session import current_user
from ..models import StoredPaper
from ..settings import Settings


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    catalog: Catalog = request.app.state.catalog
    context.setdefault("active", None)
    context.setdefault("query", "")
    context.setdefault("votes", {})
    context.setdefault("voted", set())
    context.setdefault("saved", set())
    context.setdefault("rated", {})
    context.setdefault("comments", {})
    context.setdefault("shared_render", getattr(request.state, "shared_render", False))
    return request.app.state.templates.TemplateResponse(
        request, template,
        {"new_from": daily.new_from(catalog, settings.new_hours),
         "paper_count": catalog.store.papers.count(),
         "user": current_user(request), "csrf_token": csrf_token(request), **context},
        status_code=status,
    )


def vote_state(request: Request, papers: list[StoredPaper]) -> dict[str, Any]:
    """`votes` (key → count), `comments` (key → comments shown), `voted` (keys the visitor
    upvoted), `saved` (keys in the visitor's library) and `rated` (key → their private
    rating) for paper cards."""
    store = request.app.state.catalog.store
    keys = [p.key for p in papers]
    user = current_user(request)
    votes = store.community.vote_counts(keys)
    comments = store.comments.counts(keys)
    if user is None or getattr(request.state, "shared_render", False):
        # On a shared render the pressed states are markers, filled in per response.
        return {"votes": votes, "comments": comments, "voted": set(), "saved": set(),
                "rated": {}}
    return {"votes": votes, "comments": comments,
            "voted": store.community.voted_by(user.id, keys),
            "saved": set(store.library.holding(user.id, keys)),
            "rated": store.ratings.rated(user.id, keys)}


TITLES = {400: "Bad request", 401: "Log in first", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Request too large",
          414: "Request too long", 429: "Too many attempts", 500: "Something went wrong",
          503: "Unavailable"}


def error_page(request: Request, error: PaperfeedError) -> HTMLResponse:
    return render(request, "error.html", status=error.status, status_code=error.status,
                  title=TITLES.get(error.status, "Error"), message=str(error))

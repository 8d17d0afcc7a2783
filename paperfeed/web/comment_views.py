"""Discussion on the paper page: post, reply, edit and delete one's own, admins hide.

Plain forms (CSRF-checked by the route table) that redirect back to the comment's
anchor, so the discussion works without JavaScript. Each change bumps the community
counter (a trigger, migration 0008), which renders the cached paper page and the
cards' comment counts again. The rules (one level, caps, the rate limit) are the
store's (store/comments.py); the JSON API calls the same methods.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from ..discover.visibility import lookup
from ..errors import BadRequest, NotFound
from ..feeds.comments import comments_feed
from ..http.session import current_user, require_admin, require_member
from ..models import Comment, StoredPaper
from ..store import MAX_COMMENT

# The form's field may hold a little more than a comment may, so an over-long comment gets
# the store's message ("at most 5000 characters; this one has …"), not the form parser's.
BODY_FIELD = Form("", max_length=MAX_COMMENT * 2)


def _anchor(paper: StoredPaper, fragment: str) -> RedirectResponse:
    return RedirectResponse(f"/papers/{quote(paper.id)}#{fragment}", 303)


def _comment(request: Request, comment_id: int) -> tuple[Comment, StoredPaper]:
    """A comment and its paper, as this visitor may see them (hidden papers: admins)."""
    store = request.app.state.catalog.store
    found = store.comments.get(comment_id)
    if found is None:
        raise NotFound(f"there is no comment {comment_id}")
    paper = store.papers.get_many([found.paper_key])
    if not paper:
        raise NotFound(f"there is no comment {comment_id}")
    return found, lookup(request.app.state.catalog, paper[0].id, current_user(request))


def _parent(raw: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise BadRequest(f"parent={raw!r} is not a comment id")
    return int(raw)


def post(request: Request, paper_id: str, body: str = BODY_FIELD,
         parent: str = Form("")) -> Response:
    """A new comment, or a reply (`parent`), then back to it on the paper's page."""
    paper = lookup(request.app.state.catalog, paper_id, current_user(request))
    user = require_member(request, f"/papers/{quote(paper.id)}#comments", why="comment")
    added = request.app.state.catalog.store.comments.add(user.id, paper.key, body,
                                                         _parent(parent))
    return _anchor(paper, f"comment-{added.id}")


def edit(request: Request, comment_id: int, body: str = BODY_FIELD) -> Response:
    user = require_member(request)
    found, paper = _comment(request, comment_id)
    request.app.state.catalog.store.comments.edit(user.id, found.id, body)
    return _anchor(paper, f"comment-{found.id}")


def delete(request: Request, comment_id: int) -> Response:
    user = require_member(request)
    found, paper = _comment(request, comment_id)
    request.app.state.catalog.store.comments.delete(user.id, found.id)
    return _anchor(paper, "comments")


def hide(request: Request, comment_id: int, hidden: str = Form("1")) -> Response:
    require_admin(request)
    found, paper = _comment(request, comment_id)
    request.app.state.catalog.store.comments.set_hidden(found.id, hidden == "1")
    return _anchor(paper, f"comment-{found.id}")


def feed(request: Request, paper_id: str) -> Response:
    """`/papers/{id}/comments.atom`, in the shared cache like the other feeds (a hidden
    paper's is looked up first: 404 for all but admins, and never cached for them)."""
    user = current_user(request)
    paper = lookup(request.app.state.catalog, paper_id, user)

    def build() -> Response:
        comments = request.app.state.catalog.store.comments.thread(paper.key)
        return Response(comments_feed(paper=paper, comments=comments,
                                      site_url=request.app.state.settings.public_url),
                        media_type="application/atom+xml; charset=utf-8")
    if user and user.is_admin:
        return build()
    return request.app.state.page_cache.page(request, build)

"""JSON API for the discussion: read a paper's comments, post, reply, edit, delete, hide.

Reading needs nobody. Writing acts as a member: a personal token (`Authorization:
Bearer pf_…`), or the session cookie with the X-CSRF-Token header. The rules are the
store's (store/comments.py): one level of replies (a reply to a reply joins its
top-level comment), edit and delete one's own, hiding by admins, a length cap, a
per-member rate limit (429 with Retry-After). Each comment comes with its Markdown and
its sanitised HTML (members/comments.py), so a client need not sanitise.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from ..catalog import Catalog
from ..discover.visibility import lookup
from ..errors import NotFound
from ..http.errors import refuse_get_on_post_routes
from ..http.session import (
    api_credentials,
    current_user,
    member_credentials,
    require_admin,
    require_member,
)
from ..members.comments import render
from ..models import Comment, StoredPaper
from ..store import MAX_COMMENT
from .errors import ERRORS, MEMBER_ERRORS, _described
from .shapes import stamp

router = APIRouter(tags=["discussion"], dependencies=[Depends(api_credentials)])
WRITE_ERRORS = {**MEMBER_ERRORS, **_described({
    404: "No such paper or comment (or one only an admin may see)",
    429: "Too many comments in a short time; Retry-After says how long to wait"})}
CommentId = Annotated[int, Path(ge=1, le=2**62, description="The comment's id")]


class CommentOut(BaseModel):
    id: int
    paperId: str
    parentId: int | None = Field(description="The top-level comment a reply belongs to")
    author: str | None = Field(description="Username; null when deleted, hidden or gone")
    body: str = Field(description="Markdown as written; empty when deleted or hidden")
    bodyHtml: str = Field(description="The Markdown as sanitised HTML (no raw HTML, "
                                      "http/https/mailto links only)")
    createdAt: str
    editedAt: str | None
    deleted: bool
    hidden: bool


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT, description="Markdown")
    parentId: int | None = Field(None, ge=1, le=2**62,
                                 description="Reply to this comment (one level: a reply "
                                             "to a reply joins its top-level comment)")


class EditIn(BaseModel):
    body: str = Field(min_length=1, max_length=MAX_COMMENT, description="Markdown")


class HideIn(BaseModel):
    hidden: bool


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def _out(comment: Comment, paper: StoredPaper) -> CommentOut:
    return CommentOut(id=comment.id, paperId=paper.id, parentId=comment.parent_id,
                      author=comment.username, body=comment.body,
                      bodyHtml=str(render(comment.body)) if comment.body else "",
                      createdAt=stamp(comment.created_at),
                      editedAt=stamp(comment.edited_at) if comment.edited_at else None,
                      deleted=comment.deleted, hidden=comment.hidden)


def _paper(request: Request, paper_id: str) -> StoredPaper:
    return lookup(_catalog(request), paper_id, current_user(request))


def _comment(request: Request, comment_id: int) -> tuple[Comment, StoredPaper]:
    found = _catalog(request).store.comments.get(comment_id)
    papers = _catalog(request).store.papers.get_many([found.paper_key]) if found else []
    if found is None or found.deleted or not papers:
        raise NotFound(f"there is no comment {comment_id}")
    return found, _paper(request, papers[0].id)


@router.get("/papers/{paper_id:path}/comments", response_model=list[CommentOut],
            responses=ERRORS, summary="A paper's comments in thread order: each top-level "
            "comment, then its replies, oldest first")
def list_comments(request: Request, paper_id: str) -> list[CommentOut]:
    paper = _paper(request, paper_id)
    user = current_user(request)
    thread = _catalog(request).store.comments.thread(paper.key,
                                                     moderator=bool(user and user.is_admin))
    return [_out(c, paper) for c in thread]


@router.post("/papers/{paper_id:path}/comments", response_model=CommentOut, status_code=201,
             responses=WRITE_ERRORS, dependencies=[Depends(member_credentials)],
             summary="Comment on a paper, or reply (parentId)")
def post_comment(request: Request, paper_id: str, body: CommentIn) -> CommentOut:
    user = require_member(request)
    paper = _paper(request, paper_id)
    added = _catalog(request).store.comments.add(user.id, paper.key, body.body, body.parentId)
    return _out(added, paper)


@router.patch("/comments/{comment_id}", response_model=CommentOut, responses=WRITE_ERRORS,
              dependencies=[Depends(member_credentials)],
              summary="Edit your own comment (editedAt says when)")
def edit_comment(request: Request, comment_id: CommentId, body: EditIn) -> CommentOut:
    user = require_member(request)
    found, paper = _comment(request, comment_id)
    return _out(_catalog(request).store.comments.edit(user.id, found.id, body.body), paper)


@router.delete("/comments/{comment_id}", status_code=204, responses=WRITE_ERRORS,
               dependencies=[Depends(member_credentials)],
               summary="Delete your own comment (its text goes; with replies, its place "
                       "in the thread stays as deleted)")
def delete_comment(request: Request, comment_id: CommentId) -> Response:
    user = require_member(request)
    found, _ = _comment(request, comment_id)
    _catalog(request).store.comments.delete(user.id, found.id)
    return Response(status_code=204)


@router.post("/comments/{comment_id}/hide", response_model=CommentOut,
             responses=WRITE_ERRORS, dependencies=[Depends(member_credentials)],
             summary="Admins: hide a comment from readers, or show it again")
def hide_comment(request: Request, comment_id: CommentId, body: HideIn) -> CommentOut:
    require_admin(request)
    found, paper = _comment(request, comment_id)
    return _out(_catalog(request).store.comments.set_hidden(found.id, body.hidden), paper)


refuse_get_on_post_routes(router.routes)

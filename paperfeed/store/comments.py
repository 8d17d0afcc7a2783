"""Discussion: members' comments on papers, one level of replies (migration 0008).

A reply to a reply is attached to the top-level comment of its thread rather than
refused: a reader who answers a reply means the same conversation, and a client that
posts with the reply's id gets what the page would have done. Threads stay one level
deep by construction, so a thread is one indexed query in display order
(`ORDER BY coalesce(parent_id, id), id`).

Deleting is soft and empties the body: a deleted comment with replies stays as a
"[deleted]" placeholder so the replies keep their place; one without replies leaves
the listing. An admin's hiding works the same way, but keeps the body (unhide brings
it back). Counts for cards count what a reader sees: neither deleted nor hidden.

The rate limit counts the member's own comments of the last `RATE_WINDOW_S`, in the
transaction that adds one: the comments table is the counter, in the database as
the failed-login counters are (store/members.py), so every worker process sees it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import text

from ..errors import BadRequest, Forbidden, NotFound, TooManyAttempts
from ..models import Comment
from ..sources.clean import clean_text
from .database import Database, now_iso

MAX_ID = 2**63 - 1  # a 64-bit integer key on both databases: a larger id names nothing
MAX_BODY = 5000  # characters: several paragraphs, far less than the 64 kB form field limit
RATE_LIMIT = 10  # comments a member may post ...
RATE_WINDOW_S = 600  # ... in any 10 minutes

COLUMNS = ("c.id, c.paper_key, c.user_id, u.username, c.parent_id, c.body, c.created_at,"
           " c.edited_at, c.deleted, c.hidden")
GET = text(f"SELECT {COLUMNS} FROM comments c LEFT JOIN users u ON u.id = c.user_id"
           " WHERE c.id = :id")
THREAD = text(f"SELECT {COLUMNS} FROM comments c LEFT JOIN users u ON u.id = c.user_id"
              " WHERE c.paper_key = :paper_key ORDER BY coalesce(c.parent_id, c.id), c.id")
ADD = text("INSERT INTO comments (paper_key, user_id, parent_id, body, created_at)"
           " VALUES (:paper_key, :user_id, :parent_id, :body, :now) RETURNING id")
RECENT = text("SELECT count(*), min(created_at) FROM comments"
              " WHERE user_id = :user_id AND created_at >= :since")
EDIT = text("UPDATE comments SET body = :body, edited_at = :now WHERE id = :id")
DELETE = text("UPDATE comments SET deleted = 1, body = '' WHERE id = :id")
HIDE = text("UPDATE comments SET hidden = :hidden WHERE id = :id")
COUNTS = text("SELECT paper_key, count(*) FROM comments WHERE paper_key IN :keys"
              " AND deleted = 0 AND hidden = 0 GROUP BY paper_key")
OWN = text("SELECT id, body FROM comments WHERE user_id = :user_id AND deleted = 0"
           " AND id IN :ids")


def _comment(row: Sequence) -> Comment:
    return Comment(id=row[0], paper_key=row[1], user_id=row[2], username=row[3],
                   parent_id=row[4], body=row[5], created_at=row[6], edited_at=row[7],
                   deleted=bool(row[8]), hidden=bool(row[9]))


def clean_body(body: str) -> str:
    """The body as stored: trimmed, not empty, at most MAX_BODY characters."""
    body = clean_text(body).strip()  # no control characters (PostgreSQL refuses NUL)
    if not body:
        raise BadRequest("A comment needs some text.")
    if len(body) > MAX_BODY:
        raise BadRequest(f"A comment is at most {MAX_BODY} characters; this one has "
                         f"{len(body)}.")
    return body


class Comments:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, user_id: int, paper_key: int, body: str,
            parent_id: int | None = None) -> Comment:
        """A new comment, or a reply (`parent_id`) in the parent's thread.

        Refused: an empty or too long body (400), a parent on another paper or gone
        (404), a parent deleted or hidden (400), the member's RATE_LIMIT-th comment
        within RATE_WINDOW_S (429 with the wait)."""
        body = clean_body(body)
        with self.db.write() as tx:
            if parent_id is not None:
                parent_id = self._parent(paper_key, parent_id)
            since = datetime.fromtimestamp(time.time() - RATE_WINDOW_S, UTC)
            count, oldest = tx.one(RECENT, {"user_id": user_id,
                                            "since": since.isoformat(timespec="seconds")})
            if count >= RATE_LIMIT:
                wait = RATE_WINDOW_S - (time.time() - datetime.fromisoformat(oldest).timestamp())
                raise TooManyAttempts(max(1, int(wait) + 1),
                                      f"You have posted {RATE_LIMIT} comments in the last "
                                      f"{RATE_WINDOW_S // 60} minutes.")
            new_id = tx.scalar(ADD, {"paper_key": paper_key, "user_id": user_id,
                                     "parent_id": parent_id, "body": body, "now": now_iso()})
        found = self.get(int(new_id))
        assert found is not None
        return found

    def _parent(self, paper_key: int, parent_id: int) -> int:
        """The top-level comment a reply attaches to."""
        parent = self.get(parent_id)
        if parent is None or parent.paper_key != paper_key:
            raise NotFound(f"there is no comment {parent_id} on this paper")
        if parent.parent_id is not None:  # a reply to a reply: the same thread
            parent = self.get(parent.parent_id)
            assert parent is not None
        if parent.deleted or parent.hidden:
            raise BadRequest("That comment was deleted or hidden; it takes no replies.")
        return parent.id

    def get(self, comment_id: int) -> Comment | None:
        """The comment as stored (a hidden one with its body), or None."""
        if not 0 < comment_id <= MAX_ID:
            return None
        row = self.db.one(GET, {"id": comment_id})
        return _comment(row) if row else None

    def _own(self, user_id: int, comment_id: int) -> Comment:
        found = self.get(comment_id)
        if found is None or found.deleted:
            raise NotFound(f"there is no comment {comment_id}")
        if found.user_id != user_id:
            raise Forbidden("Only its author can change a comment.")
        return found

    def edit(self, user_id: int, comment_id: int, body: str) -> Comment:
        """The member's own comment with a new body; `edited_at` says when."""
        body = clean_body(body)
        self._own(user_id, comment_id)
        with self.db.write() as tx:
            tx.run(EDIT, {"body": body, "now": now_iso(), "id": comment_id})
        found = self.get(comment_id)
        assert found is not None
        return found

    def delete(self, user_id: int, comment_id: int) -> None:
        """Delete the member's own comment: its text goes, its place in a thread stays."""
        self._own(user_id, comment_id)
        with self.db.write() as tx:
            tx.run(DELETE, {"id": comment_id})

    def set_hidden(self, comment_id: int, hidden: bool) -> Comment:
        """An admin's hiding (the caller checks the role); the body is kept for unhiding."""
        if self.get(comment_id) is None:
            raise NotFound(f"there is no comment {comment_id}")
        with self.db.write() as tx:
            if not tx.run(HIDE, {"hidden": int(hidden), "id": comment_id}):
                raise NotFound(f"there is no comment {comment_id}")
        found = self.get(comment_id)
        assert found is not None
        return found

    def thread(self, paper_key: int, moderator: bool = False) -> list[Comment]:
        """A paper's comments as readers see them, each top-level one followed by its
        replies, oldest first. Deleted and hidden ones are left out, or kept with an
        empty body where replies hang from them. A `moderator` (admin) also gets the
        hidden ones, with their text, to review and unhide."""
        rows = [_comment(row) for row in self.db.all(THREAD, {"paper_key": paper_key})]

        def gone(c: Comment) -> bool:
            return c.deleted or (c.hidden and not moderator)

        parents = {c.parent_id for c in rows if not gone(c) and c.parent_id is not None}
        return [_blank(c) if gone(c) else c for c in rows if not gone(c) or c.id in parents]

    def counts(self, keys: Sequence[int]) -> dict[int, int]:
        """Comments a reader sees, by paper key (those with any): one query for a list."""
        if not keys:
            return {}
        return {row[0]: int(row[1]) for row in self.db.all(COUNTS, {"keys": list(keys)})}

    def own(self, user_id: int, ids: Sequence[int]) -> dict[int, str]:
        """Which of `ids` the member wrote (and has not deleted), with their bodies: the
        edit and delete controls a shared page gets per visitor, in one query."""
        if not ids:
            return {}
        return {row[0]: row[1] for row in self.db.all(OWN, {"user_id": user_id,
                                                            "ids": list(ids)})}


def _blank(comment: Comment) -> Comment:
    return Comment(id=comment.id, paper_key=comment.paper_key, user_id=None, username=None,
                   parent_id=comment.parent_id, body="", created_at=comment.created_at,
                   edited_at=None, deleted=comment.deleted, hidden=comment.hidden)

"""The community's marks on papers: submissions (featuring a paper on a day's list),
hiding by admins, and upvotes.

Votes live next to the papers they are about: one database, one transaction log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import text

from ..models import Submission, Voted, VoteState
from .database import Database, now_iso
from .papers import HIDDEN_KEYS

SUBMIT = text("INSERT INTO submissions (paper_key, user_id, featured_on, submitted_at)"
              " VALUES (:paper_key, :user_id, :day, :now) ON CONFLICT DO NOTHING")
SUBMISSION = text("SELECT s.paper_key, s.featured_on, s.submitted_at, s.hidden, u.username"
                  " FROM submissions s LEFT JOIN users u ON u.id = s.user_id"
                  " WHERE s.paper_key = :paper_key")
SUBMISSIONS = text("SELECT s.paper_key, s.featured_on, s.submitted_at, s.hidden, u.username"
                   " FROM submissions s LEFT JOIN users u ON u.id = s.user_id"
                   " WHERE s.paper_key IN :keys")
SET_HIDDEN = text("UPDATE submissions SET hidden = :hidden WHERE paper_key = :paper_key")
HIDDEN = text(f"{HIDDEN_KEYS} AND paper_key IN :keys")
HIDDEN_COUNT = text("SELECT count(*) FROM submissions WHERE hidden = 1")
HIDDEN_LATEST = text(f"{HIDDEN_KEYS} ORDER BY submitted_at DESC, paper_key DESC LIMIT :limit")

ADD_VOTE = text("INSERT INTO votes (paper_key, user_id, created_at)"
                " VALUES (:paper_key, :user_id, :now) ON CONFLICT DO NOTHING RETURNING 1")
REMOVE_VOTE = text("DELETE FROM votes WHERE paper_key = :paper_key AND user_id = :user_id"
                   " RETURNING 1")
# An increment, applied under the total's row lock: exact under concurrent voters on
# PostgreSQL too, where a recount in READ COMMITTED could miss a vote committed meanwhile.
ADD_TO_TOTAL = text("INSERT INTO paper_votes (paper_key, votes) VALUES (:paper_key, :delta)"
                    " ON CONFLICT (paper_key) DO UPDATE"
                    " SET votes = paper_votes.votes + excluded.votes RETURNING votes")
TOTAL = text("SELECT votes FROM paper_votes WHERE paper_key = :paper_key")
TOTALS = text("SELECT paper_key, votes FROM paper_votes WHERE paper_key IN :keys")
VOTED_BY = text("SELECT paper_key FROM votes WHERE user_id = :user_id AND paper_key IN :keys")
UPVOTED = text("SELECT paper_key FROM votes WHERE user_id = :user_id"
               f" AND paper_key NOT IN ({HIDDEN_KEYS})"
               " ORDER BY created_at DESC, paper_key DESC LIMIT :limit OFFSET :offset")
VERSION = text("SELECT version FROM community_version")
# The larger of two values: a scalar max() on SQLite, greatest() on PostgreSQL.
GREATEST = {"sqlite": "max", "postgresql": "greatest"}


class Community:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every visible paper with at least one vote, with the day its age counts from:
        # the day it was featured by a submission, else its first arXiv version.
        self._voted = text(
            f"SELECT v.paper_key, v.votes, {GREATEST[db.dialect]}("
            "coalesce(p.published, substr(p.added_at, 1, 10)), coalesce(s.featured_on, ''))"
            " AS listed_on FROM paper_votes v JOIN papers p ON p.key = v.paper_key"
            " LEFT JOIN submissions s ON s.paper_key = v.paper_key"
            " WHERE v.votes > 0 AND coalesce(s.hidden, 0) = 0")

    # -- submissions --------------------------------------------------------------------

    def submit(self, paper_key: int, user_id: int, day: date) -> tuple[Submission, bool]:
        """Feature a paper on `day`'s list; (submission, False) if it was submitted before."""
        with self.db.write() as tx:
            created = tx.run(SUBMIT, {"paper_key": paper_key, "user_id": user_id,
                                      "day": day.isoformat(), "now": now_iso()}) == 1
            found = self.submission(paper_key)
        assert found is not None
        return found, created

    def submission(self, paper_key: int) -> Submission | None:
        row = self.db.one(SUBMISSION, {"paper_key": paper_key})
        return _submission(row._asdict()) if row else None

    def submissions(self, keys: Sequence[int]) -> dict[int, Submission]:
        """The submissions of `keys` that have one, by paper key: one query for a list."""
        if not keys:
            return {}
        return {row.paper_key: _submission(row._asdict())
                for row in self.db.all(SUBMISSIONS, {"keys": list(keys)})}

    def set_hidden(self, paper_key: int, hidden: bool) -> None:
        with self.db.write() as tx:
            tx.run(SET_HIDDEN, {"hidden": int(hidden), "paper_key": paper_key})

    def hidden(self, keys: Sequence[int]) -> set[int]:
        if not keys:
            return set()
        return {row[0] for row in self.db.all(HIDDEN, {"keys": list(keys)})}

    def hidden_count(self) -> int:
        return int(self.db.scalar(HIDDEN_COUNT))

    def hidden_latest(self, limit: int) -> list[int]:
        """Keys of the hidden submissions, the latest submitted first."""
        return [row[0] for row in self.db.all(HIDDEN_LATEST, {"limit": limit})]

    # -- votes ----------------------------------------------------------------------------

    def vote(self, user_id: int, paper_key: int, up: bool | None = None) -> VoteState:
        """Upvote (`up=True`), take it back (`False`) or toggle (`None`).

        The vote row and the paper's total change in one transaction, in at most three
        statements: the vote row's insert or delete says whether anything changed, and
        the total moves by exactly that much, so concurrent voters can neither lose nor
        double-count a vote.
        """
        params = {"paper_key": paper_key, "user_id": user_id, "now": now_iso()}
        with self.db.write() as tx:
            delta = 0
            if up is not True:
                delta = -len(tx.all(REMOVE_VOTE, params))
            voted = up is True or (up is None and delta == 0)
            if voted:
                delta = len(tx.all(ADD_VOTE, params))
            if delta:
                total = tx.scalar(ADD_TO_TOTAL, {**params, "delta": delta})
            else:
                total = tx.scalar(TOTAL, params) or 0
        return VoteState(votes=int(total), voted=voted)

    def vote_counts(self, keys: Sequence[int]) -> dict[int, int]:
        if not keys:
            return {}
        return {row[0]: row[1] for row in self.db.all(TOTALS, {"keys": list(keys)})}

    def voted_by(self, user_id: int, keys: Sequence[int]) -> set[int]:
        if not keys:
            return set()
        return {row[0] for row in self.db.all(VOTED_BY, {"user_id": user_id,
                                                          "keys": list(keys)})}

    def upvoted(self, user_id: int, limit: int, offset: int = 0) -> list[int]:
        """Keys of the papers a member upvoted, most recent vote first; hidden ones left
        out."""
        return [row[0] for row in self.db.all(UPVOTED, {"user_id": user_id, "limit": limit,
                                                         "offset": offset})]

    def voted_papers(self) -> list[Voted]:
        return [Voted(row[0], row[1], date.fromisoformat(row[2]))
                for row in self.db.all(self._voted)]

    def version(self) -> int:
        """Bumped (by triggers) on every vote, submission, hide and link change."""
        return int(self.db.scalar(VERSION))


def _submission(row: Mapping[Any, Any]) -> Submission:
    return Submission(paper_key=row["paper_key"],
                      featured_on=date.fromisoformat(row["featured_on"]),
                      submitted_at=row["submitted_at"], hidden=bool(row["hidden"]),
                      username=row["username"])

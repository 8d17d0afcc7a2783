"""Members, sessions, login throttling, submissions and upvotes: their SQL, nothing else.

Shares the catalog store's database and per-thread connections, so a vote and
the paper it is about live in one file and one transaction log. Rules about
passwords, tokens and who may do what live in `paperfeed.members`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from .sqlite import Tables, now_iso


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    is_admin: bool
    created_at: str
    password_hash: str = ""


@dataclass(frozen=True)
class Submission:
    paper_rowid: int
    featured_on: date
    submitted_at: str
    hidden: bool
    username: str | None  # None once the member's account is gone


@dataclass(frozen=True)
class VoteState:
    votes: int
    voted: bool


@dataclass(frozen=True)
class Voted:
    """A paper with votes, and the day its age counts from (for trending)."""

    paper_rowid: int
    votes: int
    listed_on: date



def _user(row: sqlite3.Row | None) -> User | None:
    if row is None:
        return None
    return User(id=row["id"], username=row["username"], email=row["email"],
                is_admin=bool(row["is_admin"]), created_at=row["created_at"],
                password_hash=row["password_hash"])


class Community(Tables):
    # -- members --------------------------------------------------------------

    def add_user(self, username: str, email: str, password_hash: str,
                 *, is_admin: bool | None = None) -> User:
        """Create a member; the very first member is an admin unless told otherwise.

        Raises sqlite3.IntegrityError when the name or email is taken.
        """
        with self._write() as conn:
            if is_admin is None:
                is_admin = conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
            cur = conn.execute(
                "INSERT INTO users (username, email, password_hash, is_admin, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (username, email, password_hash, int(is_admin), now_iso()))
            user_id = int(cur.lastrowid or 0)
        found = self.user_by_id(user_id)
        assert found is not None
        return found

    def user_by_id(self, user_id: int) -> User | None:
        return _user(self.conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone())

    def user_by_name(self, username: str) -> User | None:
        return _user(self.conn.execute(
            "SELECT * FROM users WHERE username = ?", (username,)).fetchone())

    def user_by_login(self, login: str) -> User | None:
        """By username or email, case-insensitively."""
        return _user(self.conn.execute(
            "SELECT * FROM users WHERE username = ? OR email = ?", (login, login)).fetchone())

    def name_or_email_taken(self, username: str, email: str) -> str | None:
        row = self.conn.execute(
            "SELECT username = ? AS same_name FROM users WHERE username = ? OR email = ?",
            (username, username, email)).fetchone()
        if row is None:
            return None
        return "username" if row["same_name"] else "email"

    def set_password(self, user_id: int, password_hash: str) -> None:
        """New password; every existing session of the member ends."""
        with self._write() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                         (password_hash, user_id))
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        with self._write() as conn:
            conn.execute("UPDATE users SET is_admin = ? WHERE id = ?", (int(is_admin), user_id))

    def users(self) -> list[User]:
        return [u for u in map(_user, self.conn.execute("SELECT * FROM users ORDER BY id"))
                if u is not None]

    # -- sessions -------------------------------------------------------------

    def add_session(self, token_hash: str, user_id: int, expires_at: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO sessions (token_hash, user_id, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?)", (token_hash, user_id, now_iso(), expires_at))
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now_iso(),))

    def session_user(self, token_hash: str) -> User | None:
        return _user(self.conn.execute(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND s.expires_at > ?", (token_hash, now_iso())).fetchone())

    def end_session(self, token_hash: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    # -- rate limits (failed logins, reset emails) ------------------------------

    def count_attempt(self, keys: Sequence[str]) -> None:
        now = time.time()
        with self._write() as conn:
            conn.executemany("INSERT INTO login_failures (key, at) VALUES (?, ?)",
                             [(key, now) for key in keys])
            conn.execute("DELETE FROM login_failures WHERE at < ?", (now - 86_400,))

    def attempts(self, key: str, since: float) -> tuple[int, float | None]:
        """(failures of `key` since `since`, unix time of the oldest of them)."""
        row = self.conn.execute("SELECT count(*), min(at) FROM login_failures"
                                " WHERE key = ? AND at >= ?", (key, since)).fetchone()
        return row[0], row[1]

    def clear_attempts(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    # -- submissions ----------------------------------------------------------

    def submit(self, paper_rowid: int, user_id: int, day: date) -> tuple[Submission, bool]:
        """Feature a paper on `day`'s list; (submission, False) if it was submitted before."""
        with self._write() as conn:
            cur = conn.execute(
                "INSERT OR IGNORE INTO submissions (paper_rowid, user_id, featured_on,"
                " submitted_at) VALUES (?, ?, ?, ?)",
                (paper_rowid, user_id, day.isoformat(), now_iso()))
            created = cur.rowcount == 1
        found = self.submission(paper_rowid)
        assert found is not None
        return found, created

    def submission(self, paper_rowid: int) -> Submission | None:
        row = self.conn.execute(
            "SELECT s.*, u.username FROM submissions s LEFT JOIN users u ON u.id = s.user_id"
            " WHERE s.paper_rowid = ?", (paper_rowid,)).fetchone()
        if row is None:
            return None
        return Submission(paper_rowid=row["paper_rowid"],
                          featured_on=date.fromisoformat(row["featured_on"]),
                          submitted_at=row["submitted_at"], hidden=bool(row["hidden"]),
                          username=row["username"])

    def set_hidden(self, paper_rowid: int, hidden: bool) -> None:
        with self._write() as conn:
            conn.execute("UPDATE submissions SET hidden = ? WHERE paper_rowid = ?",
                         (int(hidden), paper_rowid))

    def hidden(self, rowids: Sequence[int]) -> set[int]:
        if not rowids:
            return set()
        marks = ",".join("?" * len(rowids))
        return {r[0] for r in self.conn.execute(
            f"SELECT paper_rowid FROM submissions WHERE hidden = 1 AND paper_rowid IN ({marks})",
            list(rowids))}

    # -- votes ----------------------------------------------------------------

    def vote(self, user_id: int, paper_rowid: int, up: bool | None = None) -> VoteState:
        """Upvote (`up=True`), take it back (`False`) or toggle (`None`).

        The vote row and the paper's total change in one IMMEDIATE transaction,
        and the total is recounted rather than incremented, so concurrent voters
        can neither lose nor double-count a vote.
        """
        with self._write() as conn:
            had = conn.execute("SELECT 1 FROM votes WHERE paper_rowid = ? AND user_id = ?",
                               (paper_rowid, user_id)).fetchone() is not None
            want = (not had) if up is None else up
            if want and not had:
                conn.execute("INSERT INTO votes (paper_rowid, user_id, created_at)"
                             " VALUES (?, ?, ?)", (paper_rowid, user_id, now_iso()))
            elif had and not want:
                conn.execute("DELETE FROM votes WHERE paper_rowid = ? AND user_id = ?",
                             (paper_rowid, user_id))
            total = conn.execute("SELECT count(*) FROM votes WHERE paper_rowid = ?",
                                 (paper_rowid,)).fetchone()[0]
            conn.execute("INSERT INTO paper_votes (paper_rowid, votes) VALUES (?, ?)"
                         " ON CONFLICT (paper_rowid) DO UPDATE SET votes = excluded.votes",
                         (paper_rowid, total))
        return VoteState(votes=total, voted=want)

    def vote_counts(self, rowids: Sequence[int]) -> dict[int, int]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        return dict(self.conn.execute(
            f"SELECT paper_rowid, votes FROM paper_votes WHERE paper_rowid IN ({marks})",
            list(rowids)).fetchall())

    def voted_by(self, user_id: int, rowids: Sequence[int]) -> set[int]:
        if not rowids:
            return set()
        marks = ",".join("?" * len(rowids))
        return {r[0] for r in self.conn.execute(
            f"SELECT paper_rowid FROM votes WHERE user_id = ? AND paper_rowid IN ({marks})",
            [user_id, *rowids])}

    def upvoted(self, user_id: int, limit: int, offset: int = 0) -> list[int]:
        """Rowids of the papers a member upvoted, most recent vote first."""
        return [r[0] for r in self.conn.execute(
            "SELECT paper_rowid FROM votes WHERE user_id = ?"
            " ORDER BY created_at DESC, paper_rowid DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset))]

    def voted_papers(self) -> list[Voted]:
        """Every visible paper with at least one vote, with the day its age counts from:
        the day it was featured by a submission, else its first arXiv version."""
        rows = self.conn.execute(
            "SELECT v.paper_rowid, v.votes,"
            " max(coalesce(p.published, substr(p.added_at, 1, 10)),"
            "     coalesce(s.featured_on, '')) AS listed_on"
            " FROM paper_votes v JOIN papers p ON p.rowid = v.paper_rowid"
            " LEFT JOIN submissions s ON s.paper_rowid = v.paper_rowid"
            " WHERE v.votes > 0 AND coalesce(s.hidden, 0) = 0").fetchall()
        return [Voted(r[0], r[1], date.fromisoformat(r[2])) for r in rows]

    def version(self) -> int:
        """Bumped (by triggers) on every vote, submission, hide and link change."""
        return self.conn.execute("SELECT version FROM community_version").fetchone()[0]

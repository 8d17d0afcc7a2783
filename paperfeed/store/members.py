"""Members, their sessions and API tokens, and rate-limit counters (failed logins, emails).

Rules about passwords, tokens and who may do what live in `paperfeed.members`;
this is their storage. Names and addresses compare case-blind (the columns'
NOCASE collation, on both databases).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text

from ..models import ApiToken, User
from .database import Database, now_iso

USER_COLUMNS = "id, username, email, is_admin, created_at, password_hash, email_verified_at"
U_COLUMNS = ", ".join(f"u.{name}" for name in USER_COLUMNS.split(", "))
USER = f"SELECT {USER_COLUMNS} FROM users"
ANY_USER = text("SELECT 1 FROM users LIMIT 1")
ADD_USER = text("INSERT INTO users (username, email, password_hash, is_admin, created_at)"
                " VALUES (:username, :email, :password_hash, :is_admin, :created_at)"
                f" RETURNING {USER_COLUMNS}")
BY_ID = text(f"{USER} WHERE id = :id")
BY_NAME = text(f"{USER} WHERE username = :name")
BY_LOGIN = text(f"{USER} WHERE username = :login OR email = :login")
ALL = text(f"{USER} ORDER BY id")
COUNT = text("SELECT count(*) FROM users")
TAKEN = text("SELECT username = :username AS same_name FROM users"
             " WHERE username = :username OR email = :email")
SET_PASSWORD = text("UPDATE users SET password_hash = :hash WHERE id = :id")
END_SESSIONS_OF = text("DELETE FROM sessions WHERE user_id = :id")
SET_ADMIN = text("UPDATE users SET is_admin = :admin WHERE id = :id")
# Bound to the address the link was sent to: a link for an old address verifies nothing.
SET_VERIFIED = text("UPDATE users SET email_verified_at = :now"
                    " WHERE id = :id AND email = :email AND email_verified_at IS NULL")

ADD_SESSION = text("INSERT INTO sessions (token_hash, user_id, created_at, expires_at)"
                   " VALUES (:token_hash, :user_id, :now, :expires_at)")
END_EXPIRED = text("DELETE FROM sessions WHERE expires_at < :now")
SESSION_USER = text(f"SELECT {U_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id"
                    " WHERE s.token_hash = :token_hash AND s.expires_at > :now")
END_SESSION = text("DELETE FROM sessions WHERE token_hash = :token_hash")

TOKEN = "id, label, created_at, last_used_at"
ADD_TOKEN = text("INSERT INTO api_tokens (user_id, token_hash, label, created_at)"
                 f" VALUES (:user_id, :token_hash, :label, :now) RETURNING {TOKEN}")
TOKENS_OF = text(f"SELECT {TOKEN} FROM api_tokens WHERE user_id = :user_id ORDER BY id")
REVOKE_TOKEN = text("DELETE FROM api_tokens WHERE id = :id AND user_id = :user_id")
TOKEN_USER = text(f"SELECT {U_COLUMNS}, t.id AS token_id, t.last_used_at AS token_used_at"
                  " FROM api_tokens t JOIN users u ON u.id = t.user_id"
                  " WHERE t.token_hash = :token_hash")
TOUCH_TOKEN = text("UPDATE api_tokens SET last_used_at = :now WHERE id = :id")

COUNT_ATTEMPT = text("INSERT INTO login_failures (key, at) VALUES (:key, :at)")
FORGET_ATTEMPTS = text("DELETE FROM login_failures WHERE at < :before")
ATTEMPTS = text("SELECT count(*), min(at) FROM login_failures WHERE key = :key AND at >= :since")
CLEAR_ATTEMPTS = text("DELETE FROM login_failures WHERE key = :key")
ATTEMPT_MEMORY_S = 86_400


def to_user(row: Mapping[Any, Any] | None) -> User | None:
    if row is None:
        return None
    return User(id=row["id"], username=row["username"], email=row["email"],
                is_admin=bool(row["is_admin"]), created_at=row["created_at"],
                password_hash=row["password_hash"],
                email_verified_at=row["email_verified_at"])


def to_token(row: Mapping[Any, Any]) -> ApiToken:
    return ApiToken(id=row["id"], label=row["label"], created_at=row["created_at"],
                    last_used_at=row["last_used_at"])


class Members:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- members ----------------------------------------------------------------------

    def add_user(self, username: str, email: str, password_hash: str,
                 *, is_admin: bool | None = None) -> User:
        """Create a member; the very first member is an admin unless told otherwise.

        Raises Conflict when the name or email is taken.
        """
        with self.db.write() as tx:
            if is_admin is None:
                is_admin = tx.one(ANY_USER) is None
            row = tx.one(ADD_USER, {
                "username": username, "email": email, "password_hash": password_hash,
                "is_admin": int(is_admin), "created_at": now_iso()})
        user = to_user(row._asdict())
        assert user is not None
        return user

    def user_by_id(self, user_id: int) -> User | None:
        return self._user(BY_ID, {"id": user_id})

    def user_by_name(self, username: str) -> User | None:
        return self._user(BY_NAME, {"name": username})

    def user_by_login(self, login: str) -> User | None:
        """By username or email, case-insensitively."""
        return self._user(BY_LOGIN, {"login": login})

    def _user(self, sql: Any, params: dict[str, Any]) -> User | None:
        row = self.db.one(sql, params)
        return to_user(row._asdict()) if row else None

    def name_or_email_taken(self, username: str, email: str) -> str | None:
        row = self.db.one(TAKEN, {"username": username, "email": email})
        if row is None:
            return None
        return "username" if row.same_name else "email"

    def set_password(self, user_id: int, password_hash: str) -> None:
        """New password; every existing session of the member ends."""
        with self.db.write() as tx:
            tx.run(SET_PASSWORD, {"hash": password_hash, "id": user_id})
            tx.run(END_SESSIONS_OF, {"id": user_id})

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        with self.db.write() as tx:
            tx.run(SET_ADMIN, {"admin": int(is_admin), "id": user_id})

    def set_verified(self, user_id: int, email: str) -> bool:
        """Record that the member proved `email` is theirs; False if it was already
        recorded or the member's address is no longer `email`."""
        with self.db.write() as tx:
            return tx.run(SET_VERIFIED, {"now": now_iso(), "id": user_id, "email": email}) == 1

    def users(self) -> list[User]:
        return [user for row in self.db.all(ALL) if (user := to_user(row._asdict()))]

    def count(self) -> int:
        return int(self.db.scalar(COUNT))

    # -- sessions ---------------------------------------------------------------------

    def add_session(self, token_hash: str, user_id: int, expires_at: str) -> None:
        now = now_iso()
        with self.db.write() as tx:
            tx.run(ADD_SESSION, {"token_hash": token_hash, "user_id": user_id, "now": now,
                                 "expires_at": expires_at})
            tx.run(END_EXPIRED, {"now": now})

    def session_user(self, token_hash: str) -> User | None:
        return self._user(SESSION_USER, {"token_hash": token_hash, "now": now_iso()})

    def end_session(self, token_hash: str) -> None:
        with self.db.write() as tx:
            tx.run(END_SESSION, {"token_hash": token_hash})

    # -- API tokens -------------------------------------------------------------------

    def add_token(self, user_id: int, token_hash: str, label: str) -> ApiToken:
        with self.db.write() as tx:
            row = tx.one(ADD_TOKEN, {"user_id": user_id, "token_hash": token_hash,
                                     "label": label, "now": now_iso()})
        return to_token(row._asdict())

    def tokens(self, user_id: int) -> list[ApiToken]:
        return [to_token(row._asdict()) for row in self.db.all(TOKENS_OF, {"user_id": user_id})]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Delete one of the member's tokens; False if they have none with that id."""
        with self.db.write() as tx:
            return tx.run(REVOKE_TOKEN, {"id": token_id, "user_id": user_id}) == 1

    def token_user(self, token_hash: str) -> tuple[User, int, str | None] | None:
        """(member, token id, when the token was last used) for a token's hash."""
        row = self.db.one(TOKEN_USER, {"token_hash": token_hash})
        if row is None:
            return None
        found = row._asdict()
        user = to_user(found)
        assert user is not None
        return user, found["token_id"], found["token_used_at"]

    def touch_token(self, token_id: int) -> None:
        with self.db.write() as tx:
            tx.run(TOUCH_TOKEN, {"now": now_iso(), "id": token_id})

    # -- rate limits (failed logins, reset emails) ----------------------------------------

    def count_attempt(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        now = time.time()
        with self.db.write() as tx:
            tx.many(COUNT_ATTEMPT, [{"key": key, "at": now} for key in keys])
            tx.run(FORGET_ATTEMPTS, {"before": now - ATTEMPT_MEMORY_S})

    def attempts(self, key: str, since: float) -> tuple[int, float | None]:
        """(attempts of `key` since `since`, unix time of the oldest of them)."""
        row = self.db.one(ATTEMPTS, {"key": key, "since": since})
        assert row is not None
        return int(row[0]), row[1]

    def clear_attempts(self, key: str) -> None:
        with self.db.write() as tx:
            tx.run(CLEAR_ATTEMPTS, {"key": key})

"""A member's own signals for "For you": private ratings, picked categories, their
private feed tokens and the digest's "For you" switch (migration 0007).

Ratings are private and apart from upvotes: +1 "more like this", -1 "less like this",
and 0 is no row. A member's signals read three tables in one statement: ratings,
upvotes (`votes`) and saved papers (`collection_papers` through `collections`, which
the library owns; read here only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import text

from ..models import FeedToken, Rating, Signals
from .database import Database, now_iso

MAX_CATEGORIES = 50

RATE = text("INSERT INTO ratings (user_id, paper_key, rating, rated_at)"
            " VALUES (:user_id, :paper_key, :rating, :now)"
            " ON CONFLICT (user_id, paper_key) DO UPDATE"
            " SET rating = excluded.rating, rated_at = excluded.rated_at")
UNRATE = text("DELETE FROM ratings WHERE user_id = :user_id AND paper_key = :paper_key")
RATINGS = text("SELECT paper_key, rating, rated_at FROM ratings WHERE user_id = :user_id"
               " ORDER BY rated_at DESC, paper_key DESC")
RATED = text("SELECT paper_key, rating FROM ratings"
             " WHERE user_id = :user_id AND paper_key IN :keys")
# One statement for every signal; kind 1 rated +1, -1 rated -1, 2 upvoted, 3 saved.
SIGNALS = text("SELECT paper_key, rating AS kind FROM ratings WHERE user_id = :user_id"
               " UNION ALL SELECT paper_key, 2 FROM votes WHERE user_id = :user_id"
               " UNION ALL SELECT cp.paper_key, 3 FROM collection_papers cp"
               " JOIN collections c ON c.id = cp.collection_id WHERE c.user_id = :user_id")
CATEGORIES = text("SELECT category FROM member_categories WHERE user_id = :user_id"
                  " ORDER BY category")
CLEAR_CATEGORIES = text("DELETE FROM member_categories WHERE user_id = :user_id")
ADD_CATEGORY = text("INSERT INTO member_categories (user_id, category)"
                    " VALUES (:user_id, :category) ON CONFLICT DO NOTHING")
ADD_FEED = text("INSERT INTO feed_tokens (user_id, token_hash, created_at)"
                " VALUES (:user_id, :token_hash, :now) RETURNING id, created_at")
FEEDS_OF = text("SELECT id, created_at FROM feed_tokens WHERE user_id = :user_id ORDER BY id")
FEED_USER = text("SELECT user_id FROM feed_tokens WHERE token_hash = :token_hash")
REVOKE_FEED = text("DELETE FROM feed_tokens WHERE id = :id AND user_id = :user_id")
SET_DIGEST = text("UPDATE users SET digest_for_you = :on WHERE id = :user_id")
DIGEST = text("SELECT digest_for_you FROM users WHERE id = :user_id")


class Ratings:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- ratings --------------------------------------------------------------------

    def rate(self, user_id: int, paper_key: int, rating: int) -> int:
        """Set a member's rating of a paper: +1, -1, or 0 to take it back. Returns it."""
        if rating not in (-1, 0, 1):
            raise ValueError(f"a rating is -1, 0 or 1, not {rating!r}")
        params = {"user_id": user_id, "paper_key": paper_key, "rating": rating,
                  "now": now_iso()}
        with self.db.write() as tx:
            tx.run(RATE if rating else UNRATE, params)
        return rating

    def ratings(self, user_id: int) -> list[Rating]:
        """The member's ratings, the latest first."""
        return [Rating(row[0], int(row[1]), row[2])
                for row in self.db.all(RATINGS, {"user_id": user_id})]

    def rated(self, user_id: int, keys: Sequence[int]) -> dict[int, int]:
        """The member's ratings of `keys` (those rated), by paper key: one query a list."""
        if not keys:
            return {}
        return {row[0]: int(row[1]) for row in
                self.db.all(RATED, {"user_id": user_id, "keys": list(keys)})}

    def signals(self, user_id: int) -> Signals:
        """Ratings, upvotes and saved papers as positive and negative keys (sorted, so
        equal signals compare equal: the fitted-model cache keys on them)."""
        positive: set[int] = set()
        negative: set[int] = set()
        for key, kind in self.db.all(SIGNALS, {"user_id": user_id}):
            (negative if kind == -1 else positive).add(key)
        return Signals(positive=tuple(sorted(positive - negative)),
                       negative=tuple(sorted(negative)),
                       categories=tuple(self.categories(user_id)))

    # -- picked categories ------------------------------------------------------------

    def categories(self, user_id: int) -> list[str]:
        return [row[0] for row in self.db.all(CATEGORIES, {"user_id": user_id})]

    def set_categories(self, user_id: int, categories: Iterable[str]) -> None:
        """Replace the member's picked categories (at most MAX_CATEGORIES)."""
        picked = sorted(set(categories))[:MAX_CATEGORIES]
        with self.db.write() as tx:
            tx.run(CLEAR_CATEGORIES, {"user_id": user_id})
            if picked:
                tx.many(ADD_CATEGORY, [{"user_id": user_id, "category": c} for c in picked])

    # -- private feed tokens and the digest switch -------------------------------------

    def add_feed_token(self, user_id: int, token_hash: str) -> FeedToken:
        with self.db.write() as tx:
            row = tx.one(ADD_FEED, {"user_id": user_id, "token_hash": token_hash,
                                    "now": now_iso()})
        return FeedToken(id=row[0], created_at=row[1])

    def feed_tokens(self, user_id: int) -> list[FeedToken]:
        return [FeedToken(id=row[0], created_at=row[1])
                for row in self.db.all(FEEDS_OF, {"user_id": user_id})]

    def feed_user(self, token_hash: str) -> int | None:
        """The member a feed token belongs to, or None (unknown or revoked)."""
        found = self.db.scalar(FEED_USER, {"token_hash": token_hash})
        return int(found) if found is not None else None

    def revoke_feed_token(self, user_id: int, token_id: int) -> bool:
        with self.db.write() as tx:
            return tx.run(REVOKE_FEED, {"id": token_id, "user_id": user_id}) == 1

    def set_digest_for_you(self, user_id: int, on: bool) -> None:
        with self.db.write() as tx:
            tx.run(SET_DIGEST, {"on": int(on), "user_id": user_id})

    def digest_for_you(self, user_id: int) -> bool:
        return bool(self.db.scalar(DIGEST, {"user_id": user_id}))

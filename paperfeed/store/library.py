"""A member's library: named collections of saved papers, and their share links.

Collections belong to one member (`user_id`); every statement that reads or changes one
by id also names its owner, so a wrong id and someone else's id look the same (None,
no change) and the rules above the store turn both into a 404. A share token is random
and unique; making a new one replaces the old, so the old link stops working.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from ..models import Collection
from .database import Database, now_iso
from .papers import HIDDEN_KEYS

COLUMNS = "c.id, c.user_id, c.name, c.share_token, c.created_at"
CREATE = text("INSERT INTO collections (user_id, name, created_at)"
              " VALUES (:user_id, :name, :now) RETURNING id")
OWNED = text(f"SELECT {COLUMNS}, (SELECT count(*) FROM collection_papers cp"
             " WHERE cp.collection_id = c.id) AS count"
             " FROM collections c WHERE c.id = :id AND c.user_id = :user_id")
BY_NAME = text(f"SELECT {COLUMNS}, 0 AS count FROM collections c"
               " WHERE c.user_id = :user_id AND c.name = :name")
BY_TOKEN = text(f"SELECT {COLUMNS}, (SELECT count(*) FROM collection_papers cp"
                " WHERE cp.collection_id = c.id) AS count"
                " FROM collections c WHERE c.share_token = :token")
OF_MEMBER = text(f"SELECT {COLUMNS}, count(cp.paper_key) AS count FROM collections c"
                 " LEFT JOIN collection_papers cp ON cp.collection_id = c.id"
                 " WHERE c.user_id = :user_id"
                 " GROUP BY c.id, c.user_id, c.name, c.share_token, c.created_at"
                 " ORDER BY c.created_at, c.id")
RENAME = text("UPDATE collections SET name = :name WHERE id = :id AND user_id = :user_id")
DELETE = text("DELETE FROM collections WHERE id = :id AND user_id = :user_id")
SET_TOKEN = text("UPDATE collections SET share_token = :token"
                 " WHERE id = :id AND user_id = :user_id")
ADD = text("INSERT INTO collection_papers (collection_id, paper_key, added_at)"
           " SELECT id, :paper_key, :now FROM collections WHERE id = :id AND user_id = :user_id"
           " ON CONFLICT DO NOTHING")
REMOVE = text("DELETE FROM collection_papers WHERE paper_key = :paper_key AND collection_id IN"
              " (SELECT id FROM collections WHERE id = :id AND user_id = :user_id)")
PAPERS = text("SELECT paper_key FROM collection_papers WHERE collection_id = :id"
              f" AND paper_key NOT IN ({HIDDEN_KEYS})"
              " ORDER BY added_at DESC, paper_key DESC LIMIT :limit OFFSET :offset")
HOLDING = text("SELECT cp.paper_key, cp.collection_id FROM collection_papers cp"
               " JOIN collections c ON c.id = cp.collection_id"
               " WHERE c.user_id = :user_id AND cp.paper_key IN :keys")
SAVED = text("SELECT DISTINCT cp.paper_key FROM collection_papers cp"
             " JOIN collections c ON c.id = cp.collection_id WHERE c.user_id = :user_id")
COUNT = text("SELECT count(*) FROM collections WHERE user_id = :user_id")


class Library:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- collections ----------------------------------------------------------------------

    def create(self, user_id: int, name: str) -> Collection:
        """A new, private, empty collection; `Conflict` if the member has one so named
        (names compare case-blind)."""
        now = now_iso()
        with self.db.write() as tx:
            new_id = int(tx.scalar(CREATE, {"user_id": user_id, "name": name, "now": now}))
        return Collection(new_id, user_id, name, None, now, 0)

    def get(self, user_id: int, collection_id: int) -> Collection | None:
        """The member's collection `collection_id`; None if there is none or it is not
        theirs."""
        row = self.db.one(OWNED, {"id": collection_id, "user_id": user_id})
        return Collection(*row) if row else None

    def by_name(self, user_id: int, name: str) -> Collection | None:
        row = self.db.one(BY_NAME, {"user_id": user_id, "name": name})
        return Collection(*row) if row else None

    def by_share_token(self, token: str) -> Collection | None:
        row = self.db.one(BY_TOKEN, {"token": token})
        return Collection(*row) if row else None

    def of_member(self, user_id: int) -> list[Collection]:
        """The member's collections with their paper counts, oldest first."""
        return [Collection(*row) for row in self.db.all(OF_MEMBER, {"user_id": user_id})]

    def count(self, user_id: int) -> int:
        return int(self.db.scalar(COUNT, {"user_id": user_id}))

    def rename(self, user_id: int, collection_id: int, name: str) -> bool:
        with self.db.write() as tx:
            return tx.run(RENAME, {"id": collection_id, "user_id": user_id,
                                   "name": name}) == 1

    def delete(self, user_id: int, collection_id: int) -> bool:
        """Delete the collection and its list (the papers stay in the store)."""
        with self.db.write() as tx:
            return tx.run(DELETE, {"id": collection_id, "user_id": user_id}) == 1

    def set_share_token(self, user_id: int, collection_id: int, token: str | None) -> bool:
        """Share by link (`token`), or stop sharing (None); a new token revokes the old."""
        with self.db.write() as tx:
            return tx.run(SET_TOKEN, {"id": collection_id, "user_id": user_id,
                                      "token": token}) == 1

    # -- papers ---------------------------------------------------------------------------

    def add(self, user_id: int, collection_id: int, paper_key: int) -> bool:
        """Put a paper in the member's collection; False if it was there (or the
        collection is not theirs)."""
        with self.db.write() as tx:
            return tx.run(ADD, {"id": collection_id, "user_id": user_id,
                                "paper_key": paper_key, "now": now_iso()}) == 1

    def remove(self, user_id: int, collection_id: int, paper_key: int) -> bool:
        with self.db.write() as tx:
            return tx.run(REMOVE, {"id": collection_id, "user_id": user_id,
                                   "paper_key": paper_key}) == 1

    def papers(self, collection_id: int, limit: int, offset: int = 0) -> list[int]:
        """Keys of the collection's papers, the latest added first; hidden ones left out.
        Not owner-checked: the caller has the collection (by owner or share token)."""
        return [row[0] for row in self.db.all(PAPERS, {"id": collection_id, "limit": limit,
                                                      "offset": offset})]

    def holding(self, user_id: int, keys: Sequence[int]) -> dict[int, set[int]]:
        """Which of the member's collections hold each of `keys` (paper key → ids), for
        the cards of a page: one query."""
        if not keys:
            return {}
        found: dict[int, set[int]] = {}
        for paper_key, collection_id in self.db.all(HOLDING, {"user_id": user_id,
                                                              "keys": list(keys)}):
            found.setdefault(paper_key, set()).add(collection_id)
        return found

    def saved_keys(self, user_id: int) -> set[int]:
        """Every paper in any of the member's collections (positive signals for the
        recommender)."""
        return {row[0] for row in self.db.all(SAVED, {"user_id": user_id})}

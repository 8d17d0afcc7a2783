"""A member's library: the rules over `store.library`.

Names are one line of 1-100 characters, unique per member (case-blind). The first
save of a member with no collection named "Saved" makes it, so the one-click Save on
a card needs no choice. A member keeps at most MAX_COLLECTIONS collections of at most
MAX_PAPERS papers each: generous for a reading list, a bound on what one account can
make the database hold. Someone else's collection is a 404, never a 403: whether an id
exists is nobody else's business.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from ..errors import BadRequest, Conflict, NotFound
from ..models import Collection, User
from ..store import Store

DEFAULT_NAME = "Saved"
MAX_NAME = 100
MAX_COLLECTIONS = 200
MAX_PAPERS = 10_000
MAX_ID = 2**62  # ids past this are no collection (and would not fit a database integer)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean_name(name: str) -> str:
    """One line, spaces collapsed; BadRequest if empty or over MAX_NAME characters."""
    name = " ".join(_CONTROL.sub(" ", name).split())
    if not name:
        raise BadRequest("A collection needs a name.")
    if len(name) > MAX_NAME:
        raise BadRequest(f"A collection name has at most {MAX_NAME} characters.")
    return name


@dataclass
class Collections:
    store: Store

    def create(self, user: User, name: str) -> Collection:
        name = clean_name(name)
        if self.store.library.count(user.id) >= MAX_COLLECTIONS:
            raise BadRequest(f"You have {MAX_COLLECTIONS} collections, the most one member "
                             "may keep; delete one first.")
        try:
            return self.store.library.create(user.id, name)
        except Conflict:
            raise Conflict(f"You already have a collection called {name!r}.") from None

    def owned(self, user: User, collection_id: int) -> Collection:
        found = (self.store.library.get(user.id, collection_id)
                 if 0 < collection_id <= MAX_ID else None)
        if found is None:
            raise NotFound(f"no collection {collection_id} of yours")
        return found

    def shared(self, token: str) -> Collection:
        found = self.store.library.by_share_token(token) if len(token) <= 64 else None
        if found is None:
            raise NotFound("no shared collection at this link (it may have been unshared)")
        return found

    def rename(self, user: User, collection_id: int, name: str) -> Collection:
        self.owned(user, collection_id)
        name = clean_name(name)
        try:
            self.store.library.rename(user.id, collection_id, name)
        except Conflict:
            raise Conflict(f"You already have a collection called {name!r}.") from None
        return self.owned(user, collection_id)

    def delete(self, user: User, collection_id: int) -> None:
        self.owned(user, collection_id)
        if not self.store.library.delete(user.id, collection_id):
            raise NotFound(f"no collection {collection_id} of yours")

    def share(self, user: User, collection_id: int) -> Collection:
        """A new share link (a previous one stops working)."""
        self.owned(user, collection_id)
        self.store.library.set_share_token(user.id, collection_id, secrets.token_urlsafe(18))
        return self.owned(user, collection_id)

    def unshare(self, user: User, collection_id: int) -> Collection:
        self.owned(user, collection_id)
        self.store.library.set_share_token(user.id, collection_id, None)
        return self.owned(user, collection_id)

    def default(self, user: User) -> Collection:
        """The member's "Saved" collection, made on first use."""
        found = self.store.library.by_name(user.id, DEFAULT_NAME)
        if found is not None:
            return found
        try:
            return self.store.library.create(user.id, DEFAULT_NAME)
        except Conflict:  # made meanwhile by a concurrent save
            found = self.store.library.by_name(user.id, DEFAULT_NAME)
            assert found is not None
            return found

    def add(self, user: User, collection_id: int, paper_key: int) -> bool:
        collection = self.owned(user, collection_id)
        if collection.count >= MAX_PAPERS:
            raise BadRequest(f"A collection holds at most {MAX_PAPERS} papers.")
        return self.store.library.add(user.id, collection_id, paper_key)

    def remove(self, user: User, collection_id: int, paper_key: int) -> bool:
        self.owned(user, collection_id)
        return self.store.library.remove(user.id, collection_id, paper_key)

    def toggle_saved(self, user: User, paper_key: int) -> bool:
        """The card's Save button: saved anywhere → taken out of every collection of the
        member's; else put in "Saved". Returns whether the paper is saved now."""
        holding = self.store.library.holding(user.id, [paper_key]).get(paper_key, set())
        if holding:
            for collection_id in holding:
                self.store.library.remove(user.id, collection_id, paper_key)
            return False
        self.add(user, self.default(user).id, paper_key)
        return True

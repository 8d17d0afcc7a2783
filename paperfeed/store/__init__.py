"""Stage 2: the store. The only code that knows there is a database.

    store = Store(settings.store_url)  # PAPERFEED_DATABASE_URL, else sqlite:///…/paperfeed.sqlite
    store.papers         upserts and identity, lookups, the lists of a period, filters,
                         and the change feed the indexer follows
    store.authors        an author's papers, co-authors, categories; the author search
    store.members        members, sessions, rate-limit counters
    store.community      submissions, hiding, upvotes
    store.library        a member's collections of saved papers, share links
    store.ratings        a member's private ratings, signals, picked categories, feed tokens
    store.comments       comments on papers, one level of replies, counts for cards
    store.subscriptions  digest subscriptions
    store.outbox         queued digests, and the papers already sent to each address
    store.leases         jobs only one process may run at a time
    store.harvests       where resumable harvests stopped

Every method takes and returns the plain records of `paperfeed.models`, and
raises the errors of `paperfeed.errors`; which database runs underneath (and its
driver) is known only to this package. Import these names from here, never from
the modules inside: they are the interface a second backend keeps.
"""

from __future__ import annotations

from sqlalchemy import text

from ..models import StoreState
from .authors import Authors
from .comments import MAX_BODY as MAX_COMMENT
from .comments import RATE_LIMIT as COMMENT_RATE_LIMIT
from .comments import Comments
from .community import Community
from .copy import (
    CopyReport,
    TableCount,
    copy_store,
    renew_identity,
    snapshot_file,
    sqlite_problem,
    store_counts,
)
from .database import Database, sqlite_url
from .harvests import Harvests
from .leases import Leases
from .library import Library
from .members import Members
from .migrate import current_revision, head, migrate
from .outbox import Outbox
from .papers import Papers
from .ratings import Ratings
from .subscriptions import Subscriptions

__all__ = ["COMMENT_RATE_LIMIT", "MAX_COMMENT", "Authors", "Comments", "Community", "CopyReport",
           "Harvests", "Leases", "Library", "Members", "Outbox", "Papers", "Ratings", "Store",
           "Subscriptions", "TableCount", "copy_store", "migrate_schema", "renew_identity",
           "schema_head", "snapshot_file", "sqlite_problem", "sqlite_url", "store_counts"]

# What a rendered page depends on, in one statement: the papers' change counter and
# the community's (votes, submissions, hiding, links, comments).
STATE = text("SELECT (SELECT coalesce(max(seq), 0) FROM papers),"
             " (SELECT version FROM community_version)")


def migrate_schema(url: str) -> tuple[str | None, str]:
    """Bring the database at `url` up to this paperfeed's schema, as opening a `Store`
    does: (the revision it was at, None if new; the revision it is at now). A database
    from a newer paperfeed raises ConfigError and is left as it was."""
    db = Database(url)
    try:
        return current_revision(db), migrate(db)
    finally:
        db.close()


def schema_head() -> str:
    """The newest schema revision this paperfeed knows."""
    return head()


class Store:
    def __init__(self, url: str) -> None:
        self.db = Database(url)
        migrate(self.db)
        self.papers = Papers(self.db)
        self.authors = Authors(self.db)
        self.members = Members(self.db)
        self.community = Community(self.db)
        self.library = Library(self.db)
        self.ratings = Ratings(self.db)
        self.comments = Comments(self.db)
        self.subscriptions = Subscriptions(self.db)
        self.outbox = Outbox(self.db)
        self.leases = Leases(self.db)
        self.harvests = Harvests(self.db)

    def state(self) -> StoreState:
        row = self.db.one(STATE)
        assert row is not None
        return StoreState(seq=int(row[0]), community=int(row[1]))

    def close(self) -> None:
        self.db.close()

"""A store holding a row in every table, written through the store's own interface, and
every table's rows read back for comparing two stores (tests of db copy, backup, restore)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from paperfeed.models import Paper
from paperfeed.sources import read_source
from paperfeed.store import Store
from paperfeed.store.copy import data_tables
from paperfeed.store.database import Database

from ..conftest import FIXTURES


def populate(store: Store) -> None:
    papers = [r for r in read_source(FIXTURES / "arxiv_cs_excerpt.jsonl") if isinstance(r, Paper)]
    store.papers.upsert(papers)
    first = papers[0]  # a second version: an update, not a new paper
    store.papers.upsert([dataclasses.replace(first, version=(first.version or 1) + 1,
                                             title=first.title + " (revised)")])
    keys = [store.papers.get(paper.id).key for paper in papers[:6]]  # type: ignore[union-attr]
    store.papers.add_links(keys[0], {"code": "https://example.org/code"})
    ada = store.members.add_user("ada", "Ada@Example.org", "hash-a")
    bob = store.members.add_user("bob", "bob@example.org", "hash-b")
    store.members.set_verified(ada.id, ada.email)
    store.members.add_session("session-hash", ada.id, "2099-01-01T00:00:00+00:00")
    store.members.add_token(bob.id, "token-hash", "laptop")
    store.members.count_attempt(["login:ada", "ip:10.0.0.1"])
    store.community.submit(keys[1], bob.id, date(2026, 11, 30))
    store.community.submit(keys[2], ada.id, date(2026, 11, 29))
    store.community.set_hidden(keys[2], True)
    for user in (ada, bob):
        store.community.vote(user.id, keys[0], True)
    store.community.vote(bob.id, keys[1], True)
    store.ratings.rate(ada.id, keys[3], 1)
    store.ratings.rate(ada.id, keys[4], -1)
    store.ratings.set_categories(ada.id, ["cs.LG", "cs.CL"])
    store.ratings.add_feed_token(ada.id, "feed-hash")
    store.ratings.set_digest_for_you(ada.id, True)
    reading = store.library.create(ada.id, "Reading <b>list</b>")
    store.library.add(ada.id, reading.id, keys[0])
    store.library.add(ada.id, reading.id, keys[5])
    store.library.set_share_token(ada.id, reading.id, "share-token")
    top = store.comments.add(ada.id, keys[0], "Nice <script>alert(1)</script> result")
    store.comments.add(bob.id, keys[0], "Agreed", parent_id=top.id)
    subscription = store.subscriptions.add("ada@example.org", "daily", True, None, ada.id)
    store.subscriptions.set_status(subscription.id, "active")
    store.outbox.plan(subscription, "daily:2026-11-30", {"trending": keys[:3]}, 10,
                      "<digest-1@example.org>")
    for item in store.outbox.claim("host:1:x", 60, 10):
        store.outbox.mark_sent(item.id, "host:1:x")
    store.harvests.save("arxiv-oai:cs::", resumption_token="token|1", from_date=None,
                        pages=1, records=20)
    store.leases.acquire("harvest", "host:1:x", 600)


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (with column names), in a fixed order."""
    db = Database(url)
    try:
        tables = data_tables(db) + ["alembic_version"]
        dumped = {}
        for table in tables:
            found = db._executor().driver.execute(f'SELECT * FROM "{table}"')
            names = [column[0] for column in found.description]
            dumped[table] = sorted((tuple(zip(names, row, strict=True)) for row in found),
                                   key=repr)
        return dumped
    finally:
        db.close()

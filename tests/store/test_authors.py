"""Authors in the store: ingest keeps `paper_authors` in step with each paper's author
list, the migration backfills stored papers, variants of a name share a key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import text

from paperfeed.models import Paper
from paperfeed.store import Store


def paper(arxiv_id: str, authors: list[str], day: date, version: int = 1) -> Paper:
    return Paper(title=f"A paper numbered {arxiv_id} about engines", abstract="Engines.",
                 authors=authors, arxiv_id=arxiv_id, version=version, published=day,
                 categories=["math.HO"], source="test")


def test_papers_newest_first_and_variants_share_a_key(store: Store) -> None:
    store.papers.upsert([paper("1901.00001", ["Ada Lovelace", "C. Babbage"], date(2019, 1, 1)),
                         paper("1902.00001", ["Ádá Lovelace"], date(2019, 2, 1)),
                         paper("1903.00001", ["A. Lovelace"], date(2019, 3, 1))])
    assert [p.arxiv_id for p in store.authors.papers("ada lovelace", 10)] == [
        "1902.00001", "1901.00001"]
    assert store.authors.count("ADA LOVELACE") == 2
    profile = store.authors.profile("Ada Lovelace")
    assert [v.name for v in profile.variants] == ["A. Lovelace"]
    assert [(c.name, c.papers) for c in profile.coauthors] == [("C. Babbage", 1)]
    assert [a.key for a in store.authors.search("lovelace")] == ["ada lovelace", "a lovelace"]


def test_a_new_version_with_other_authors_replaces_the_rows(store: Store) -> None:
    store.papers.upsert([paper("1901.00001", ["Ada Lovelace"], date(2019, 1, 1))])
    store.papers.upsert([paper("1901.00001", ["Mary Somerville"], date(2019, 1, 1), 2)])
    assert store.authors.count("Ada Lovelace") == 0
    assert store.authors.count("Mary Somerville") == 1
    store.papers.upsert([paper("1901.00001", ["Ada Lovelace"], date(2019, 1, 1), 1)])
    assert store.authors.count("Ada Lovelace") == 0, "an older version changes nothing"


def test_hidden_papers_are_on_no_author_page(store: Store) -> None:
    store.papers.upsert([paper("1901.00001", ["Ada Lovelace"], date(2019, 1, 1)),
                         paper("1902.00001", ["Ada Lovelace"], date(2019, 2, 1))])
    user = store.members.add_user("admin", "admin@example.org", "hash")
    hidden = store.papers.get("1902.00001")
    assert hidden is not None
    store.community.submit(hidden.key, user.id, date(2019, 2, 2))
    store.community.set_hidden(hidden.key, True)
    assert [p.arxiv_id for p in store.authors.papers("Ada Lovelace", 10)] == ["1901.00001"]
    assert store.authors.count("Ada Lovelace") == 1


def test_migration_backfills_papers_stored_before_it(
        make_store: Callable[[], Store]) -> None:
    old = make_store()
    old.papers.upsert([paper("1901.00001", ["Ada Lovelace", "Charles Babbage"],
                             date(2019, 1, 1))])
    with old.db.write() as tx:  # back to revision 0008, as a store made before 0009 was
        tx.run(text("DROP TABLE paper_authors"))
        tx.run(text("DROP TABLE store_identity"))  # and what came after it
        tx.run(text("UPDATE alembic_version SET version_num = '0008'"))
    reopened = make_store()
    assert reopened.authors.count("Charles Babbage") == 1
    assert reopened.authors.profile("Ada Lovelace").coauthors[0].name == "Charles Babbage"

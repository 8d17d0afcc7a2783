"""Authors: a person's papers, co-authors and categories, and the author search.

`paper_authors` (revision 0009) holds one row per (author key, paper), written by
ingest (`ingest.write_authors`) whenever a paper's author list is new or changes. An
author's papers are a primary-key range; co-authors are one join through
`paper_authors_paper`. Measured on the 588k-paper store: docs/ui.md, bench/authors.py.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ..errors import BadRequest
from ..models import AuthorCount, AuthorProfile, StoredPaper, author_key
from .database import Database, Executor
from .papers import P_COLUMNS, to_paper

# Two-letter prefixes ("zh": every Zhang, Zhao, Zhou) group tens of thousands of index rows:
# the author search's p95 was 1.3 s on the 588k store, three letters stay in tens of ms
# (docs/ui.md). So shorter queries are refused with a message.
MIN_QUERY_LETTERS = 3
# A paper an admin hid (its submission hidden) is on no author's page.
VISIBLE = "p.key NOT IN (SELECT paper_key FROM submissions WHERE hidden = 1)"
PAPERS = text(f"SELECT {P_COLUMNS} FROM paper_authors a JOIN papers p ON p.key = a.paper_key"
              f" WHERE a.author_key = :key AND {VISIBLE}"
              " ORDER BY p.published DESC, p.key DESC LIMIT :limit OFFSET :offset")
# From the index alone: reading 739 papers' rows to count them cost ~50 ms cold.
COUNT = text("SELECT count(*) FROM paper_authors a WHERE a.author_key = :key"
             f" AND {VISIBLE.replace('p.key', 'a.paper_key')}")
NAMES = text("SELECT name, count(*) AS n FROM paper_authors WHERE author_key = :key"
             " GROUP BY name ORDER BY n DESC, name")
CATEGORIES = text("SELECT c.category, count(*) AS n FROM paper_authors a"
                  " JOIN paper_categories c ON c.paper_key = a.paper_key"
                  " WHERE a.author_key = :key GROUP BY c.category"
                  " ORDER BY n DESC, c.category LIMIT :limit")
# Co-authors over all the author's papers, leaving out papers with more than MAX_LIST
# authors: a 3,000-name collaboration says little about who works with whom, and would
# make one page cost seconds. From `paper_authors` alone: ordering by date to keep the
# newest papers only read every paper's row (~100 ms for the most prolific author).
COAUTHORS = text(
    "SELECT o.author_key, count(*) AS n, min(o.name) AS name"
    " FROM paper_authors a JOIN paper_authors o ON o.paper_key = a.paper_key"
    " WHERE a.author_key = :key AND o.author_key <> :key"
    " AND (SELECT count(*) FROM paper_authors x WHERE x.paper_key = a.paper_key) <= :big"
    " GROUP BY o.author_key ORDER BY n DESC, o.author_key LIMIT :limit")
# Keys whose sort key starts with a prefix, with their number of papers.
PREFIX = ("SELECT author_key, count(*) AS n, min(name) AS name FROM paper_authors"
          " WHERE {column} >= :low AND {column} < :high GROUP BY author_key")
SEARCH = text(f"SELECT author_key, sum(n) AS n, min(name) AS name FROM"
              f" ({PREFIX.format(column='author_key')} UNION ALL"
              f" {PREFIX.format(column='sort_key')}) AS found"
              " GROUP BY author_key ORDER BY n DESC, author_key LIMIT :limit")
VARIANTS = text(f"{PREFIX.format(column='sort_key')} ORDER BY n DESC, author_key LIMIT :limit")
MAX_LIST = 50
END = "\x7f"  # after every character a key holds (byte-wise: the "C" collation)


class Authors:
    def __init__(self, db: Database) -> None:
        self.db = db

    def papers(self, name: str, limit: int, offset: int = 0) -> list[StoredPaper]:
        """The papers of the person printed as `name` (any variant of its key), newest
        first."""
        rows = self.db.all(PAPERS, {"key": author_key(name), "limit": limit, "offset": offset})
        return [to_paper(row._asdict()) for row in rows]

    def count(self, name: str) -> int:
        return int(self.db.scalar(COUNT, {"key": author_key(name)}))

    def profile(self, name: str, *, coauthors: int = 24, categories: int = 8) -> AuthorProfile:
        key = author_key(name)
        with self.db.read() as tx:
            names = [(row.name, int(row.n)) for row in tx.all(NAMES, {"key": key})]
            count = int(tx.scalar(COUNT, {"key": key})) if names else 0
            cats = [(row.category, int(row.n)) for row in tx.all(
                CATEGORIES, {"key": key, "limit": categories})] if names else []
            people = _counts(tx.all(COAUTHORS, {"key": key, "big": MAX_LIST,
                                                 "limit": coauthors})) if names else []
            variants = self._variants(tx, key)
        return AuthorProfile(key=key, name=names[0][0] if names else name, papers=count,
                             names=names, categories=cats, coauthors=people,
                             variants=variants)

    @staticmethod
    def _variants(tx: Executor, key: str, limit: int = 8) -> list[AuthorCount]:
        """Other keys with the same surname and first initial ("j smith" for "john
        smith" and the other way round): maybe the same person, never merged."""
        words = key.split(" ")
        if len(words) < 2 or not words[0]:
            return []
        low = f"{words[-1]} {words[0][0]}"
        found = _counts(tx.all(VARIANTS, {"low": low, "high": low + END, "limit": 4 * limit}))
        return [a for a in found if a.key != key and _compatible(a.key, key)][:limit]

    def search(self, query: str, limit: int = 30) -> list[AuthorCount]:
        """Authors whose name, or surname, starts with `query`; most papers first.
        Raises BadRequest below `MIN_QUERY_LETTERS` letters or digits."""
        low = author_key(query)
        if len(low.replace(" ", "")) < MIN_QUERY_LETTERS:
            raise BadRequest(f"Type at least {MIN_QUERY_LETTERS} letters of a name or a "
                             f"surname to search authors: {query.strip()[:20]!r} is too short")
        return _counts(self.db.all(SEARCH, {"low": low, "high": low + END, "limit": limit}))


def _compatible(one: str, other: str) -> bool:
    """Whether the first names of two keys (same surname) could be one person's: each
    word an initial of, or equal to, the other's."""
    a, b = one.split(" ")[:-1], other.split(" ")[:-1]
    return all(x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=False))


def _counts(rows: list[Any]) -> list[AuthorCount]:
    return [AuthorCount(key=row.author_key, name=row.name, papers=int(row.n)) for row in rows]

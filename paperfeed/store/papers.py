"""Papers: upserts (see `ingest`), lookups, the lists of a period, filters, and the
change feed the indexer follows.

A paper is known to the rest of paperfeed by its public `id` and its integer
`key`. Page-wide aggregates (count, category menu) are computed once per state
of the store: every insert or change bumps max(seq).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import TextClause, text

from ..models import IndexRow, Paper, Sighting, StoredPaper, UpsertStats
from . import ingest
from .database import Database

T = TypeVar("T")

COLUMNS = ("key", "id", "arxiv_id", "doi", "title", "abstract", "authors", "categories",
           "published", "updated", "version", "links", "added_at")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM papers"
P_COLUMNS = ", ".join(f"p.{c}" for c in COLUMNS)

MAX_SEQ = text("SELECT coalesce(max(seq), 0) FROM papers")
IDENTITY = text("SELECT token FROM store_identity")
COUNT = text("SELECT count(*) FROM papers")
BY_ID = text(f"{SELECT} WHERE id = :id OR arxiv_id = :id")
BY_ARXIV_ID = text(f"{SELECT} WHERE arxiv_id = :id")
BY_KEYS = text(f"{SELECT} WHERE key IN :keys")
IDS_BY_KEYS = text("SELECT key, id FROM papers WHERE key IN :keys")
COUNT_CHANGED = text("SELECT count(*) FROM papers WHERE seq > :seq")
ROW_COLUMNS = "key, seq, content_hash, title, abstract, authors, categories, published"
CHANGED = text(f"SELECT {ROW_COLUMNS} FROM papers WHERE seq > :seq ORDER BY seq LIMIT :limit")
ROWS_BY_KEYS = text(f"SELECT {ROW_COLUMNS} FROM papers WHERE key IN :keys")
KEYS_CHANGED = text("SELECT key FROM papers WHERE seq > :seq")
NEWEST_UP_TO = text("SELECT key FROM papers WHERE seq <= :seq ORDER BY published DESC, key DESC")
SOURCES = text("SELECT source, ref, rank, seen_at FROM paper_sources WHERE paper_key = :key"
               " ORDER BY seen_at, source, ref")
CATEGORIES = text("SELECT category, count(*) FROM paper_categories GROUP BY category"
                  " ORDER BY count(*) DESC, category LIMIT :limit")
LINKS = text("SELECT links FROM papers WHERE key = :key")
SET_LINKS = text("UPDATE papers SET links = :links WHERE key = :key")

# The papers an admin hid (by hiding their submission): in no list the store returns.
HIDDEN_KEYS = "SELECT paper_key FROM submissions WHERE hidden = 1"
# A period's list: papers first published in it, plus papers members submitted
# ("featured") in it; a paper an admin hid is in no list.
LISTED = ("SELECT key FROM papers WHERE published BETWEEN :start AND :end"
          " UNION SELECT paper_key FROM submissions"
          " WHERE featured_on BETWEEN :start AND :end AND hidden = 0")
# The papers one member submitted (featured) in a period.
LISTED_BY = ("SELECT s.paper_key AS key FROM submissions s JOIN users u ON u.id = s.user_id"
             " WHERE u.username = :submitter AND s.featured_on BETWEEN :start AND :end"
             " AND s.hidden = 0")
LIST_ORDER = {
    "newest": "listed_on DESC, p.key ASC",
    "votes": "coalesce(v.votes, 0) DESC, listed_on DESC, p.key ASC",
}
# A daily list's category filter: the (category, paper) primary key answers it.
IN_CATEGORY = (" AND {key} IN (SELECT paper_key FROM paper_categories"
               " WHERE category = :category)")
COUNT_LISTED = {bool(only): text(
    f"SELECT count(*) FROM ({LISTED}) AS l WHERE NOT EXISTS"
    f" (SELECT 1 FROM submissions s WHERE s.paper_key = l.key AND s.hidden = 1){only}")
    for only in ("", IN_CATEGORY.format(key="l.key"))}
CATEGORIES_LISTED = text(
    f"SELECT c.category, count(*) AS n FROM ({LISTED}) AS l"
    " JOIN paper_categories c ON c.paper_key = l.key"
    " GROUP BY c.category ORDER BY n DESC, c.category LIMIT :limit")
LATEST = text("SELECT max(day) FROM (SELECT max(published) AS day FROM papers"
              " UNION ALL SELECT max(featured_on) FROM submissions WHERE hidden = 0) AS days")
# The larger of two values: a scalar max() on SQLite, greatest() on PostgreSQL.
GREATEST = {"sqlite": "max", "postgresql": "greatest"}


def to_paper(row: Mapping[Any, Any]) -> StoredPaper:
    return StoredPaper(
        key=row["key"],
        id=row["id"],
        title=row["title"],
        abstract=row["abstract"],
        authors=json.loads(row["authors"]),
        categories=row["categories"].split(),
        arxiv_id=row["arxiv_id"],
        doi=row["doi"],
        published=_date(row["published"]),
        updated=_date(row["updated"]),
        version=row["version"],
        links=json.loads(row["links"]),
        added_at=row["added_at"],
        listed_on=_date(row.get("listed_on")),
    )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class Papers:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._memos: dict[str, tuple[int, Any]] = {}
        greatest = GREATEST[db.dialect]
        self._between = {(sort, listed is LISTED_BY, bool(only)): text(
            f"SELECT {P_COLUMNS}, {greatest}(coalesce(p.published, ''),"
            f" coalesce(s.featured_on, '')) AS listed_on"
            f" FROM ({listed}) AS l JOIN papers p ON p.key = l.key"
            " LEFT JOIN submissions s ON s.paper_key = p.key"
            " LEFT JOIN paper_votes v ON v.paper_key = p.key"
            f" WHERE coalesce(s.hidden, 0) = 0{only}"
            f" ORDER BY {order} LIMIT :limit OFFSET :offset")
            for sort, order in LIST_ORDER.items() for listed in (LISTED, LISTED_BY)
            for only in ("", IN_CATEGORY.format(key="p.key"))}

    # -- writes -----------------------------------------------------------------------

    def upsert(self, papers: Iterable[Paper]) -> UpsertStats:
        """Insert or merge `papers` in one transaction. Idempotent."""
        return ingest.upsert(self.db, papers)

    def add_links(self, key: int, links: dict[str, str]) -> None:
        """Add links (code, project page) to a paper. Links are not indexed: seq stays."""
        with self.db.write() as tx:
            row = tx.one(LINKS, {"key": key})
            if row is not None:
                merged = {**json.loads(row.links), **links}
                tx.run(SET_LINKS, {"links": json.dumps(merged), "key": key})

    # -- single papers ----------------------------------------------------------------

    def get(self, paper_id: str) -> StoredPaper | None:
        """By public id or arXiv id (with or without version)."""
        row = self.db.one(BY_ID, {"id": paper_id})
        if row is None and "v" in paper_id:
            row = self.db.one(BY_ARXIV_ID, {"id": paper_id.rsplit("v", 1)[0]})
        return to_paper(row._asdict()) if row else None

    def find(self, paper: Paper) -> StoredPaper | None:
        """The stored paper `paper` is (or would be merged into), by the upsert's rules."""
        row = ingest.find(self.db, paper)
        return to_paper(row) if row else None

    def get_many(self, keys: Sequence[int]) -> list[StoredPaper]:
        """Papers for `keys`, in the order given (missing ones dropped)."""
        if not keys:
            return []
        rows = self.db.all(BY_KEYS, {"keys": list(keys)})
        by_key = {row.key: to_paper(row._asdict()) for row in rows}
        return [by_key[k] for k in keys if k in by_key]

    def ids(self, keys: Sequence[int] | None = None) -> dict[int, str]:
        """Public ids by key: of `keys`, or of every paper (the map's points, written by the
        indexer: 588k in 0.5 s idle, 9 s on a loaded machine)."""
        if keys is None:
            return {row[0]: row[1] for row in self.db.all(_statement("SELECT key, id FROM papers"))}
        if not keys:
            return {}
        return {row[0]: row[1] for row in self.db.all(IDS_BY_KEYS, {"keys": list(keys)})}

    def months(self) -> dict[int, int]:
        """Every dated paper's month of first publication (year * 12 + month - 1), by key:
        the map's trend data, read once per fit."""
        return {row[0]: int(row[1][:4]) * 12 + int(row[1][5:7]) - 1 for row in self.db.all(
            _statement("SELECT key, published FROM papers WHERE published IS NOT NULL"))}

    def sources_of(self, key: int) -> list[Sighting]:
        return [Sighting(source=row.source, ref=row.ref, rank=row.rank, seen_at=row.seen_at)
                for row in self.db.all(SOURCES, {"key": key})]

    # -- page-wide aggregates -----------------------------------------------------------

    def max_seq(self) -> int:
        return int(self.db.scalar(MAX_SEQ))

    def identity(self) -> str:
        """The token of this store's history of `seq` numbers (migration 0010): the same
        after `db copy`, new after a restore. Indexes built from another are rebuilt."""
        return str(self.db.scalar(IDENTITY))

    def _memo(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` once per state of the store (0.15-2.5 s each at 588k papers)."""
        seq = self.max_seq()
        cached = self._memos.get(name)
        if cached is None or cached[0] != seq:
            cached = (seq, compute())
            self._memos[name] = cached
        return cached[1]

    def count(self) -> int:
        return self._memo("count", lambda: int(self.db.scalar(COUNT)))

    def categories(self, limit: int = 50) -> list[tuple[str, int]]:
        """Most common categories, for the filter menu."""
        return self._memo(f"categories:{limit}", lambda: [
            (row[0], row[1]) for row in self.db.all(CATEGORIES, {"limit": limit})])

    # -- the lists of a period ----------------------------------------------------------

    def between(self, start: date, end: date, limit: int, offset: int = 0,
                *, sort: str = "newest", submitter: str | None = None,
                category: str | None = None) -> list[StoredPaper]:
        """The list of [start, end]: newest (day listed, then capture/ingest order) or
        most upvoted first; only the papers `submitter` (a username) submitted, and only
        those in `category`, if given."""
        rows = self.db.all(self._between[sort, submitter is not None, bool(category)], {
            "start": start.isoformat(), "end": end.isoformat(), "limit": limit,
            "offset": offset, "submitter": submitter, "category": category})
        return [to_paper(row._asdict()) for row in rows]

    def count_between(self, start: date, end: date, category: str | None = None) -> int:
        return int(self.db.scalar(COUNT_LISTED[bool(category)], {
            "start": start.isoformat(), "end": end.isoformat(), "category": category}))

    def categories_between(self, start: date, end: date, limit: int = 40
                           ) -> list[tuple[str, int]]:
        """The categories of a period's papers, most papers first (its filter menu)."""
        return [(row[0], int(row[1])) for row in self.db.all(CATEGORIES_LISTED, {
            "start": start.isoformat(), "end": end.isoformat(), "limit": limit})]

    def latest_date(self) -> date | None:
        return _date(self.db.scalar(LATEST))

    def nearest_date(self, day: date, *, before: bool) -> date | None:
        """The closest day strictly before/after `day` that has a list."""
        pick, op = ("max", "<") if before else ("min", ">")
        return _date(self.db.scalar(text(
            f"SELECT {pick}(day) FROM (SELECT {pick}(published) AS day FROM papers"
            f" WHERE published {op} :day UNION ALL SELECT {pick}(featured_on) FROM submissions"
            f" WHERE hidden = 0 AND featured_on {op} :day) AS days"), {"day": day.isoformat()}))

    # -- date and category filters -------------------------------------------------------

    def keys_matching(self, start: date | None, end: date | None, categories: list[str],
                      cap: int) -> tuple[list[int] | None, int]:
        """Keys passing a date/category filter (None if more than `cap`), and their count."""
        if categories and not start and not end:
            # Only categories: the (category, paper) primary key answers alone, 10x faster.
            table = ("(SELECT DISTINCT paper_key AS key FROM paper_categories"
                     " WHERE category IN :categories) AS matching")
            where, params = "1 = 1", {"categories": categories}
        else:
            table = "papers"
            where, params = _filter(start, end, categories)
        keys = [row[0] for row in self.db.all(
            _statement(f"SELECT key FROM {table} WHERE {where} LIMIT :cap"),
            {**params, "cap": cap + 1})]
        if len(keys) <= cap:
            return keys, len(keys)
        count = self.db.scalar(_statement(f"SELECT count(*) FROM {table} WHERE {where}"),
                               params)
        return None, int(count)

    def newest_matching(self, start: date | None, end: date | None, categories: list[str],
                        limit: int, offset: int = 0) -> list[StoredPaper]:
        """Papers passing a date/category filter, newest first (a filter with no query);
        hidden papers left out."""
        where, params = _filter(start, end, categories)
        rows = self.db.all(_statement(
            f"{SELECT} WHERE {where} AND key NOT IN ({HIDDEN_KEYS})"
            " ORDER BY published DESC, key DESC"
            " LIMIT :limit OFFSET :offset"),
            {**params, "limit": limit, "offset": offset})
        return [to_paper(row._asdict()) for row in rows]

    def keep_matching(self, keys: Sequence[int], start: date | None, end: date | None,
                      categories: list[str]) -> set[int]:
        """The subset of `keys` that passes a date/category filter."""
        if not keys:
            return set()
        where, params = _filter(start, end, categories)
        params = {**params, "keys": list(keys)}
        return {row[0] for row in self.db.all(_statement(
            f"SELECT key FROM papers WHERE key IN :keys AND {where}"), params)}

    # -- the indexer's change feed ------------------------------------------------------

    def count_changed_since(self, seq: int) -> int:
        return int(self.db.scalar(COUNT_CHANGED, {"seq": seq}))

    def changed_since(self, seq: int, batch_size: int = 2000) -> Iterator[list[IndexRow]]:
        """Papers whose indexed content changed after `seq`, in seq order, in batches."""
        while True:
            rows = self.db.all(CHANGED, {"seq": seq, "limit": batch_size})
            if not rows:
                return
            yield [_index_row(r) for r in rows]
            seq = rows[-1].seq

    def keys_changed_since(self, seq: int) -> list[int]:
        return [row[0] for row in self.db.all(KEYS_CHANGED, {"seq": seq})]

    def newest_up_to(self, seq: int) -> list[int]:
        """Keys of the papers unchanged since `seq`, newest first: a backfill's order
        (588k keys: ~1 s, 5 MB as a list)."""
        return [row[0] for row in self.db.all(NEWEST_UP_TO, {"seq": seq})]

    def index_rows(self, keys: Sequence[int]) -> list[IndexRow]:
        """What the indexer needs of `keys`, in the order given (missing ones dropped)."""
        if not keys:
            return []
        by_key = {r.key: _index_row(r) for r in self.db.all(ROWS_BY_KEYS, {"keys": list(keys)})}
        return [by_key[k] for k in keys if k in by_key]


def _index_row(r: Any) -> IndexRow:
    return IndexRow(r.key, r.seq, r.content_hash, r.title, r.abstract, json.loads(r.authors),
                    r.categories.split(), _date(r.published))


def _filter(start: date | None, end: date | None,
            categories: list[str]) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if start:
        where.append("published >= :start")
        params["start"] = start.isoformat()
    if end:
        where.append("published <= :end")
        params["end"] = end.isoformat()
    if categories:
        where.append("key IN (SELECT paper_key FROM paper_categories"
                     " WHERE category IN :categories)")
        params["categories"] = categories
    return " AND ".join(where) or "1 = 1", params


@lru_cache(maxsize=64)
def _statement(sql: str) -> TextClause:
    """One statement object per filter shape, so it is compiled once."""
    return text(sql)

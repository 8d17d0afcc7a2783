"""SQLite store: papers, their provenance, harvest cursors.

One connection per thread (the web server reads from a thread pool); every
write batch is one `BEGIN IMMEDIATE` transaction, so a crash or a bad record
never leaves half a batch behind. Identity lives here: a paper seen again, in
another version or from another source, is merged into the row it already has.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..models import Paper, StoredPaper, title_key
from .migrate import migrate

T = TypeVar("T")

# Below this length a title is too generic ("Introduction") to identify a paper.
MIN_TITLE_KEY = 20

PAPER_COLUMNS = (
    "rowid, id, arxiv_id, doi, title, abstract, authors, categories, published, updated, "
    "version, links, added_at"
)


@dataclass
class UpsertStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertStats) -> UpsertStats:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass
class IndexRow:
    """What the indexer needs of a changed paper."""

    rowid: int
    seq: int
    content_hash: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: date | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _content_hash(row: dict) -> str:
    indexed = (row["title"], row["abstract"], row["authors"], row["categories"], row["published"])
    text = "\x1f".join(str(v) for v in indexed)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def row_to_paper(row: sqlite3.Row) -> StoredPaper:
    return StoredPaper(
        rowid=row["rowid"],
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
    )


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._memos: dict[str, tuple[int, Any]] = {}
        migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: writers queue on SQLite's lock instead of racing,
        and a failure leaves nothing half-written."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- writes -------------------------------------------------------------

    def upsert(self, papers: Iterable[Paper]) -> UpsertStats:
        """Insert or merge `papers` in one transaction. Idempotent."""
        stats = UpsertStats()
        with self.transaction() as conn:
            seq = conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]
            now = now_iso()
            for paper in papers:
                seq += 1
                outcome, rowid = self._upsert_one(conn, paper, seq, now)
                setattr(stats, outcome, getattr(stats, outcome) + 1)
                conn.execute(
                    "INSERT OR IGNORE INTO paper_sources (paper_rowid, source, ref, rank, seen_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (rowid, paper.source, paper.source_ref, paper.rank, now),
                )
        return stats

    def _find(self, conn: sqlite3.Connection, paper: Paper, key: str) -> sqlite3.Row | None:
        if paper.arxiv_id:
            row = conn.execute("SELECT * FROM papers WHERE arxiv_id = ?",
                               (paper.arxiv_id,)).fetchone()
            if row:
                return row
        if paper.doi:
            row = conn.execute("SELECT * FROM papers WHERE doi = ? LIMIT 1",
                               (paper.doi.lower(),)).fetchone()
            if row and (row["arxiv_id"] is None or paper.arxiv_id is None):
                return row
        if len(key) >= MIN_TITLE_KEY:
            for row in conn.execute("SELECT * FROM papers WHERE title_key = ?", (key,)):
                # Two different arXiv papers may share a title; a paper without an
                # arXiv id (capture, BibTeX) is the same paper as its arXiv twin.
                if row["arxiv_id"] is None or paper.arxiv_id is None:
                    return row
        return conn.execute("SELECT * FROM papers WHERE id = ?", (paper.id,)).fetchone()

    def _upsert_one(self, conn: sqlite3.Connection, paper: Paper, seq: int,
                    now: str) -> tuple[str, int]:
        key = title_key(paper.title)
        incoming = {
            "arxiv_id": paper.arxiv_id,
            "doi": paper.doi.lower() if paper.doi else None,
            "title": paper.title,
            "title_key": key,
            "abstract": paper.abstract,
            "authors": json.dumps(paper.authors, ensure_ascii=False),
            "categories": " ".join(paper.categories),
            "published": paper.published.isoformat() if paper.published else None,
            "updated": (paper.updated or paper.published).isoformat()
            if (paper.updated or paper.published) else None,
            "version": paper.version,
            "links": paper.links,
        }
        existing = self._find(conn, paper, key)
        if existing is None:
            row = {**incoming, "id": paper.id, "links": json.dumps(paper.links)}
            row["content_hash"] = _content_hash(row)
            cur = conn.execute(
                "INSERT INTO papers (id, arxiv_id, doi, title, title_key, abstract, authors,"
                " categories, published, updated, version, links, content_hash, seq, added_at)"
                " VALUES (:id, :arxiv_id, :doi, :title, :title_key, :abstract, :authors,"
                " :categories, :published, :updated, :version, :links, :content_hash, :seq,"
                " :added_at)",
                {**row, "seq": seq, "added_at": now},
            )
            rowid = int(cur.lastrowid or 0)
            self._set_categories(conn, rowid, paper.categories)
            return "inserted", rowid
        merged = _merge(dict(existing), incoming, authoritative=paper.arxiv_id is not None)
        merged["content_hash"] = _content_hash(merged)
        columns = ("arxiv_id", "doi", "title", "title_key", "abstract", "authors", "categories",
                   "published", "updated", "version", "links")
        if all(merged[c] == existing[c] for c in columns):
            return "unchanged", existing["rowid"]
        # Only a change to indexed content moves `seq`: the indexer follows seq.
        new_seq = seq if merged["content_hash"] != existing["content_hash"] else existing["seq"]
        conn.execute(
            "UPDATE papers SET " + ", ".join(f"{c} = :{c}" for c in columns)
            + ", content_hash = :content_hash, seq = :seq WHERE rowid = :rowid",
            {**merged, "seq": new_seq, "rowid": existing["rowid"]},
        )
        if merged["categories"] != existing["categories"]:
            conn.execute("DELETE FROM paper_categories WHERE paper_rowid = ?", (existing["rowid"],))
            self._set_categories(conn, existing["rowid"], merged["categories"].split())
        return "updated", existing["rowid"]

    @staticmethod
    def _set_categories(conn: sqlite3.Connection, rowid: int, categories: list[str]) -> None:
        conn.executemany("INSERT OR IGNORE INTO paper_categories (category, paper_rowid)"
                         " VALUES (?, ?)", [(c, rowid) for c in categories])

    # -- reads --------------------------------------------------------------

    def _memo(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()` once per state of the store: every insert or change bumps max(seq).

        For whole-table aggregates shown on every page (0.15-2.5 s each at 588k papers).
        """
        seq = self.max_seq()
        cached = self._memos.get(name)
        if cached is None or cached[0] != seq:
            cached = (seq, compute())
            self._memos[name] = cached
        return cached[1]

    def count(self) -> int:
        return self._memo("count", lambda: self.conn.execute(
            "SELECT count(*) FROM papers").fetchone()[0])

    def max_seq(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM papers").fetchone()[0]

    def get(self, paper_id: str) -> StoredPaper | None:
        """By public id or arXiv id (with or without version)."""
        row = self.conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE id = ? OR arxiv_id = ?",
            (paper_id, paper_id),
        ).fetchone()
        if row is None and "v" in paper_id:
            bare = paper_id.rsplit("v", 1)[0]
            row = self.conn.execute(
                f"SELECT {PAPER_COLUMNS} FROM papers WHERE arxiv_id = ?", (bare,)).fetchone()
        return row_to_paper(row) if row else None

    def find(self, paper: Paper) -> StoredPaper | None:
        """The stored paper `paper` is (or would be merged into), by the upsert's rules."""
        row = self._find(self.conn, paper, title_key(paper.title))
        return self.get(row["id"]) if row else None

    def get_many(self, rowids: list[int]) -> list[StoredPaper]:
        """Papers for `rowids`, in the order given (missing ones dropped)."""
        if not rowids:
            return []
        marks = ",".join("?" * len(rowids))
        rows = self.conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE rowid IN ({marks})", rowids).fetchall()
        by_rowid = {row["rowid"]: row_to_paper(row) for row in rows}
        return [by_rowid[r] for r in rowids if r in by_rowid]

    # A period's list: papers first published in it, plus papers members submitted
    # ("featured") in it; a paper an admin hid is in no list.
    _LISTED = (
        "SELECT rowid FROM papers WHERE published BETWEEN :start AND :end"
        " UNION SELECT paper_rowid FROM submissions"
        " WHERE featured_on BETWEEN :start AND :end AND hidden = 0"
    )
    _LIST_ORDER = {
        "newest": "listed_on DESC, p.rowid ASC",
        "votes": "coalesce(v.votes, 0) DESC, listed_on DESC, p.rowid ASC",
    }

    def between(self, start: date, end: date, limit: int, offset: int = 0,
                *, sort: str = "newest") -> list[StoredPaper]:
        """The list of [start, end]: newest (day listed, then capture/ingest order) or
        most upvoted first."""
        columns = ", ".join(f"p.{c}" for c in PAPER_COLUMNS.split(", "))
        rows = self.conn.execute(
            f"SELECT {columns}, max(coalesce(p.published, ''), coalesce(s.featured_on, ''))"
            f" AS listed_on FROM ({self._LISTED}) AS l JOIN papers p ON p.rowid = l.rowid"
            " LEFT JOIN submissions s ON s.paper_rowid = p.rowid"
            " LEFT JOIN paper_votes v ON v.paper_rowid = p.rowid"
            " WHERE coalesce(s.hidden, 0) = 0"
            f" ORDER BY {self._LIST_ORDER[sort]} LIMIT :limit OFFSET :offset",
            {"start": start.isoformat(), "end": end.isoformat(), "limit": limit,
             "offset": offset},
        ).fetchall()
        return [row_to_paper(r) for r in rows]

    def count_between(self, start: date, end: date) -> int:
        return self.conn.execute(
            f"SELECT count(*) FROM ({self._LISTED}) AS l WHERE NOT EXISTS"
            " (SELECT 1 FROM submissions s WHERE s.paper_rowid = l.rowid AND s.hidden = 1)",
            {"start": start.isoformat(), "end": end.isoformat()},
        ).fetchone()[0]

    def latest_date(self) -> date | None:
        return _date(self.conn.execute(
            "SELECT max(day) FROM (SELECT max(published) AS day FROM papers"
            " UNION ALL SELECT max(featured_on) FROM submissions WHERE hidden = 0)").fetchone()[0])

    def nearest_date(self, day: date, *, before: bool) -> date | None:
        """The closest day strictly before/after `day` that has a list."""
        pick, op = ("max", "<") if before else ("min", ">")
        return _date(self.conn.execute(
            f"SELECT {pick}(day) FROM (SELECT {pick}(published) AS day FROM papers"
            f" WHERE published {op} :day UNION ALL SELECT {pick}(featured_on) FROM submissions"
            f" WHERE hidden = 0 AND featured_on {op} :day)", {"day": day.isoformat()}
        ).fetchone()[0])

    def add_links(self, rowid: int, links: dict[str, str]) -> None:
        """Add links (code, project page) to a paper. Links are not indexed: seq stays."""
        with self.transaction() as conn:
            row = conn.execute("SELECT links FROM papers WHERE rowid = ?", (rowid,)).fetchone()
            if row is not None:
                merged = {**json.loads(row["links"]), **links}
                conn.execute("UPDATE papers SET links = ? WHERE rowid = ?",
                             (json.dumps(merged), rowid))

    @staticmethod
    def _filter_sql(start: date | None, end: date | None,
                    categories: list[str]) -> tuple[list[str], list[object]]:
        where: list[str] = []
        args: list[object] = []
        if start:
            where.append("published >= ?")
            args.append(start.isoformat())
        if end:
            where.append("published <= ?")
            args.append(end.isoformat())
        if categories:
            marks = ",".join("?" * len(categories))
            where.append(f"rowid IN (SELECT paper_rowid FROM paper_categories"
                         f" WHERE category IN ({marks}))")
            args += categories
        return where or ["1"], args

    def rowids_matching(self, start: date | None, end: date | None,
                        categories: list[str], cap: int) -> tuple[list[int] | None, int]:
        """Rowids passing a date/category filter (None if more than `cap`), and their count."""
        if categories and not start and not end:
            # Only categories: the (category, paper) primary key answers alone, 10x faster.
            marks = ",".join("?" * len(categories))
            table, where, args = ("(SELECT DISTINCT paper_rowid AS rowid FROM paper_categories"
                                  f" WHERE category IN ({marks}))"), ["1"], list(categories)
        else:
            table = "papers"
            where, args = self._filter_sql(start, end, categories)
        rows = self.conn.execute(
            f"SELECT rowid FROM {table} WHERE {' AND '.join(where)} LIMIT ?", (*args, cap + 1)
        ).fetchall()
        if len(rows) <= cap:
            return [r[0] for r in rows], len(rows)
        count = self.conn.execute(f"SELECT count(*) FROM {table} WHERE {' AND '.join(where)}",
                                  args).fetchone()[0]
        return None, count

    def newest_matching(self, start: date | None, end: date | None, categories: list[str],
                        limit: int, offset: int = 0) -> list[StoredPaper]:
        """Papers passing a date/category filter, newest first (a filter with no query)."""
        where, args = self._filter_sql(start, end, categories)
        rows = self.conn.execute(
            f"SELECT {PAPER_COLUMNS} FROM papers WHERE {' AND '.join(where)}"
            " ORDER BY published DESC, rowid DESC LIMIT ? OFFSET ?", (*args, limit, offset)
        ).fetchall()
        return [row_to_paper(r) for r in rows]

    def keep_matching(self, rowids: list[int], start: date | None, end: date | None,
                      categories: list[str]) -> set[int]:
        """The subset of `rowids` that passes a date/category filter."""
        if not rowids:
            return set()
        where, args = self._filter_sql(start, end, categories)
        marks = ",".join("?" * len(rowids))
        rows = self.conn.execute(
            f"SELECT rowid FROM papers WHERE rowid IN ({marks}) AND {' AND '.join(where)}",
            (*rowids, *args)).fetchall()
        return {r[0] for r in rows}

    def changed_since(self, seq: int, batch_size: int = 2000) -> Iterator[list[IndexRow]]:
        """Papers whose indexed content changed after `seq`, in seq order, in batches."""
        while True:
            rows = self.conn.execute(
                "SELECT rowid, seq, content_hash, title, abstract, authors, categories, published"
                " FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (seq, batch_size)).fetchall()
            if not rows:
                return
            yield [IndexRow(r["rowid"], r["seq"], r["content_hash"], r["title"], r["abstract"],
                            json.loads(r["authors"]), r["categories"].split(),
                            _date(r["published"])) for r in rows]
            seq = rows[-1]["seq"]

    def sources_of(self, rowid: int) -> list[dict[str, object]]:
        rows = self.conn.execute(
            "SELECT source, ref, rank, seen_at FROM paper_sources WHERE paper_rowid = ?"
            " ORDER BY seen_at, source, ref", (rowid,)).fetchall()
        return [dict(r) for r in rows]

    def categories(self, limit: int = 50) -> list[tuple[str, int]]:
        """Most common categories, for the filter menu."""
        return self._memo(f"categories:{limit}", lambda: [
            (r[0], r[1]) for r in self.conn.execute(
                "SELECT category, count(*) FROM paper_categories GROUP BY category"
                " ORDER BY count(*) DESC, category LIMIT ?", (limit,))])

    # -- harvest cursors ----------------------------------------------------

    def harvest_state(self, name: str) -> dict[str, object] | None:
        row = self.conn.execute("SELECT * FROM harvest_state WHERE name = ?", (name,)).fetchone()
        return dict(row) if row else None

    def save_harvest_state(self, name: str, *, resumption_token: str | None, from_date: str | None,
                           pages: int, records: int, last_error: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO harvest_state (name, resumption_token, from_date, pages, records,"
            " last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET resumption_token = excluded.resumption_token,"
            " from_date = excluded.from_date, pages = excluded.pages, records = excluded.records,"
            " last_error = excluded.last_error, updated_at = excluded.updated_at",
            (name, resumption_token, from_date, pages, records, last_error, now_iso()),
        )


def _merge(existing: dict, incoming: dict, *, authoritative: bool) -> dict:
    """Fold a new sighting into the stored row.

    Empty fields are always filled. arXiv records (authoritative) overwrite
    content unless they are an older version than the one stored; captures
    and BibTeX never overwrite what is there.
    """
    merged = dict(existing)
    older = (incoming["version"] is not None and existing["version"] is not None
             and incoming["version"] < existing["version"])
    overwrite = authoritative and not older
    for column in ("title", "abstract", "authors", "categories", "published"):
        value = incoming[column]
        empty = value in (None, "", "[]")
        if not empty and (overwrite or existing[column] in (None, "", "[]")):
            merged[column] = value
    merged["title_key"] = title_key(merged["title"])
    for column in ("arxiv_id", "doi"):
        if existing[column] is None and incoming[column]:
            merged[column] = incoming[column]
    if incoming["version"] is not None:
        merged["version"] = max(incoming["version"], existing["version"] or 0)
    if incoming["updated"] and incoming["updated"] > (existing["updated"] or ""):
        merged["updated"] = incoming["updated"]
    links = json.loads(existing["links"])
    for name, url in incoming["links"].items():
        if overwrite or name not in links:
            links[name] = url
    merged["links"] = json.dumps(links)
    return merged


class Tables:
    """Base of the stores that share the catalog's database (community, digests):
    the same per-thread connections, the same transactions."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.store.transaction()

"""The one place that reads or writes a data dir's tables directly.

Benchmarks need things the app has no API for: a seeded sample of all papers, every
text in key order, the bench's own members and votes taken back, ten thousand
subscriptions in one transaction, a reset of the digest tables. They are here, next to
the few app calls that name a paper's storage key, so a change of the store's interface
is adapted in this file. Functions taking `home` open their own connection, through the
app's `Database` (its pragmas, busy timeout 30 s: `paperfeed serve` may be writing at the
same time), to the home's store: the SQLite file, or the PostgreSQL database named in the
home's `bench-database-url` file (`use_database`; the bench's data dirs on PostgreSQL).
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from paperfeed.catalog import Catalog
from paperfeed.discover.search import Filters
from paperfeed.models import StoredPaper
from paperfeed.store.database import Database, Executor

URL_FILE = "bench-database-url"  # in a bench data dir whose store is on PostgreSQL

# -- through an open Catalog ----------------------------------------------------------------


def sample_keys(catalog: Catalog, k: int, rng: random.Random) -> list[int]:
    """`k` papers' keys, a seeded sample of the whole store."""
    keys = [r for (r,) in catalog.store.db.all(text("SELECT key FROM papers ORDER BY key"))]
    return rng.sample(keys, min(k, len(keys)))


def papers(catalog: Catalog, keys: list[int]) -> list[StoredPaper]:
    return catalog.store.papers.get_many(keys)


def key_of(paper: StoredPaper) -> int:
    return paper.key


def texts(catalog: Catalog, keys: list[int]) -> Iterator[str]:
    """"title. abstract" of every paper in key order, appending each key to `keys`
    (streamed from an SQLite file: 588k abstracts are not read into memory at once)."""
    sql = "SELECT key, title, abstract FROM papers ORDER BY key"
    with contextlib.ExitStack() as stack:
        rows: Iterable[Any] = (stack.enter_context(_sqlite(catalog.settings.home)).execute(sql)
                               if catalog.store.db.dialect == "sqlite"
                               else catalog.store.db.all(text(sql)))
        for key, title, abstract in rows:
            keys.append(key)
            yield f"{title}. {abstract}"


def publication_days(catalog: Catalog) -> list[str]:
    """Every day some paper was published, oldest first (ISO dates)."""
    return [str(d) for (d,) in catalog.store.db.all(text(
        "SELECT DISTINCT published FROM papers WHERE published IS NOT NULL ORDER BY published"))]


def busiest_days(catalog: Catalog, n: int) -> list[str]:
    """The `n` days with the most papers published."""
    return [str(d) for (d,) in catalog.store.db.all(text(
        "SELECT published FROM papers WHERE published IS NOT NULL"
        " GROUP BY published ORDER BY count(*) DESC, published LIMIT :n"), {"n": n})]


def count_matching(catalog: Catalog, filters: Filters) -> int:
    """Papers passing a search filter (as search counts them)."""
    return catalog.store.papers.keys_matching(filters.date_from, filters.date_to,
                                              list(filters.categories), 0)[1]


def bulk_subscribe(catalog: Catalog, rows: list[tuple[str, str, bool, str | None]]) -> None:
    """Active subscriptions (email, frequency, trending, query) in one transaction."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with catalog.store.db.write() as db:
        db.many(text(
            "INSERT INTO subscriptions (email, frequency, trending, query, status, created_at,"
            " confirmed_at) VALUES (:e, :f, :t, :q, 'active', :now, :now)"),
            [{"e": e, "f": f, "t": int(t), "q": q, "now": now} for e, f, t, q in rows])


def sent_message_ids(catalog: Catalog) -> list[str]:
    """Message-IDs of the digests the outbox records as sent."""
    return [i.message_id for i in catalog.store.outbox.items() if i.status == "sent"]


# -- a data dir another process may be serving ---------------------------------------------


def store_url(home: Path) -> str:
    """Where `home`'s store lives: the URL in its `bench-database-url`, else its SQLite file."""
    named = home / URL_FILE
    if named.exists():
        return named.read_text().strip()
    return f"sqlite:///{(home / 'paperfeed.sqlite').resolve()}"


def use_database(home: Path, url: str | None) -> None:
    """Make `home`'s store the database at `url` (None: its SQLite file again)."""
    named = home / URL_FILE
    if url:
        named.write_text(url + "\n")
    else:
        named.unlink(missing_ok=True)


@contextlib.contextmanager
def connect(home: Path) -> Iterator[Executor]:
    """A connection to `home`'s store (statements run on their own; `db.database.write()`
    for a transaction)."""
    database = Database(store_url(home))
    try:
        with database.read() as db:
            yield db
    finally:
        database.close()


@contextlib.contextmanager
def _sqlite(home: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{home / 'paperfeed.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def store_bytes(home: Path) -> int:
    """The store's size on disk: the SQLite file (+WAL), or the PostgreSQL database (after
    a CHECKPOINT, so what was written is counted)."""
    url = store_url(home)
    if url.startswith("sqlite"):
        return sum(p.stat().st_size for p in home.glob("paperfeed.sqlite*"))
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    assert row is not None
    return int(row[0])


def stored(home: Path) -> tuple[int, int, str | None]:
    """(papers, highest seq, latest publication day) of a data dir; zeros if it has none."""
    if not (home / URL_FILE).exists() and not (home / "paperfeed.sqlite").exists():
        return 0, 0, None
    try:
        with connect(home) as db:
            if not _has_table(db, "papers"):
                return 0, 0, None
            count, seq, latest = db.one(text(
                "SELECT count(*), coalesce(max(seq), 0), max(published) FROM papers"))
    except Exception:  # an unreadable or half-made store counts as none
        return 0, 0, None
    return int(count), int(seq), None if latest is None else str(latest)


def published(home: Path, start: date | None = None, end: date | None = None
              ) -> list[tuple[int, str]]:
    """(key, id) of the papers published in [start, end), in key order."""
    where, args = ["1 = 1"], {}
    if start:
        where.append("published >= :start")
        args["start"] = start.isoformat()
    if end:
        where.append("published < :end")
        args["end"] = end.isoformat()
    with connect(home) as db:
        return [(k, i) for k, i in db.all(text(
            f"SELECT key, id FROM papers WHERE {' AND '.join(where)} ORDER BY key"), args)]


def _has_table(db: Executor, name: str) -> bool:
    sql = ("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :name"
           if db.database.dialect == "sqlite" else "SELECT to_regclass(:name) IS NOT NULL")
    row = db.one(text(sql), {"name": name})
    return row is not None and bool(row[0])


def members_named(home: Path, prefix: str) -> set[str]:
    with connect(home) as db:
        if not _has_table(db, "users"):
            return set()
        return {r[0] for r in db.all(text("SELECT username FROM users WHERE username LIKE :p"),
                                     {"p": prefix + "%"})}


def community_counts(home: Path) -> dict[str, int]:
    with connect(home) as db:
        if not _has_table(db, "votes"):
            return {}
        return {"votes": db.scalar(text("SELECT count(*) FROM votes")),
                "voted_papers": db.scalar(text(
                    "SELECT count(*) FROM paper_votes WHERE votes > 0")),
                "members": db.scalar(text("SELECT count(*) FROM users"))}


def _take_back(db: Executor, prefix: str, keys: list[int] | None) -> int:
    voters = "SELECT id FROM users WHERE username LIKE :p"
    on = " AND paper_key IN :keys" if keys is not None else ""
    args = {"p": prefix + "%", "keys": keys or []}
    touched = [r[0] for r in db.all(text(
        f"SELECT DISTINCT paper_key FROM votes WHERE user_id IN ({voters}){on}"), args)]
    removed = db.run(text(f"DELETE FROM votes WHERE user_id IN ({voters}){on}"), args)
    db.many(text("UPDATE paper_votes SET votes = (SELECT count(*) FROM votes v"
                 " WHERE v.paper_key = paper_votes.paper_key) WHERE paper_key = :k"),
            [{"k": k} for k in touched])
    return removed


def take_back_votes(home: Path, prefix: str, keys: list[int] | None = None) -> int:
    """Remove the votes of members named `prefix`* (on `keys` only, if given), recount the
    papers' totals; the number of votes removed."""
    with connect(home) as db:
        if not _has_table(db, "votes"):
            return 0
        with db.database.write() as tx:
            return _take_back(tx, prefix, keys)


def reset_digests(home: Path, member_prefix: str) -> None:
    """Empty the digest tables; remove the members named `member_prefix`* and their votes
    (one transaction; their sessions go with them, by the schema's cascades)."""
    with connect(home) as db, db.database.write() as tx:
        _take_back(tx, member_prefix, None)
        for table in ("sent_papers", "outbox", "subscriptions"):
            tx.run(text(f"DELETE FROM {table}"))
        tx.run(text("DELETE FROM users WHERE username LIKE :p"), {"p": member_prefix + "%"})
        tx.run(text("DELETE FROM paper_votes WHERE votes = 0"))

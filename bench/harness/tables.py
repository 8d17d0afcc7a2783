"""The one place that reads or writes a data dir's tables directly.

Benchmarks need things the app has no API for: a seeded sample of all papers, every
text in key order, the bench's own members and votes taken back, ten thousand
subscriptions in one transaction, a reset of the digest tables. They are here, next to
the few app calls that name a paper's storage key, so a change of the store's interface
(or a second database) is adapted in this file. Functions taking `home` open their own
connection: `paperfeed serve` may be writing at the same time (busy timeout 30 s).
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.discover.search import Filters
from paperfeed.models import StoredPaper

# -- through an open Catalog ----------------------------------------------------------------


def sample_keys(catalog: Catalog, k: int, rng: random.Random) -> list[int]:
    """`k` papers' keys, a seeded sample of the whole store."""
    with connect(catalog.settings.home, read_only=True) as conn:
        keys = [r for (r,) in conn.execute("SELECT key FROM papers")]
    return rng.sample(keys, min(k, len(keys)))


def papers(catalog: Catalog, keys: list[int]) -> list[StoredPaper]:
    return catalog.store.papers.get_many(keys)


def key_of(paper: StoredPaper) -> int:
    return paper.key


def texts(catalog: Catalog, keys: list[int]) -> Iterator[str]:
    """"title. abstract" of every paper in key order, appending each key to `keys`."""
    with connect(catalog.settings.home, read_only=True) as conn:
        for key, title, abstract in conn.execute(
                "SELECT key, title, abstract FROM papers ORDER BY key"):
            keys.append(key)
            yield f"{title}. {abstract}"


def publication_days(catalog: Catalog) -> list[str]:
    """Every day some paper was published, oldest first (ISO dates)."""
    with connect(catalog.settings.home, read_only=True) as conn:
        return [d for (d,) in conn.execute("SELECT DISTINCT published FROM papers"
                                           " WHERE published IS NOT NULL ORDER BY published")]


def busiest_days(catalog: Catalog, n: int) -> list[str]:
    """The `n` days with the most papers published."""
    with connect(catalog.settings.home, read_only=True) as conn:
        return [d for (d,) in conn.execute(
            "SELECT published FROM papers WHERE published IS NOT NULL"
            " GROUP BY published ORDER BY count(*) DESC LIMIT ?", (n,))]


def count_matching(catalog: Catalog, filters: Filters) -> int:
    """Papers passing a search filter (as search counts them)."""
    return catalog.store.papers.keys_matching(filters.date_from, filters.date_to,
                                              list(filters.categories), 0)[1]


def bulk_subscribe(catalog: Catalog, rows: list[tuple[str, str, bool, str | None]]) -> None:
    """Active subscriptions (email, frequency, trending, query) in one transaction."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with connect(catalog.settings.home) as conn:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO subscriptions (email, frequency, trending, query, status, created_at,"
            " confirmed_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
            [(e, f, int(t), q, now, now) for e, f, t, q in rows])
        conn.execute("COMMIT")


def sent_message_ids(catalog: Catalog) -> list[str]:
    """Message-IDs of the digests the outbox records as sent."""
    return [i.message_id for i in catalog.store.outbox.items() if i.status == "sent"]


# -- a data dir another process may be serving ---------------------------------------------


@contextlib.contextmanager
def connect(home: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    db = home / "paperfeed.sqlite"
    uri = f"file:{db}?mode=ro" if read_only else f"file:{db}"
    conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=30000")
        yield conn
    finally:
        conn.close()


def stored(home: Path) -> tuple[int, int, str | None]:
    """(papers, highest seq, latest publication day) of a data dir; zeros if it has none."""
    if not (home / "paperfeed.sqlite").exists():
        return 0, 0, None
    try:
        with connect(home, read_only=True) as conn:
            count, seq, latest = conn.execute(
                "SELECT count(*), coalesce(max(seq), 0), max(published) FROM papers").fetchone()
    except sqlite3.Error:
        return 0, 0, None
    return count, seq, latest


def published(home: Path, start: date | None = None, end: date | None = None
              ) -> list[tuple[int, str]]:
    """(key, id) of the papers published in [start, end), in key order."""
    where, args = ["1"], []
    if start:
        where.append("published >= ?")
        args.append(start.isoformat())
    if end:
        where.append("published < ?")
        args.append(end.isoformat())
    with connect(home, read_only=True) as conn:
        return [(k, i) for k, i in conn.execute(
            f"SELECT key, id FROM papers WHERE {' AND '.join(where)} ORDER BY key", args)]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def members_named(home: Path, prefix: str) -> set[str]:
    with connect(home) as conn:
        if not _has_table(conn, "users"):
            return set()
        return {r[0] for r in conn.execute("SELECT username FROM users WHERE username LIKE ?",
                                           (prefix + "%",))}


def community_counts(home: Path) -> dict[str, int]:
    with connect(home) as conn:
        if not _has_table(conn, "votes"):
            return {}
        return {"votes": conn.execute("SELECT count(*) FROM votes").fetchone()[0],
                "voted_papers": conn.execute(
                    "SELECT count(*) FROM paper_votes WHERE votes > 0").fetchone()[0],
                "members": conn.execute("SELECT count(*) FROM users").fetchone()[0]}


def take_back_votes(home: Path, prefix: str, keys: list[int] | None = None) -> int:
    """Remove the votes of members named `prefix`* (on `keys` only, if given), recount the
    papers' totals; the number of votes removed."""
    with connect(home) as conn:
        if not _has_table(conn, "votes"):
            return 0
        voters = "SELECT id FROM users WHERE username LIKE ?"
        on = f" AND paper_key IN ({','.join('?' * len(keys))})" if keys is not None else ""
        conn.execute("BEGIN IMMEDIATE")
        try:
            touched = [r[0] for r in conn.execute(
                f"SELECT DISTINCT paper_key FROM votes WHERE user_id IN ({voters}){on}",
                [prefix + "%", *(keys or [])])]
            removed = conn.execute(f"DELETE FROM votes WHERE user_id IN ({voters}){on}",
                                   [prefix + "%", *(keys or [])]).rowcount
            conn.executemany(
                "UPDATE paper_votes SET votes = (SELECT count(*) FROM votes v"
                " WHERE v.paper_key = paper_votes.paper_key) WHERE paper_key = ?",
                [(k,) for k in touched])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return removed


def reset_digests(home: Path, member_prefix: str) -> None:
    """Empty the digest tables; remove the members named `member_prefix`* and their votes."""
    take_back_votes(home, member_prefix)
    with connect(home) as conn:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("sent_papers", "outbox", "subscriptions"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM users WHERE username LIKE ?", (member_prefix + "%",))
            conn.execute("DELETE FROM paper_votes WHERE votes = 0")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

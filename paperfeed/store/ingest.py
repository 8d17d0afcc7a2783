"""Ingest: insert or merge a batch of papers, in one transaction, set-based.

Identity lives here. A paper seen again, in another version or from another
source, merges into the row it already has: found by arXiv id, else DOI, else
title key (when long enough to identify, and one side has no arXiv id), else
public id. arXiv records are authoritative unless older than what is stored;
page captures and BibTeX only fill what is empty.

A batch costs a constant number of statements, whatever its size: one lookup of
every row any of its papers could merge into, the merge in Python in batch
order (so the second sighting of a paper in a batch merges into the first,
exactly as one-at-a-time upserts would), then one executemany each for new
rows, changed rows, categories and sources: 5-8 statements for 2,000 papers,
where the per-paper loop before ran 3-7 per paper. Statements are what cost:
Python on every call, and a round trip each on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import text

from ..models import Paper, UpsertStats, author_key, author_sort_key, title_key
from .database import Database, Executor, now_iso

Row = dict[str, Any]

# Below this length a title is too generic ("Introduction") to identify a paper.
MIN_TITLE_KEY = 20
NEW = 1 << 62  # sorts rows inserted by this batch after every stored one, as keys will
PG_INGEST_LOCK = 7_203_512  # advisory lock: ingests take `seq` numbers in commit order

MERGED = ("arxiv_id", "doi", "title", "title_key", "abstract", "authors", "categories",
          "published", "updated", "version", "links")
STORED = ("id", *MERGED, "content_hash", "seq", "added_at")
COLUMNS = "key, " + ", ".join(STORED)

MAX_SEQ = text("SELECT coalesce(max(seq), 0) FROM papers")
PG_LOCK = text("SELECT pg_advisory_xact_lock(:id)")
# One statement, each row once: both databases answer an OR of indexed IN lists with
# one index lookup per term (SQLite's multi-index OR, PostgreSQL's BitmapOr).
LOOKUP = text(
    f"SELECT {COLUMNS} FROM papers WHERE arxiv_id IN :arxiv_ids OR doi IN :dois"
    " OR title_key IN :title_keys OR id IN :ids"
)
INSERT = text(f"INSERT INTO papers ({', '.join(STORED)})"
              f" VALUES ({', '.join(':' + c for c in STORED)})")
KEYS = text("SELECT id, key FROM papers WHERE id IN :ids")
UPDATE = text("UPDATE papers SET " + ", ".join(f"{c} = :{c}" for c in MERGED)
              + ", content_hash = :content_hash, seq = :seq WHERE key = :key")
DELETE_CATEGORIES = text("DELETE FROM paper_categories WHERE paper_key IN :keys")
INSERT_CATEGORY = text("INSERT INTO paper_categories (category, paper_key)"
                       " VALUES (:category, :paper_key) ON CONFLICT DO NOTHING")
INSERT_SOURCE = text("INSERT INTO paper_sources (paper_key, source, ref, rank, seen_at)"
                     " VALUES (:paper_key, :source, :ref, :rank, :seen_at)"
                     " ON CONFLICT DO NOTHING")
DELETE_AUTHORS = text("DELETE FROM paper_authors WHERE paper_key IN :keys")
INSERT_AUTHOR = text("INSERT INTO paper_authors (author_key, paper_key, position, name,"
                     " sort_key) VALUES (:author_key, :paper_key, :position, :name,"
                     " :sort_key) ON CONFLICT DO NOTHING")


def upsert(db: Database, papers: Iterable[Paper]) -> UpsertStats:
    """Insert or merge `papers` in one transaction. Idempotent."""
    batch = list(papers)
    stats = UpsertStats()
    if not batch:
        return stats
    incoming = [_incoming(paper) for paper in batch]
    with db.write() as tx:
        if db.dialect == "postgresql":
            tx.run(PG_LOCK, {"id": PG_INGEST_LOCK})
        seq = tx.scalar(MAX_SEQ)
        rows = _Rows(_lookup(tx, batch, incoming))
        now = now_iso()
        new: list[Row] = []
        changed: dict[int, Row] = {}
        seen_in: list[Row] = []  # the row each paper of the batch went into
        for n, (paper, fields) in enumerate(zip(batch, incoming, strict=True)):
            seq += 1
            row = rows.find(paper, fields)
            if row is None:
                row = {**fields, "id": paper.id, "links": json.dumps(paper.links), "key": None,
                       "order": NEW + n, "seq": seq, "added_at": now}
                row["content_hash"] = _content_hash(row)
                rows.add(row)
                new.append(row)
                stats.inserted += 1
            elif rows.merge(row, fields, authoritative=paper.arxiv_id is not None, seq=seq):
                if row["key"] is not None:
                    changed[row["key"]] = row
                stats.updated += 1
            else:
                stats.unchanged += 1
            seen_in.append(row)
        _write(tx, new, list(changed.values()))
        tx.many(INSERT_SOURCE, [
            {"paper_key": row["key"], "source": paper.source, "ref": paper.source_ref,
             "rank": paper.rank, "seen_at": now} for paper, row in zip(batch, seen_in,
                                                                        strict=True)])
    return stats


def find(db: Database, paper: Paper) -> Row | None:
    """The stored row `paper` is (or would be merged into), by the rules above."""
    fields = _incoming(paper)
    with db.read() as tx:
        return _Rows(_lookup(tx, [paper], [fields])).find(paper, fields)


def _incoming(paper: Paper) -> Row:
    newest = paper.updated or paper.published
    return {
        "arxiv_id": paper.arxiv_id,
        "doi": paper.doi.lower() if paper.doi else None,
        "title": paper.title,
        "title_key": title_key(paper.title),
        "abstract": paper.abstract,
        "authors": json.dumps(paper.authors, ensure_ascii=False),
        "categories": " ".join(paper.categories),
        "published": paper.published.isoformat() if paper.published else None,
        "updated": newest.isoformat() if newest else None,
        "version": paper.version,
        "links": paper.links,
    }


def _lookup(tx: Executor, batch: Sequence[Paper], incoming: Sequence[Row]) -> list[Row]:
    """Every stored row any paper of the batch could merge into, in key order."""
    params = {
        "arxiv_ids": sorted({p.arxiv_id for p in batch if p.arxiv_id}),
        "dois": sorted({f["doi"] for f in incoming if f["doi"]}),
        "title_keys": sorted({f["title_key"] for f in incoming
                              if len(f["title_key"]) >= MIN_TITLE_KEY}),
        "ids": sorted({p.id for p in batch}),
    }
    rows = [row._asdict() for row in tx.all(LOOKUP, params)]
    return [{**row, "order": row["key"], "stored_categories": row["categories"],
             "stored_authors": row["authors"]}
            for row in sorted(rows, key=lambda r: r["key"])]


def _write(tx: Executor, new: list[Row], changed: list[Row]) -> None:
    if new:
        tx.many(INSERT, new)
        keys = {row.id: row.key for row in tx.all(KEYS, {"ids": [row["id"] for row in new]})}
        for row in new:
            row["key"] = keys[row["id"]]
    if changed:
        tx.many(UPDATE, changed)
    recategorised = [row for row in changed if row["categories"] != row["stored_categories"]]
    if recategorised:
        tx.run(DELETE_CATEGORIES, {"keys": [row["key"] for row in recategorised]})
    categories = [{"category": category, "paper_key": row["key"]}
                  for row in new + recategorised for category in row["categories"].split()]
    tx.many(INSERT_CATEGORY, categories)
    write_authors(tx, new, replace=False)
    write_authors(tx, [row for row in changed if row["authors"] != row["stored_authors"]],
                  replace=True)


class _Rows:
    """The rows a batch can touch, indexed as the lookups of a one-at-a-time upsert
    would find them (ties in stored-key order), and kept current as the batch merges."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.by_arxiv: dict[str, Row] = {}
        self.by_doi: dict[str, list[Row]] = defaultdict(list)
        self.by_title: dict[str, list[Row]] = defaultdict(list)
        self.by_id: dict[str, Row] = {}
        for row in rows:
            self.add(row)

    def add(self, row: Row) -> None:
        if row["arxiv_id"]:
            self.by_arxiv[row["arxiv_id"]] = row
        if row["doi"]:
            self.by_doi[row["doi"]].append(row)
        self.by_title[row["title_key"]].append(row)
        self.by_id[row["id"]] = row

    def remove(self, row: Row) -> None:
        if row["arxiv_id"]:
            del self.by_arxiv[row["arxiv_id"]]
        if row["doi"]:
            self.by_doi[row["doi"]].remove(row)
        self.by_title[row["title_key"]].remove(row)

    def find(self, paper: Paper, fields: Row) -> Row | None:
        if paper.arxiv_id and paper.arxiv_id in self.by_arxiv:
            return self.by_arxiv[paper.arxiv_id]
        if fields["doi"] and self.by_doi.get(fields["doi"]):
            row = min(self.by_doi[fields["doi"]], key=_order)  # the one row LIMIT 1 gave
            if row["arxiv_id"] is None or paper.arxiv_id is None:
                return row
        if len(fields["title_key"]) >= MIN_TITLE_KEY:
            for row in sorted(self.by_title.get(fields["title_key"], ()), key=_order):
                # Two different arXiv papers may share a title; a paper without an
                # arXiv id (capture, BibTeX) is the same paper as its arXiv twin.
                if row["arxiv_id"] is None or paper.arxiv_id is None:
                    return row
        return self.by_id.get(paper.id)

    def merge(self, row: Row, fields: Row, *, authoritative: bool, seq: int) -> bool:
        """Fold a sighting into `row`; False if that changes nothing."""
        merged = _merge(row, fields, authoritative=authoritative)
        merged["content_hash"] = _content_hash(merged)
        if all(merged[c] == row[c] for c in MERGED):
            return False
        # Only a change to indexed content moves `seq`: the indexer follows seq.
        merged["seq"] = seq if merged["content_hash"] != row["content_hash"] else row["seq"]
        self.remove(row)
        row.update({c: merged[c] for c in (*MERGED, "content_hash", "seq")})
        self.add(row)
        return True


def _order(row: Row) -> int:
    return int(row["order"])


def _content_hash(row: Row) -> str:
    indexed = (row["title"], row["abstract"], row["authors"], row["categories"], row["published"])
    text_ = "\x1f".join(str(v) for v in indexed)
    return hashlib.blake2b(text_.encode(), digest_size=12).hexdigest()


def _merge(existing: Row, incoming: Row, *, authoritative: bool) -> Row:
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


def author_rows(paper_key: int, authors_json: str) -> list[dict[str, Any]]:
    """The rows of one paper's author list (a person printed twice counts once)."""
    rows = []
    for position, name in enumerate(json.loads(authors_json or "[]")):
        key = author_key(name)
        if key:
            rows.append({"author_key": key, "paper_key": paper_key, "position": position,
                         "name": name, "sort_key": author_sort_key(key)})
    return rows


def write_authors(tx: Executor, rows: list[dict[str, Any]], *, replace: bool) -> None:
    """Ingest's part: the author rows of papers just inserted or whose authors changed
    (`rows`: dicts with `key` and `authors` JSON); `replace` drops their old rows first."""
    if not rows:
        return
    if replace:
        tx.run(DELETE_AUTHORS, {"keys": [row["key"] for row in rows]})
    tx.many(INSERT_AUTHOR, [value for row in rows
                            for value in author_rows(row["key"], row["authors"])])

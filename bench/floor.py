"""The relevance floor end to end: how often search says "No close matches", and when.

discover/relevance.py answers a query with nothing when no hit on its first page clears
the floor. On SciFact (the 5,183 abstracts in a fresh data dir, the shipped pipeline) this
counts, per kind of query, the share answered with a page of results:

- SciFact's 300 test queries: each has a relevant abstract here, so every one should be
  answered (a miss is a real query told "no close matches");
- off-topic queries: titles of computer-science papers from the arXiv snapshot, asked of a
  biomedical corpus (a few may share words with it; most should get nothing);
- nonsense: three random letter strings (`qwzxv flurbnix plomb`); none should be answered.

    python bench/floor.py [--embedder NAME] [--vectors-from DIR]

The default pipeline is measured with the transformer tier backfilled (as a site is once its
backfill is done); `--vectors-from` takes another run's cached vectors (bench/scifact.py).

Writes bench/results/floor-<embedder>.json. bench/relevance.py measures the pairwise
trade-off the thresholds were chosen from.
"""

from __future__ import annotations

import argparse
import random
import string
import tempfile
from pathlib import Path

from harness import datadir
from harness.corpora import arxiv_texts, load_scifact
from harness.report import print_table, write_json

from paperfeed.catalog import Catalog
from paperfeed.discover.relevance import floored_page
from paperfeed.discover.search import search

QUERIES = 300
PAGE = 20


def nonsense(rng: random.Random) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9)))
                    for _ in range(3))


def answered(catalog: Catalog, queries: list[str], mode: str) -> float:
    """Share of `queries` whose first page clears the floor."""
    kept = sum(bool(floored_page(catalog, q, search(catalog, q, limit=PAGE, mode=mode),
                                 mode=mode)) for q in queries)
    return round(kept / len(queries), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--vectors-from", type=Path, default=None)
    args = parser.parse_args()
    data = load_scifact()
    rng = random.Random(0)
    kinds = {"SciFact test queries (relevant exists)": list(data.queries.values()),
             "off-topic (arXiv cs titles)": [t.split(". ", 1)[0]
                                            for t in arxiv_texts(QUERIES)],
             "nonsense (random letters)": [nonsense(rng) for _ in range(QUERIES)]}
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(datadir.settings(Path(home), args.embedder))
        catalog.ingest(data.papers)
        if args.vectors_from:
            catalog.indexes.seed(catalog.store.papers, datadir.cached_vectors(args.vectors_from))
        catalog.reindex(progress=True)
        catalog.indexes.backfill(catalog.store.papers, progress=True)
        embedder = "+".join(a.stamp.model for a in (catalog.indexes.semantic,
                                                     catalog.indexes.transformer) if a)
        rows = [{"queries": kind, "n": len(qs),
                 **{f"answered ({mode})": answered(catalog, qs, mode)
                    for mode in ("hybrid", "semantic")}}
                for kind, qs in kinds.items()]
    print_table(f"Relevance floor on SciFact, embedder {embedder}: share of queries "
                f"answered with results", rows)
    write_json(f"floor-{embedder}", {"embedder": embedder, "page": PAGE, "results": rows})


if __name__ == "__main__":
    main()

"""The map of the corpus at full size: build time, artifact size, /api/map sizes.

    python bench/map.py --source /path/to/built/datadir --home /tmp/map-bench

Copies the built data dir once (its store and indexes are only read), then opens it: the
map artifact is missing there, so the update marks it due and `build_map` (what the
follower or `paperfeed index` runs) fits it from the static vectors (a fit on
`layout.FIT_SAMPLE` papers, every other paper placed by its neighbours, regions labelled,
both /api/map forms encoded). Then one day's worth of new papers is placed (the
incremental path), and the two /api/map forms are read as the first request after the
update would (both come with the map). Prints a table, writes bench/results/map.json.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import datadir  # noqa: E402
from harness.report import log, machine, print_table, write_json  # noqa: E402

from paperfeed.catalog import Catalog  # noqa: E402
from paperfeed.discover import atlas  # noqa: E402
from paperfeed.index import layout  # noqa: E402
from paperfeed.models import Paper  # noqa: E402

MARKER = ".paperfeed-map-bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    args = parser.parse_args()
    datadir.copy(args.source, args.home, MARKER)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    catalog = Catalog(datadir.settings(args.home, datadir.embedder_of(args.home)))
    open_s = time.perf_counter() - started
    started = time.perf_counter()
    catalog.indexes.build_map(catalog.store.papers)
    build_s = time.perf_counter() - started
    found = catalog.indexes.map.layout
    size = (args.home / "index" / "map" / "layout.npz").stat().st_size
    log(f"map built: {len(found.keys)} papers in {build_s:.0f} s")

    base = catalog.store.papers.get_many(found.keys[-300:].tolist())
    catalog.ingest([Paper(title=f"{p.title} (a follow-up)", abstract=p.abstract,
                          arxiv_id=f"2999.{i:05d}", published=date(2999, 1, 1), source="bench",
                          source_ref=str(i)) for i, p in enumerate(base)])
    started = time.perf_counter()
    report = catalog.reindex()
    place_s = report.parts.get("map: place", 0.0)
    log(f"300 new papers indexed in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()  # what the first requests after the update wait
    points = atlas.points(catalog)
    binary = atlas.encode_binary(catalog, points)
    body = atlas.encode_body(catalog, points)
    first_s = time.perf_counter() - started
    rows = [{"papers": len(found.keys), "method": catalog.indexes.map.method,
             "fit sample": len(found.fit_keys), "open s": round(open_s, 1),
             "build s": round(build_s, 1), "place 300 new s": round(place_s, 2),
             "layout.npz MB": round(size / 1e6, 1),
             "points.bin MB (gzip)": round(len(binary) / 1e6, 2),
             "points.bin MB (raw)": round(len(gzip.decompress(binary)) / 1e6, 2),
             "/api/map JSON MB": round(len(gzip.decompress(body)) / 1e6, 1),
             "JSON MB (gzip)": round(len(body) / 1e6, 1),
             "first requests s": round(first_s, 2),
             "regions": len(found.labels), "load at start": round(load, 1)}]
    print_table("map of the corpus", rows)
    labels = [str(label) for label in found.labels[:10]]
    print("first regions:", "; ".join(labels))
    write_json("map", {"machine": machine(), "rows": rows, "labels": labels,
                       "fit_sample": layout.FIT_SAMPLE})


if __name__ == "__main__":
    main()

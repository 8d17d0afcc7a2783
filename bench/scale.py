"""Scale: ingest, index build, query latency, ANN recall and `serve` at arXiv size.

Runs the real pipeline on an arXiv snapshot: the papers are stored into a fresh data
directory, indexed, then searched as users search, next to a full-scan TF-IDF baseline
(arxiv-sanity-lite's method, harness/baseline.py) on the same queries.

    python bench/scale.py --corpus cs|all [--limit N] [--home DIR] [--reuse]
                          [--queries 200] [--embedder NAME] [--skip-serve] [--skip-baseline]

Phases: 1 ingest (store only), then index build (its parts as the indexer reports them);
2 a fixed, seeded query set (hand-written topics + spans of sampled titles); 3 latency of
every query path, in process; 4 the TF-IDF full-scan baseline; 5 recall@10 of the HNSW
index against exact search (harness/ann.py); 6 `paperfeed serve` cold start, HTTP
latency and memory, with the index writer lock held so its follower runs no transformer
backfill (as on a host whose backfill is done, or runs in `paperfeed worker`).
Prints tables and writes bench/results/scale-<corpus>[-<limit>].json:
build (ingest, index with breakdown_s; with --reuse carried from the run that built the
dir), disk, latency (p50/p95/mean per operation), baseline, baseline_vs_hybrid, ann, serve,
the tuning constants in force (settings) and peak RSS per phase.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from harness import datadir, tables
from harness.ann import ann_recall
from harness.baseline import PARAMS, TfidfScan
from harness.corpora import arxiv_source
from harness.measure import latencies_ms, peak_rss_mib, phase_peak, reset_peak
from harness.queries import TOPIC_QUERIES, title_spans
from harness.report import RESULTS, log, print_table, write_json
from harness.server import Server, index_writer_held

from paperfeed.catalog import Catalog
from paperfeed.discover import search as search_mod
from paperfeed.discover.search import Filters, fuse, keyword_ranking, search, semantic_ranking
from paperfeed.discover.similar import similar
from paperfeed.index import vectors as vectors_mod

SEED = 20240601
WARMUP = 10
PAPER_PAGES = 20
DAY_PAGES = 10


def load_average() -> float:
    """The 1-minute load average, noted next to each timing (the machine is shared)."""
    return round(os.getloadavg()[0], 2)


def build_queries(catalog: Catalog, n: int) -> list[str]:
    rng = random.Random(SEED)
    topics = TOPIC_QUERIES[:min(len(TOPIC_QUERIES), n)]
    spans = n - len(topics)
    return topics + title_spans(tables.papers(catalog, tables.sample_keys(catalog, 4 * spans,
                                                                          rng)), spans, rng)


def filter_cases(catalog: Catalog) -> list[tuple[str, Filters]]:
    latest = catalog.store.papers.latest_date() or date.today()
    year = latest.year - 1 if latest.month < 12 else latest.year
    month = date(year, 6, 1)
    return [(f"year {year}", Filters(date(year, 1, 1), date(year, 12, 31))),
            (f"month {year}-06", Filters(month, month + timedelta(days=29))),
            ("category cs.LG", Filters(categories=("cs.LG",))),
            ("category cs.DL", Filters(categories=("cs.DL",)))]


def forget_queries(catalog: Catalog) -> None:
    """Empty the tiers' query-embedding caches (the filtered rows reuse the query set)."""
    for tier in (catalog.indexes.semantic, catalog.indexes.transformer):
        if tier is not None:
            tier._queries.clear()


def measure_latency(catalog: Catalog, queries: list[str], n_similar: int) -> list[dict[str, Any]]:
    """Each query path, warm, one thread, in process."""
    none = Filters()
    for q in queries[:WARMUP]:
        search(catalog, q, limit=10)
    weight = search_mod.keyword_weight(catalog)

    def ranked_and_fetched(q: str) -> object:  # search() up to the highlights
        fused = fuse({"keyword": keyword_ranking(catalog, q, none),
                      "semantic": semantic_ranking(catalog, q, none)},
                     {"keyword": weight, "semantic": 1.0 - weight})
        return tables.papers(catalog, [key for key, _, _ in fused[:10]])

    cases: list[tuple[str, Any, list[Any], str]] = [
        ("query embedding", catalog.indexes.embed_query, queries, ""),
        ("keyword (keyword_ranking)", lambda q: keyword_ranking(catalog, q, none), queries,
         f"top {search_mod.CANDIDATES}"),
        ("semantic (semantic_ranking)", lambda q: semantic_ranking(catalog, q, none), queries,
         f"embed + HNSW top {search_mod.CANDIDATES}"),
        ("hybrid without highlights", ranked_and_fetched, queries,
         "both + fusion + fetch 10 papers"),
        ("hybrid search(limit=10)", lambda q: search(catalog, q, limit=10), queries,
         "both + fusion + fetch + highlights"),
        ("hybrid search(limit=10), query asked before", lambda q: search(catalog, q, limit=10),
         queries, "its embeddings cached (a next page, a search feed)"),
    ]
    for label, f in filter_cases(catalog):
        size = tables.count_matching(catalog, f)
        path = "exact" if size <= search_mod.EXACT_FILTER_CAP else "ANN over-fetch"
        cases.append((f"hybrid + {label}", lambda q, f=f: search(catalog, q, limit=10, filters=f),
                      queries, f"{size} papers pass; vectors: {path}; new queries"))
    rng = random.Random(SEED + 1)
    by_id = {p.id: p for p in tables.papers(catalog, tables.sample_keys(catalog, n_similar, rng))}
    days = tables.publication_days(catalog)
    picked = [date.fromisoformat(d) for d in (rng.choices(days, k=n_similar) if days else [])]
    papers = catalog.store.papers
    cases += [
        ("similar(paper, 10)", lambda pid: similar(catalog, by_id[pid], 10), list(by_id),
         f"{len(by_id)} random papers"),
        ("similar(paper, 10), paper seen before", lambda pid: similar(catalog, by_id[pid], 10),
         list(by_id), "cached until the store or an index changes, if cached"),
        ("daily page: store.papers.between(day, 30)", lambda d: papers.between(d, d, 30), picked,
         f"random days out of {len(days)} with papers"),
        ("daily page + count_between", lambda d: (papers.between(d, d, 30),
                                                  papers.count_between(d, d)), picked,
         "what the day page runs"),
    ]
    rows = []
    for name, fn, inputs, note in cases:
        if name.startswith("hybrid + "):
            forget_queries(catalog)  # each filtered row embeds its queries, as new ones
        stats = latencies_ms(fn, inputs)
        rows.append({"operation": name, **stats, "note": note, "load": load_average()})
        log(f"latency {name}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms "
            f"(load {rows[-1]['load']})")
    return rows


def tfidf_baseline(catalog: Catalog, queries: list[str]) -> dict[str, Any]:
    reset_peak()
    log("tf-idf baseline: fitting")
    keys: list[int] = []
    scan = TfidfScan(tables.texts(catalog, keys), keys)
    for q in queries[:WARMUP]:
        scan.search(q)
    stats = latencies_ms(scan.search, queries)
    log(f"tf-idf fit {scan.fit_seconds:.1f}s, p50 {stats['p50_ms']} ms")
    return {**scan.describe(), "peak_rss_mib": phase_peak(), "latency": stats}


def serve_bench(catalog: Catalog, home: Path, queries: list[str]) -> dict[str, Any]:
    """Cold start, sequential HTTP latency of the main pages, memory of `serve`."""
    import httpx

    rng = random.Random(SEED + 2)
    papers = tables.papers(catalog, tables.sample_keys(catalog, PAPER_PAGES, rng))
    busiest = tables.busiest_days(catalog, 50)
    days = rng.sample(busiest, min(DAY_PAGES, len(busiest)))
    server = Server(home, catalog.indexes.semantic.stamp.model, home / "bench-serve.log")
    # Held off, the follower runs no transformer backfill in the measured process: its
    # session and arena added ~270 MiB of private memory and took cores from the requests.
    with index_writer_held(home), server, \
            httpx.Client(base_url=server.url, timeout=120, trust_env=False) as client:
        def get(url: str, **params: Any) -> None:
            r = client.get(url, params=params or None)
            if r.status_code != 200:
                raise RuntimeError(f"GET {url} {params}: {r.status_code} {r.text[:200]}")

        out: dict[str, Any] = {"command": " ".join(server.command),
                               "backfill": "held off: the index writer lock held",
                               "cold_start_s": server.cold_start_s,
                               "rss_at_ready_mib": server.rss_mib()}
        start = time.perf_counter()
        get("/api/papers/search", q="warm up the query embedder", limit=10)
        out["first_search_ms"] = round(1000 * (time.perf_counter() - start), 1)
        out["api_search"] = latencies_ms(lambda q: get("/api/papers/search", q=q, limit=10),
                                         queries)
        for label, f in filter_cases(catalog)[::2]:  # a year, a big category
            window = {"from": f.date_from, "to": f.date_to, "category": ",".join(f.categories)}
            params = {k: str(v) for k, v in window.items() if v}
            out[f"api_search {label}"] = latencies_ms(
                lambda q, params=params: get("/api/papers/search", q=q, limit=10, **params),
                queries)
        out["rss_after_filtered_mib"] = server.rss_mib()
        out["load"] = load_average()
        out["paper_page"] = latencies_ms(lambda pid: get(f"/papers/{pid}"), [p.id for p in papers])
        out["day_page"] = latencies_ms(lambda d: get(f"/papers/date/{d}"), days)
        out["home_page"] = latencies_ms(lambda _: get("/"), ["/"] * 5)
        out["rss_after_load_mib"] = server.rss_mib()
    ready = [ln for ln in server.log_path.read_text().splitlines() if "ready in" in ln]
    return out | {"server_says": ready[0] if ready else None}


def baseline_vs_hybrid(baseline: dict[str, Any], hybrid: dict[str, Any]
                       ) -> list[dict[str, Any]]:
    b = baseline["latency"]
    return [
        {"method": "TF-IDF full scan (arxiv-sanity-lite)", "p50_ms": b["p50_ms"],
         "p95_ms": b["p95_ms"], "mean_ms": b["mean_ms"],
         "note": f"fit {baseline['fit_seconds']}s, {baseline['matrix_mib']} MiB matrix, "
                 f"peak RSS {baseline['peak_rss_mib']} MiB"},
        {"method": "paperfeed hybrid search(limit=10)", "p50_ms": hybrid["p50_ms"],
         "p95_ms": hybrid["p95_ms"], "mean_ms": hybrid["mean_ms"],
         "note": "incl. fetch + highlights"},
        {"method": "ratio baseline / hybrid",
         **{k: round(b[k] / hybrid[k], 2) for k in ("p50_ms", "p95_ms", "mean_ms")}},
    ]


def print_tables(title: str, build: dict[str, Any], disk: list[dict[str, Any]],
                 latency: list[dict[str, Any]], compare: list[dict[str, Any]],
                 ann: dict[str, Any] | None, serve: dict[str, Any] | None) -> None:
    stages, parts = datadir.build_rows(build)
    carried = build.get("carried_from_previous_run")
    print_table(f"Ingest and index build — {title}"
                + (f" ({', '.join(carried)} from the run of {build['carried_date']})"
                   if carried else ""), stages)
    print_table("Index build, where the time goes (IndexReport.parts)", parts)
    print_table("Size on disk", disk)
    print_table(f"Latency, {latency[0]['n']} queries (warm, one thread, in process)", latency)
    print_table("Full-scan baseline vs hybrid, same queries", compare)
    if ann:
        print_table(f"HNSW recall vs exact ({ann['vectors']:,} vectors, {ann['queries']} "
                    f"queries; exact {ann['exact_ms_per_query_batched']} ms/query batched; "
                    f"median gap 10th-11th exact score {ann['median_gap_10th_11th']}, mean "
                    f"cosine of random pairs {ann['mean_cosine_random_pairs']})", ann["rows"])
    if serve:
        print_table(f"serve (subprocess, loopback, sequential requests): ready in "
                    f"{serve['cold_start_s']} s, RSS {serve['rss_at_ready_mib']} at ready, "
                    f"{serve['rss_after_load_mib']} after; first search (lazy embedder load) "
                    f"{serve['first_search_ms']} ms; RSS after filtered searches "
                    f"{serve.get('rss_after_filtered_mib')}",
                    [{"request": name, **value} for name, value in serve.items()
                     if name.startswith(("api_", "paper_", "day_", "home_"))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=["cs", "all"], required=True)
    parser.add_argument("--limit", type=int, default=None, help="Only the first N papers.")
    parser.add_argument("--home", type=Path, default=None,
                        help="Data dir (default /tmp/pf-bench-<corpus>[-<limit>]).")
    parser.add_argument("--reuse", action="store_true",
                        help="Skip ingest and index build when --home already has them.")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default=None)
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-ann", action="store_true")
    args = parser.parse_args()
    source = arxiv_source(args.corpus)
    suffix = f"-{args.limit}" if args.limit else ""
    home = args.home or Path(f"/tmp/pf-bench-{args.corpus}{suffix}")
    started = time.perf_counter()

    catalog, build = datadir.build(home, source, embedder=args.embedder, limit=args.limit,
                                   reuse=args.reuse)
    papers, embedder = catalog.store.papers.count(), catalog.indexes.semantic.stamp.model
    datadir.carry_build(build, RESULTS / f"scale-{args.corpus}{suffix}.json", papers, embedder)
    disk = datadir.disk_sizes(home, papers)
    queries = build_queries(catalog, args.queries)
    log(f"{len(queries)} queries, e.g. {queries[-3:]}")
    reset_peak()
    latency = measure_latency(catalog, queries, args.queries)
    query_peak = phase_peak()
    baseline = None if args.skip_baseline else tfidf_baseline(catalog, queries)
    query_matrix = np.vstack([catalog.indexes.embed_query(q) for q in queries])
    ann = None if args.skip_ann else ann_recall(
        catalog.indexes.vectors, query_matrix.astype(np.float32), search_mod.CANDIDATES,
        [32, vectors_mod.EXPANSION_SEARCH, 256], SEED)
    serve = None if args.skip_serve else serve_bench(catalog, home, queries)
    hybrid = next(r for r in latency if r["operation"].startswith("hybrid search"))
    compare = baseline_vs_hybrid(baseline, hybrid) if baseline else []
    print_tables(f"{args.corpus}{' first ' + str(args.limit) if args.limit else ''}: "
                 f"{papers:,} papers, embedder {embedder}", build, disk, latency, compare, ann,
                 serve)

    write_json(f"scale-{args.corpus}{suffix}", {
        "corpus": args.corpus, "source": str(source), "limit": args.limit, "home": str(home),
        "papers": papers, "indexed": catalog.indexes.semantic.stamp.count,
        "keyword_docs": catalog.indexes.fulltext.num_docs(), "embedder": embedder,
        "queries": {"count": len(queries), "topics": min(len(TOPIC_QUERIES), args.queries),
                    "seed": SEED, "warmup": WARMUP, "sample": queries[:5] + queries[-5:]},
        "settings": datadir.tuning(catalog) | {
            "tfidf": {k: list(v) if isinstance(v, tuple) else v for k, v in PARAMS.items()}},
        "build": build, "disk": disk, "latency": latency, "query_phase_peak_rss_mib": query_peak,
        "baseline": baseline, "baseline_vs_hybrid": compare, "ann": ann, "serve": serve,
        "bench_peak_rss_mib": round(peak_rss_mib(), 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()

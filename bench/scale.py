"""Scale: ingest, index build, query latency, ANN recall and `serve` at arXiv size.

Runs the real pipeline on an arXiv snapshot: the papers are stored into a fresh
data directory, indexed, then searched as users search, next to a full-scan
TF-IDF baseline (arxiv-sanity-lite's method) on the same queries.

    python bench/scale.py --corpus cs|all [--limit N] [--home DIR] [--reuse]
                          [--queries 200] [--embedder NAME]

Phases: 1 ingest (store only), then index build; 2 a fixed, seeded query set
(hand-written topics + spans of sampled titles); 3 latency of every query path;
4 the TF-IDF full-scan baseline; 5 recall@10 of the HNSW index against exact
search; 6 `paperfeed serve` cold start, HTTP latency and memory. Prints tables
and writes bench/results/scale-<corpus>[-<limit>].json.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS,
    SHARED,
    latencies_ms,
    peak_rss_mib,
    print_table,
    write_json,
)

from paperfeed import catalog as catalog_mod  # noqa: E402
from paperfeed.catalog import Catalog  # noqa: E402
from paperfeed.discover import search as search_mod  # noqa: E402
from paperfeed.discover.search import (  # noqa: E402
    Filters,
    keyword_ranking,
    search,
    semantic_ranking,
)
from paperfeed.discover.similar import similar  # noqa: E402
from paperfeed.index import sync as sync_mod  # noqa: E402
from paperfeed.index import vectors as vectors_mod  # noqa: E402
from paperfeed.index.sync import Indexes, IndexReport  # noqa: E402
from paperfeed.models import Paper, SkippedRecord  # noqa: E402
from paperfeed.settings import load_settings  # noqa: E402
from paperfeed.sources import read_source  # noqa: E402
from paperfeed.store import Store  # noqa: E402

SEED = 20240601
WARMUP = 10
EF_VALUES = (32, vectors_mod.EXPANSION_SEARCH, 256)
EXACT_CHUNK = 50_000  # stored vectors per block of the exact search (bounds memory)
TIE_TOLERANCE = 1e-3  # an ANN hit scoring within this of the exact 10th counts ("ties ok")
SERVE_START_TIMEOUT_S = 600.0
PAPER_PAGES = 20
DAY_PAGES = 10

# Topic queries as arXiv readers type them, across the fields of the snapshot.
TOPIC_QUERIES = [
    "graph neural networks for molecules", "pairwise ranking loss",
    "self-supervised representation learning", "dark matter halo", "quantum error correction",
    "large language model hallucination", "diffusion models for image generation",
    "federated learning with differential privacy", "reinforcement learning from human feedback",
    "vision transformer object detection", "neural machine translation low-resource languages",
    "adversarial examples robustness", "contrastive learning of sentence embeddings",
    "retrieval augmented generation", "byzantine fault tolerant consensus",
    "approximate nearest neighbor search", "model predictive control autonomous driving",
    "simultaneous localization and mapping", "end-to-end speech recognition",
    "knowledge graph completion", "causal inference from observational data",
    "bayesian optimization of hyperparameters", "convergence of stochastic gradient descent",
    "sparse matrix multiplication on GPUs", "program synthesis from examples",
    "gravitational waves from binary black hole mergers",
    "exoplanet atmosphere transmission spectroscopy", "cosmic microwave background polarization",
    "topological insulators", "high temperature superconductivity in cuprates",
    "Higgs boson decays", "neutrino oscillations", "many-body localization",
    "regularity of Navier-Stokes equations", "random matrix eigenvalue statistics",
    "distribution of prime numbers", "protein structure prediction",
    "COVID-19 epidemic model", "optimal transport", "graph coloring algorithms",
]
TFIDF_PARAMS: dict[str, Any] = dict(
    input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
    lowercase=True, analyzer="word", stop_words="english",
    token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=20000,
    norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
)
EDGE_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "based", "by", "for", "from", "in", "into", "is", "of",
    "on", "or", "the", "to", "towards", "under", "using", "via", "with", "without",
})
MATH = re.compile(r"\$[^$]*\$")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- memory -------------------------------------------------------------------


def _status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS / VmHWM of a process, MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def reset_peak() -> bool:
    """Reset this process's VmHWM so the next phase reports its own peak (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def phase_peak() -> float:
    return _status().get("VmHWM", peak_rss_mib())


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# -- timing wrappers (no package file is changed; instances are wrapped) --------


class Timers:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start
        return timed

    def wrap_iter(self, name: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Iterator[Any]:
            it = fn(*args, **kwargs)
            while True:
                start = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    self.seconds[name] += time.perf_counter() - start
                    return
                self.seconds[name] += time.perf_counter() - start
                yield item
        return timed


def papers_only(records: Iterable[Paper | SkippedRecord], limit: int | None,
                timers: Timers) -> Iterator[Paper | SkippedRecord]:
    """The source's records (time spent parsing counted), stopping after `limit` papers."""
    it = iter(records)
    papers = 0
    while limit is None or papers < limit:
        start = time.perf_counter()
        try:
            record = next(it)
        except StopIteration:
            break
        finally:
            timers.seconds["parse"] += time.perf_counter() - start
        papers += isinstance(record, Paper)
        yield record
    close = getattr(it, "close", None)
    if close:
        close()  # stops the xz child early when --limit cut the file short


# -- phase 1: ingest and index ------------------------------------------------


def prepare_home(home: Path) -> None:
    if home.exists():
        known = {"paperfeed.sqlite", "paperfeed.sqlite-wal", "paperfeed.sqlite-shm", "index",
                 "bench-serve.log"}
        if any(p.name not in known for p in home.iterdir()):
            sys.exit(f"{home} holds files that are not a paperfeed data dir; not deleting it")
        shutil.rmtree(home)
    home.mkdir(parents=True)


def reusable(home: Path, embedder: str) -> tuple[bool, bool]:
    """(store has papers, index is complete for `embedder`), read without opening a Catalog."""
    db = home / "paperfeed.sqlite"
    if not db.exists():
        return False, False
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        count, max_seq = conn.execute("SELECT count(*), coalesce(max(seq), 0) FROM papers"
                                      ).fetchone()
    except sqlite3.Error:
        return False, False
    finally:
        conn.close()
    try:
        meta = json.loads((home / "index" / "meta.json").read_text())
    except (OSError, ValueError):
        return count > 0, False
    return count > 0, meta.get("embedder") == embedder and meta.get("last_seq", 0) >= max_seq


def ingest(catalog: Catalog, source: Path, limit: int | None) -> dict[str, Any]:
    from tqdm import tqdm

    timers = Timers()
    reset_peak()
    log(f"ingest {source} -> {catalog.settings.home}"
        + (f" (first {limit} papers)" if limit else ""))
    start = time.perf_counter()
    with tqdm(desc="storing", unit="paper", mininterval=10, file=sys.stderr) as bar:
        report = catalog.ingest(papers_only(read_source(source), limit, timers),
                                on_batch=bar.update)
    seconds = time.perf_counter() - start
    log(f"stored {report.seen} papers in {seconds:.1f}s")
    return {
        "seconds": round(seconds, 1), "inserted": report.stats.inserted,
        "updated": report.stats.updated, "unchanged": report.stats.unchanged,
        "skipped": len(report.skipped), "papers_per_s": round(report.seen / seconds, 1),
        "parse_seconds": round(timers.seconds["parse"], 1),
        "store_seconds": round(seconds - timers.seconds["parse"], 1),
        "peak_rss_mib": phase_peak(),
    }


def build_index(run: Callable[[], IndexReport], indexes: Indexes, store: Store
                ) -> dict[str, Any]:
    """Run the index build with its parts timed (instances wrapped, no package file changed)."""
    timers = Timers()
    _instrument_index(indexes, store, timers)
    reset_peak()
    log("index build")
    start = time.perf_counter()
    try:
        report = run()
    finally:
        _uninstrument_index(indexes, store)
    seconds = time.perf_counter() - start
    parts = {
        "read rows from store": timers.seconds["changed_since"],
        "embed (IndexReport.embed_seconds)": report.embed_seconds,
        "embedding cache lookup": timers.seconds["cache.lookup"],
        "embedding cache store": timers.seconds["cache.store"],
        "keyword: tantivy add": timers.seconds["fulltext.upsert"],
        "keyword: commit + merge": timers.seconds["fulltext.commit"],
        "ANN: usearch add": timers.seconds["vectors.add"],
        "ANN: save": timers.seconds["vectors.save"],
    }
    parts["other (batching, meta, progress)"] = max(0.0, seconds - sum(parts.values()))
    log(f"indexed {report.indexed} papers in {seconds:.1f}s "
        f"(embedding {report.embed_seconds:.1f}s)")
    return {
        "seconds": round(seconds, 1), "indexed": report.indexed,
        "embedded": report.embedded, "from_cache": report.from_cache,
        "embed_seconds": round(report.embed_seconds, 1),
        "keyword_and_ann_seconds": round(seconds - report.embed_seconds, 1),
        "papers_per_s": round(report.indexed / seconds, 1) if seconds else None,
        "embed_papers_per_s": round(report.embedded / report.embed_seconds, 1)
        if report.embed_seconds else None,
        "peak_rss_mib": phase_peak(),
        "breakdown_s": {k: round(v, 2) for k, v in parts.items()},
    }


_CACHE_METHODS = {"lookup": vectors_mod.EmbeddingCache.lookup,
                  "store": vectors_mod.EmbeddingCache.store}


def _instrument_index(indexes: Indexes, store: Store, timers: Timers) -> None:
    indexes.fulltext.upsert = timers.wrap("fulltext.upsert", indexes.fulltext.upsert)
    indexes.fulltext.commit = timers.wrap("fulltext.commit", indexes.fulltext.commit)
    indexes.vectors.add = timers.wrap("vectors.add", indexes.vectors.add)
    indexes.vectors.save = timers.wrap("vectors.save", indexes.vectors.save)
    store.changed_since = timers.wrap_iter("changed_since", store.changed_since)
    for name, fn in _CACHE_METHODS.items():
        setattr(vectors_mod.EmbeddingCache, name, timers.wrap(f"cache.{name}", fn))


def _uninstrument_index(indexes: Indexes, store: Store) -> None:
    for obj, names in ((indexes.fulltext, ("upsert", "commit")),
                       (indexes.vectors, ("add", "save")), (store, ("changed_since",))):
        for name in names:
            obj.__dict__.pop(name, None)
    for name, fn in _CACHE_METHODS.items():
        setattr(vectors_mod.EmbeddingCache, name, fn)


def ingest_and_index(args: argparse.Namespace, source: Path, home: Path
                     ) -> tuple[Catalog, dict[str, Any]]:
    settings = load_settings(home=home, load_demo=False, embedder=args.embedder)
    have_store, have_index = reusable(home, settings.embedder) if args.reuse else (False, False)
    if args.reuse and not have_store:
        log(f"--reuse: no store in {home}; ingesting")
    if not have_store:
        prepare_home(home)
    out: dict[str, Any] = {"reused_store": have_store, "reused_index": have_index}
    if have_store and not have_index:
        # Opening a Catalog would bring the index up to date untimed: build it here first.
        store = Store(settings.db_path)
        indexes = Indexes(settings.index_dir, settings.embedder)
        out["index"] = build_index(lambda: indexes.update(store, progress=True), indexes, store)
        store.close()
        del indexes
    catalog = Catalog(settings)
    if not have_store:
        out["ingest"] = ingest(catalog, source, args.limit)
        out["index"] = build_index(lambda: catalog.reindex(progress=True), catalog.indexes,
                                   catalog.store)
    if "ingest" in out and "index" in out:
        total = out["ingest"]["seconds"] + out["index"]["seconds"]
        out["overall_papers_per_s"] = round(catalog.store.count() / total, 1)
    return catalog, out


def carry_build(build: dict[str, Any], previous: Path, papers: int, embedder: str
                ) -> list[str]:
    """With --reuse, keep the ingest/index numbers of the run that built the data dir."""
    if not build["reused_store"] or not previous.exists():
        return []
    prev = json.loads(previous.read_text())
    if prev.get("papers") != papers or prev.get("embedder") != embedder:
        return []
    carried = [k for k in ("ingest", "index", "overall_papers_per_s")
               if k not in build and k in prev.get("build", {})]
    for key in carried:
        build[key] = prev["build"][key]
    if carried:
        build["carried_from_previous_run"] = carried
        build["carried_date"] = prev.get("machine", {}).get("date")
    return carried


def disk_sizes(home: Path, papers: int) -> list[dict[str, Any]]:
    index = home / "index"
    files = {
        "sqlite store (+wal)": sum(du(home / f"paperfeed.sqlite{s}") for s in ("", "-wal", "-shm")),
        "fulltext (tantivy)": du(index / "fulltext"),
        "vectors.usearch": du(index / "vectors.usearch"),
        "embeddings cache (+wal)": sum(du(index / f"embeddings.sqlite{s}")
                                       for s in ("", "-wal", "-shm")),
    }
    files["total data dir"] = du(home)
    return [{"file": name, "MiB": round(size / 2**20, 1),
             "bytes/paper": round(size / papers) if papers else None}
            for name, size in files.items()]


# -- phase 2: queries ---------------------------------------------------------


def sample_rowids(catalog: Catalog, k: int, rng: random.Random) -> list[int]:
    rowids = [r for (r,) in catalog.store.conn.execute("SELECT rowid FROM papers")]
    return rng.sample(rowids, min(k, len(rowids)))


def title_span_queries(catalog: Catalog, n: int, rng: random.Random) -> list[str]:
    queries: list[str] = []
    for paper in catalog.store.get_many(sample_rowids(catalog, 4 * n, rng)):
        words = WORD.findall(MATH.sub(" ", paper.title))
        words = [w.strip("-'") for w in words if w.strip("-'")]
        # Spans that neither start nor end on a stop word, as people type them.
        spans = [(start, size) for size in range(3, min(6, len(words)) + 1)
                 for start in range(len(words) - size + 1)
                 if words[start].lower() not in EDGE_STOPWORDS
                 and words[start + size - 1].lower() not in EDGE_STOPWORDS]
        if not spans:
            continue
        start, size = rng.choice(spans)
        queries.append(" ".join(words[start:start + size]))
        if len(queries) == n:
            break
    return queries


def build_queries(catalog: Catalog, n: int) -> list[str]:
    rng = random.Random(SEED)
    topics = TOPIC_QUERIES[:min(len(TOPIC_QUERIES), n)]
    return topics + title_span_queries(catalog, n - len(topics), rng)


# -- phase 3: latency ---------------------------------------------------------


def filter_cases(catalog: Catalog) -> list[tuple[str, Filters]]:
    latest = catalog.store.latest_date() or date.today()
    year = latest.year - 1 if latest.month < 12 else latest.year
    month_start = date(year, 6, 1)
    return [
        (f"year {year}", Filters(date(year, 1, 1), date(year, 12, 31))),
        (f"month {year}-06", Filters(month_start, month_start + timedelta(days=29))),
        ("category cs.LG", Filters(categories=("cs.LG",))),
        ("category cs.DL", Filters(categories=("cs.DL",))),
    ]


def filter_size(catalog: Catalog, f: Filters) -> int:
    where, args = ["1"], []
    if f.date_from:
        where.append("published >= ?")
        args.append(f.date_from.isoformat())
    if f.date_to:
        where.append("published <= ?")
        args.append(f.date_to.isoformat())
    for c in f.categories:
        where.append("(' ' || categories || ' ') LIKE ?")
        args.append(f"% {c} %")
    return catalog.store.conn.execute(f"SELECT count(*) FROM papers WHERE {' AND '.join(where)}",
                                      args).fetchone()[0]


def measure_latency(catalog: Catalog, queries: list[str], n_similar: int
                    ) -> list[dict[str, Any]]:
    none = Filters()
    for q in queries[:WARMUP]:
        search(catalog, q, limit=10)
    rows = []

    def row(name: str, stats: dict[str, float], note: str = "") -> None:
        rows.append({"operation": name, **stats, "note": note})
        log(f"latency {name}: p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms")

    row("query embedding", latencies_ms(catalog.indexes.embed_query, queries))
    row("keyword (keyword_ranking)",
        latencies_ms(lambda q: keyword_ranking(catalog, q, none), queries),
        f"top {search_mod.CANDIDATES}")
    row("semantic (semantic_ranking)",
        latencies_ms(lambda q: semantic_ranking(catalog, q, none), queries),
        f"embed + HNSW top {search_mod.CANDIDATES}")
    def ranked_and_fetched(q: str) -> list[Any]:  # search() up to the highlights
        weight = search_mod.keyword_weight(catalog)
        fused = search_mod.fuse({"keyword": keyword_ranking(catalog, q, none),
                                 "semantic": semantic_ranking(catalog, q, none)},
                                {"keyword": weight, "semantic": 1.0 - weight})
        return catalog.store.get_many([r for r, _, _ in fused[:10]])

    row("hybrid without highlights", latencies_ms(ranked_and_fetched, queries),
        "both + fusion + fetch 10 papers")
    row("hybrid search(limit=10)", latencies_ms(lambda q: search(catalog, q, limit=10), queries),
        "both + fusion + fetch + highlights")
    for label, filters in filter_cases(catalog):
        size = filter_size(catalog, filters)
        path = "exact" if size <= search_mod.EXACT_FILTER_CAP else "ANN over-fetch"
        row(f"hybrid + {label}",
            latencies_ms(lambda q, f=filters: search(catalog, q, limit=10, filters=f), queries),
            f"{size} papers pass; vectors: {path}")
    rng = random.Random(SEED + 1)
    papers = catalog.store.get_many(sample_rowids(catalog, n_similar, rng))
    by_id = {p.id: p for p in papers}
    row("similar(paper, 10)", latencies_ms(lambda pid: similar(catalog, by_id[pid], 10),
                                           list(by_id)), f"{len(by_id)} random papers")
    days = [d for (d,) in catalog.store.conn.execute(
        "SELECT DISTINCT published FROM papers WHERE published IS NOT NULL ORDER BY published")]
    picked_iso = rng.choices(days, k=n_similar) if days else []
    row("daily page: store.between(day, 30)",
        latencies_ms(lambda d: catalog.store.between(date.fromisoformat(d),
                                                     date.fromisoformat(d), 30), picked_iso),
        f"random days out of {len(days)} with papers")
    row("daily page + count_between",
        latencies_ms(lambda d: (catalog.store.between(date.fromisoformat(d),
                                                      date.fromisoformat(d), 30),
                                catalog.store.count_between(date.fromisoformat(d),
                                                            date.fromisoformat(d))), picked_iso),
        "what the day page runs")
    return rows


# -- phase 4: TF-IDF full-scan baseline ---------------------------------------


def tfidf_baseline(catalog: Catalog, queries: list[str]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    reset_peak()
    rowids: list[int] = []

    def texts() -> Iterator[str]:
        conn = catalog.store.conn
        for rowid, title, abstract in conn.execute(
                "SELECT rowid, title, abstract FROM papers ORDER BY rowid"):
            rowids.append(rowid)
            yield f"{title}. {abstract}"

    log("tf-idf baseline: fitting")
    vectorizer = TfidfVectorizer(**TFIDF_PARAMS)
    start = time.perf_counter()
    X = vectorizer.fit_transform(texts()).tocsr()
    fit_s = time.perf_counter() - start
    if hasattr(vectorizer, "stop_words_"):
        del vectorizer.stop_words_  # every pruned term: large, and not needed to transform
    gc.collect()
    keys = np.asarray(rowids)

    def scan(q: str) -> list[int]:
        qv = vectorizer.transform([q])
        scores = X @ qv.toarray().ravel()  # full scan: sparse matrix times the query vector
        top = np.argpartition(-scores, 10)[:10]
        return keys[top[np.argsort(-scores[top])]].tolist()

    for q in queries[:WARMUP]:
        scan(q)
    stats = latencies_ms(scan, queries)
    out = {"fit_seconds": round(fit_s, 1), "docs": X.shape[0], "features": X.shape[1],
           "nnz": int(X.nnz),
           "matrix_mib": round((X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20, 1),
           "peak_rss_mib": phase_peak(), "latency": stats}
    log(f"tf-idf fit {fit_s:.1f}s, {X.shape}, p50 {stats['p50_ms']} ms")
    return out  # the matrix and vectorizer are freed with this frame


# -- phase 5: ANN recall ------------------------------------------------------


def ann_recall(catalog: Catalog, queries: list[str]) -> dict[str, Any]:
    index = catalog.indexes.vectors.index
    vectors = catalog.indexes.vectors
    Q = np.vstack([catalog.indexes.embed_query(q) for q in queries]).astype(np.float32)
    keys = np.sort(np.asarray(index.keys, dtype=np.uint64))
    depth = search_mod.CANDIDATES
    best_s = np.full((len(Q), depth), -np.inf, dtype=np.float32)
    best_k = np.zeros((len(Q), depth), dtype=np.uint64)
    start = time.perf_counter()
    for lo in range(0, len(keys), EXACT_CHUNK):
        chunk = keys[lo:lo + EXACT_CHUNK]
        block = np.vstack(index.get(chunk, dtype=np.float32))  # the stored (f16) vectors
        scores = Q @ block.T
        all_s = np.concatenate([best_s, scores], axis=1)
        all_k = np.concatenate([best_k, np.broadcast_to(chunk, scores.shape)], axis=1)
        keep = np.argpartition(-all_s, depth - 1, axis=1)[:, :depth]
        best_s = np.take_along_axis(all_s, keep, axis=1)
        best_k = np.take_along_axis(all_k, keep, axis=1)
    order = np.argsort(-best_s, axis=1)
    exact = np.take_along_axis(best_k, order, axis=1)
    exact_scores = np.take_along_axis(best_s, order, axis=1)
    exact_s = time.perf_counter() - start
    # How crowded the space is: score gaps near the cut, and the cosine of random pairs.
    gap = float(np.median(exact_scores[:, 9] - exact_scores[:, 10]))
    sample = np.random.default_rng(SEED).choice(keys, min(2000, len(keys)), replace=False)
    V = np.vstack(index.get(sample, dtype=np.float32))
    pair_cos = float((V @ V.T)[np.triu_indices(len(V), 1)].mean())
    rows = []
    default = index.expansion_search
    try:
        for ef in sorted(set(EF_VALUES) | {default}):
            index.expansion_search = ef
            at10 = [vectors.search(q, 10) for q in Q]
            at100 = [vectors.search(q, depth) for q in Q]
            r10 = np.mean([len({k for k, _ in f} & set(exact[i, :10].tolist())) / 10
                           for i, f in enumerate(at10)])
            r10_100 = np.mean([len({k for k, _ in f[:10]} & set(exact[i, :10].tolist())) / 10
                               for i, f in enumerate(at100)])
            tol = np.mean([np.mean([score >= exact_scores[i, 9] - TIE_TOLERANCE
                                    for _, score in f]) for i, f in enumerate(at10)])
            r100 = np.mean([len({k for k, _ in f} & set(exact[i].tolist())) / depth
                            for i, f in enumerate(at100)])
            idx = list(range(len(Q)))
            t10 = latencies_ms(lambda i: vectors.search(Q[i], 10), idx)
            t100 = latencies_ms(lambda i: vectors.search(Q[i], depth), idx)
            rows.append({"expansion_search": ef, "default": ef == default,
                         "recall@10 (k=10)": round(float(r10), 4),
                         "recall@10 ties ok": round(float(tol), 4),
                         f"recall@10 (k={depth})": round(float(r10_100), 4),
                         f"recall@{depth} (k={depth})": round(float(r100), 4),
                         "p50 ms k=10": t10["p50_ms"], "p95 ms k=10": t10["p95_ms"],
                         f"p50 ms k={depth}": t100["p50_ms"],
                         f"p95 ms k={depth}": t100["p95_ms"]})
            log(f"ANN ef={ef}: recall@10 {r10:.4f}")
    finally:
        index.expansion_search = default
    return {"vectors": len(keys), "queries": len(Q), "exact_seconds_total": round(exact_s, 2),
            "exact_ms_per_query_batched": round(1000 * exact_s / len(Q), 2),
            "median_gap_10th_11th": round(gap, 5), "mean_cosine_random_pairs": round(pair_cos, 4),
            "tie_tolerance": TIE_TOLERANCE, "rows": rows}


# -- phase 6: serve -----------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_bench(catalog: Catalog, home: Path, embedder: str, queries: list[str],
                n_pages: int) -> dict[str, Any]:
    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "paperfeed", "--data-dir", str(home), "--embedder", embedder,
           "serve", "--host", "127.0.0.1", "--port", str(port)]
    log_path = home / "bench-serve.log"
    rng = random.Random(SEED + 2)
    papers = catalog.store.get_many(sample_rowids(catalog, n_pages, rng))
    days = [d for (d,) in catalog.store.conn.execute(
        "SELECT published FROM papers WHERE published IS NOT NULL"
        " GROUP BY published ORDER BY count(*) DESC LIMIT 50")]
    days = rng.sample(days, min(DAY_PAGES, len(days)))
    out: dict[str, Any] = {"command": " ".join(cmd[1:])}
    with open(log_path, "w") as log_file:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                              trust_env=False) as client:
                ready = None
                while time.perf_counter() - start < SERVE_START_TIMEOUT_S:
                    if proc.poll() is not None:
                        raise RuntimeError(f"serve exited with {proc.returncode}: "
                                           f"{log_path.read_text()[-2000:]}")
                    try:
                        if client.get("/healthz", timeout=2).status_code == 200:
                            ready = time.perf_counter() - start
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.05)
                if ready is None:
                    raise RuntimeError(f"serve not ready after {SERVE_START_TIMEOUT_S:.0f}s")
                out["cold_start_s"] = round(ready, 2)
                out["rss_at_ready_mib"] = _status(proc.pid)
                log(f"serve ready in {ready:.2f}s, {out['rss_at_ready_mib']}")

                def get(url: str, **params: Any) -> None:
                    r = client.get(url, params=params or None)
                    if r.status_code != 200:
                        raise RuntimeError(f"GET {url} {params}: {r.status_code} {r.text[:200]}")

                t = time.perf_counter()
                get("/api/papers/search", q="warm up the query embedder", limit=10)
                out["first_search_ms"] = round(1000 * (time.perf_counter() - t), 1)
                out["api_search"] = latencies_ms(
                    lambda q: get("/api/papers/search", q=q, limit=10), queries)
                out["paper_page"] = latencies_ms(lambda pid: get(f"/papers/{pid}"),
                                                 [p.id for p in papers])
                out["day_page"] = latencies_ms(lambda d: get(f"/papers/date/{d}"), days)
                out["home_page"] = latencies_ms(lambda _: get("/"), ["/"] * 5)
                out["rss_after_load_mib"] = _status(proc.pid)
                log(f"serve after load: {out['rss_after_load_mib']}")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
    ready_line = [ln for ln in log_path.read_text().splitlines() if "ready in" in ln]
    out["server_says"] = ready_line[0] if ready_line else None
    return out


# -- main ---------------------------------------------------------------------


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
    args = parser.parse_args()

    source = SHARED / "data" / "arxiv" / f"{args.corpus}.jsonl.xz"
    if not source.exists():
        source = Path("/work/shared/data/arxiv") / f"{args.corpus}.jsonl.xz"
    suffix = f"-{args.limit}" if args.limit else ""
    home = args.home or Path(f"/tmp/pf-bench-{args.corpus}{suffix}")
    started = time.perf_counter()

    catalog, build = ingest_and_index(args, source, home)
    papers = catalog.store.count()
    embedder = catalog.indexes.meta.embedder
    disk = disk_sizes(home, papers)
    carried = carry_build(build, RESULTS / f"scale-{args.corpus}{suffix}.json", papers, embedder)

    queries = build_queries(catalog, args.queries)
    log(f"{len(queries)} queries ({min(len(TOPIC_QUERIES), args.queries)} topics), "
        f"e.g. {queries[-3:]}")
    reset_peak()
    latency = measure_latency(catalog, queries, args.queries)
    query_peak = phase_peak()
    hybrid = next(r for r in latency if r["operation"].startswith("hybrid search"))

    baseline = None if args.skip_baseline else tfidf_baseline(catalog, queries)
    ann = ann_recall(catalog, queries)
    serve = None if args.skip_serve else serve_bench(catalog, home, embedder, queries,
                                                     PAPER_PAGES)

    # -- tables ---------------------------------------------------------------
    title = (f"{args.corpus}{' first ' + str(args.limit) if args.limit else ''}: "
             f"{papers:,} papers, embedder {embedder}")
    stages = []
    if "ingest" in build:
        ing = build["ingest"]
        stages.append({"stage": "store (parse + upsert)", "seconds": ing["seconds"],
                       "papers/s": ing["papers_per_s"], "peak RSS MiB": ing.get("peak_rss_mib"),
                       "note": f"parse {ing.get('parse_seconds')}s, "
                               f"sqlite {ing.get('store_seconds')}s"})
    if "index" in build:
        idx = build["index"]
        stages.append({"stage": "index build", "seconds": idx["seconds"],
                       "papers/s": idx["papers_per_s"], "peak RSS MiB": idx.get("peak_rss_mib"),
                       "note": f"embedding {idx['embed_seconds']}s "
                               f"({idx['embed_papers_per_s']}/s), keyword+ANN+rest "
                               f"{idx['keyword_and_ann_seconds']}s"})
    if "overall_papers_per_s" in build:
        stages.append({"stage": "store + index", "seconds": round(
            build["ingest"]["seconds"] + build["index"]["seconds"], 1),
            "papers/s": build["overall_papers_per_s"]})
    print_table(f"Ingest and index build — {title}"
                + (f" ({', '.join(carried)} from the run of {build['carried_date']})"
                   if carried else ""), stages)
    if "index" in build:
        total = build["index"]["seconds"]
        print_table("Index build, where the time goes",
                    [{"part": k, "seconds": v, "share": f"{100 * v / total:.1f}%"}
                     for k, v in build["index"].get("breakdown_s", {}).items()])
    print_table("Size on disk", disk)
    print_table(f"Latency, {len(queries)} queries (warm, one thread, in process)", latency)
    compare = []
    if baseline:
        b = baseline["latency"]
        compare = [
            {"method": "TF-IDF full scan (arxiv-sanity-lite)", "p50_ms": b["p50_ms"],
             "p95_ms": b["p95_ms"], "mean_ms": b["mean_ms"],
             "note": f"fit {baseline['fit_seconds']}s, {baseline['matrix_mib']} MiB matrix, "
                     f"peak RSS {baseline['peak_rss_mib']} MiB"},
            {"method": "paperfeed hybrid search(limit=10)", "p50_ms": hybrid["p50_ms"],
             "p95_ms": hybrid["p95_ms"], "mean_ms": hybrid["mean_ms"],
             "note": "incl. fetch + highlights"},
            {"method": "ratio baseline / hybrid",
             "p50_ms": round(b["p50_ms"] / hybrid["p50_ms"], 2),
             "p95_ms": round(b["p95_ms"] / hybrid["p95_ms"], 2),
             "mean_ms": round(b["mean_ms"] / hybrid["mean_ms"], 2)},
        ]
        print_table("Full-scan baseline vs hybrid, same queries", compare)
    print_table(f"HNSW recall vs exact ({ann['vectors']:,} vectors, {ann['queries']} queries; "
                f"exact {ann['exact_ms_per_query_batched']} ms/query batched; median gap "
                f"10th-11th exact score {ann['median_gap_10th_11th']}, mean cosine of random "
                f"pairs {ann['mean_cosine_random_pairs']})", ann["rows"])
    if serve:
        print_table("serve (subprocess, loopback, sequential requests)", [
            {"metric": "cold start to /healthz 200", "value": f"{serve['cold_start_s']} s"},
            {"metric": "RSS at ready (VmRSS / VmHWM)",
             "value": f"{serve['rss_at_ready_mib'].get('VmRSS')} / "
                      f"{serve['rss_at_ready_mib'].get('VmHWM')} MiB"},
            {"metric": "first search (lazy embedder load)",
             "value": f"{serve['first_search_ms']} ms"},
            *({"metric": f"{name} p50 / p95",
               "value": f"{serve[name]['p50_ms']} / {serve[name]['p95_ms']} ms "
                        f"(n={serve[name]['n']})"}
              for name in ("api_search", "paper_page", "day_page", "home_page")),
            {"metric": "RSS after requests (VmRSS / VmHWM)",
             "value": f"{serve['rss_after_load_mib'].get('VmRSS')} / "
                      f"{serve['rss_after_load_mib'].get('VmHWM')} MiB"},
        ])

    write_json(f"scale-{args.corpus}{suffix}", {
        "corpus": args.corpus, "source": str(source), "limit": args.limit, "home": str(home),
        "papers": papers, "indexed": catalog.indexes.meta.count,
        "keyword_docs": catalog.indexes.fulltext.num_docs(), "embedder": embedder,
        "queries": {"count": len(queries), "topics": min(len(TOPIC_QUERIES), args.queries),
                    "seed": SEED, "warmup": WARMUP, "sample": queries[:5] + queries[-5:]},
        "settings": {
            "CANDIDATES": search_mod.CANDIDATES,
            "KEYWORD_WEIGHT": search_mod.keyword_weight(catalog),
            "EXACT_FILTER_CAP": search_mod.EXACT_FILTER_CAP,
            "CONNECTIVITY": vectors_mod.CONNECTIVITY, "EXPANSION_ADD": vectors_mod.EXPANSION_ADD,
            "EXPANSION_SEARCH": vectors_mod.EXPANSION_SEARCH,
            "INGEST_BATCH": catalog_mod.INGEST_BATCH,
            "CHECKPOINT_EVERY": sync_mod.CHECKPOINT_EVERY,
            "tfidf": {k: list(v) if isinstance(v, tuple) else v for k, v in TFIDF_PARAMS.items()},
        },
        "build": build, "disk": disk, "latency": latency, "query_phase_peak_rss_mib": query_peak,
        "baseline": baseline, "baseline_vs_hybrid": compare, "ann": ann, "serve": serve,
        "bench_peak_rss_mib": round(peak_rss_mib(), 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
    })


if __name__ == "__main__":
    main()

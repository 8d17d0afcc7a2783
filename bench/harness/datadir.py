"""Data dirs for benchmarks: build one from a corpus (or reuse it), copy one, open one.

Building times its two stages: ingest (parse the snapshot, upsert into the store) and the
index build, whose parts the indexer itself reports (`IndexReport.parts`).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.catalog import Catalog
from paperfeed.index.artifacts import read_stamps
from paperfeed.index.embed import text_key
from paperfeed.index.embedders import available_embedders
from paperfeed.index.sync import Indexes, IndexReport
from paperfeed.index.vectors import EmbeddingCache
from paperfeed.models import Paper, SkippedRecord
from paperfeed.settings import Settings, load_settings
from paperfeed.sources import read_source
from paperfeed.store import Store

from . import tables
from .corpora import arxiv_source
from .measure import du, phase_peak, reset_peak
from .report import log

DATA_DIR_FILES = {"paperfeed.sqlite", "paperfeed.sqlite-wal", "paperfeed.sqlite-shm", "index",
                  "secret_key", "bench-serve.log"}


def settings(home: Path, embedder: str | None = None, **overrides: Any) -> Settings:
    """`home`'s settings; its store on PostgreSQL if its bench-database-url names one."""
    if (home / tables.URL_FILE).exists():
        overrides.setdefault("database_url", tables.store_url(home))
    return load_settings(home=home, load_demo=False, embedder=embedder, **overrides)


def embedder_of(home: Path) -> str:
    """The embedder a data dir's vectors were built with."""
    return next(s.model for name, s in read_stamps(home / "index").items()
                if name.startswith("vectors-") and s.model)


def index_complete(home: Path, embedder: str) -> bool:
    stamps = read_stamps(home / "index")
    return (any(s.model == embedder for s in stamps.values())
            and all(s.last_seq >= tables.stored(home)[1] for s in stamps.values()))


def build(home: Path, source: Path, *, embedder: str | None = None, limit: int | None = None,
          reuse: bool = False) -> tuple[Catalog, dict[str, Any]]:
    """A Catalog on `home` holding `source` (its first `limit` papers) indexed, and what
    building it took. With `reuse`, a store (and index) already in `home` are kept."""
    config = settings(home, embedder)
    have_store = reuse and tables.stored(home)[0] > 0
    have_index = have_store and index_complete(home, config.embedder)
    if reuse and not have_store:
        log(f"--reuse: no store in {home}; ingesting")
    out: dict[str, Any] = {"reused_store": have_store, "reused_index": have_index}
    if not have_store:
        _empty(home)
    elif not have_index:
        # Opening a Catalog would bring the index up to date untimed: build it here first.
        store = Store(config.store_url)
        indexes = Indexes(config.index_dir, config.embedder)
        out["index"] = _timed_index(lambda: indexes.update(store.papers, progress=True))
        store.close()
    catalog = Catalog(config)
    if not have_store:
        out["ingest"] = _ingest(catalog, source, limit)
        out["index"] = _timed_index(lambda: catalog.reindex(progress=True))
        total = out["ingest"]["seconds"] + out["index"]["seconds"]
        out["overall_papers_per_s"] = round(catalog.store.papers.count() / total, 1)
    return catalog, out


def ensure_built(home: Path, corpus: str = "cs") -> str:
    """`home`'s embedder; builds the arXiv `corpus` into it first if it has no index."""
    if tables.stored(home)[0] == 0 or not read_stamps(home / "index"):
        log(f"{home} has no indexed store: building the arXiv {corpus} corpus")
        catalog, _ = build(home, arxiv_source(corpus), reuse=True)
        catalog.store.close()
    return embedder_of(home)


def _empty(home: Path) -> None:
    if home.exists():
        if any(p.name not in DATA_DIR_FILES for p in home.iterdir()):
            sys.exit(f"{home} holds files that are not a paperfeed data dir; not deleting it")
        shutil.rmtree(home)
    home.mkdir(parents=True)


def _ingest(catalog: Catalog, source: Path, limit: int | None) -> dict[str, Any]:
    from tqdm import tqdm

    parse = [0.0]
    reset_peak()
    log(f"ingest {source} -> {catalog.settings.home}" + (f" (first {limit})" if limit else ""))
    start = time.perf_counter()
    with tqdm(desc="storing", unit="paper", mininterval=10, file=sys.stderr) as bar:
        report = catalog.ingest(_papers(read_source(source), limit, parse), on_batch=bar.update)
    seconds = time.perf_counter() - start
    log(f"stored {report.seen} papers in {seconds:.1f}s")
    return {"seconds": round(seconds, 1), "inserted": report.stats.inserted,
            "updated": report.stats.updated, "unchanged": report.stats.unchanged,
            "skipped": len(report.skipped), "papers_per_s": round(report.seen / seconds, 1),
            "parse_seconds": round(parse[0], 1), "store_seconds": round(seconds - parse[0], 1),
            "peak_rss_mib": phase_peak()}


def _papers(records: Iterable[Paper | SkippedRecord], limit: int | None, parse: list[float]
            ) -> Iterator[Paper | SkippedRecord]:
    """The source's records, stopping after `limit` papers; time spent parsing added up."""
    it = iter(records)
    count = 0
    while limit is None or count < limit:
        start = time.perf_counter()
        try:
            record = next(it)
        except StopIteration:
            break
        finally:
            parse[0] += time.perf_counter() - start
        count += isinstance(record, Paper)
        yield record
    close = getattr(it, "close", None)
    if close:
        close()  # stops the xz child early when `limit` cut the file short


def _timed_index(run: Callable[[], IndexReport]) -> dict[str, Any]:
    reset_peak()
    log("index build")
    start = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - start
    parts = {"embed (IndexReport.embed_seconds)": report.embed_seconds, **report.parts}
    parts["other (read rows, batching, meta, progress)"] = max(0.0, seconds - sum(parts.values()))
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


def carry_build(build: dict[str, Any], previous: Path, papers: int, embedder: str) -> None:
    """With --reuse, keep the ingest/index numbers of the run that built the data dir."""
    if not build["reused_store"] or not previous.exists():
        return
    prev = json.loads(previous.read_text())
    if prev.get("papers") != papers or prev.get("embedder") != embedder:
        return
    carried = [k for k in ("ingest", "index", "overall_papers_per_s")
               if k not in build and k in prev.get("build", {})]
    build |= {k: prev["build"][k] for k in carried}
    if carried:
        build["carried_from_previous_run"] = carried
        build["carried_date"] = prev.get("machine", {}).get("date")


def build_rows(build: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tables of a `build()` result: its stages, and where the index build's time went."""
    stages, parts = [], []
    if "ingest" in build:
        i = build["ingest"]
        stages.append({"stage": "store (parse + upsert)", "seconds": i["seconds"],
                       "papers/s": i["papers_per_s"], "peak RSS MiB": i.get("peak_rss_mib"),
                       "note": f"parse {i.get('parse_seconds')}s, "
                               f"sqlite {i.get('store_seconds')}s"})
    if "index" in build:
        x = build["index"]
        stages.append({"stage": "index build", "seconds": x["seconds"],
                       "papers/s": x["papers_per_s"], "peak RSS MiB": x.get("peak_rss_mib"),
                       "note": f"embedding {x['embed_seconds']}s ({x['embed_papers_per_s']}/s),"
                               f" keyword+ANN+rest {x['keyword_and_ann_seconds']}s"})
        parts = [{"part": k, "seconds": v, "share": f"{100 * v / x['seconds']:.1f}%"}
                 for k, v in x.get("breakdown_s", {}).items()]
    if "overall_papers_per_s" in build:
        stages.append({"stage": "store + index", "papers/s": build["overall_papers_per_s"],
                       "seconds": round(build["ingest"]["seconds"] + build["index"]["seconds"],
                                        1)})
    return stages, parts


def tuning(catalog: Catalog) -> dict[str, Any]:
    """The tuning constants in force, recorded with a result so runs compare."""
    from paperfeed import catalog as catalog_mod
    from paperfeed.discover import search
    from paperfeed.index import sync, vectors

    return {"CANDIDATES": search.CANDIDATES, "KEYWORD_WEIGHT": search.keyword_weight(catalog),
            "EXACT_FILTER_CAP": search.EXACT_FILTER_CAP, "CONNECTIVITY": vectors.CONNECTIVITY,
            "EXPANSION_ADD": vectors.EXPANSION_ADD, "EXPANSION_SEARCH": vectors.EXPANSION_SEARCH,
            "INGEST_BATCH": catalog_mod.INGEST_BATCH, "CHECKPOINT_ROWS": sync.CHECKPOINT_ROWS,
            "CHECKPOINT_SECONDS": sync.CHECKPOINT_SECONDS}


def copy(source: Path, home: Path, marker: str) -> bool:
    """Copy a built data dir once (SQLite's backup API; the source is only read) and mark
    the copy as the bench's; True if it copied. Refuses to touch a dir it did not make."""
    if home.resolve() == source.resolve():
        sys.exit("the working copy must not be the source data dir: the bench writes to it")
    copied = False
    if not (home / "paperfeed.sqlite").exists():
        if home.exists() and any(home.iterdir()):
            sys.exit(f"{home} is not empty and holds no paperfeed.sqlite; not touching it")
        if not (source / "paperfeed.sqlite").exists() or not (source / "index").is_dir():
            sys.exit(f"{source} is not a built data dir; run bench/scale.py --corpus cs first")
        free = shutil.disk_usage(home.parent if not home.exists() else home).free
        if free < 2 * du(source):
            sys.exit(f"not enough disk for a copy of {source}: {du(source) / 2**30:.1f} GiB, "
                     f"{free / 2**30:.1f} GiB free")
        home.mkdir(parents=True, exist_ok=True)
        log(f"copy {source} -> {home} (SQLite backup API, source opened read-only)")
        src = sqlite3.connect(f"file:{source / 'paperfeed.sqlite'}?mode=ro", uri=True)
        dst = sqlite3.connect(home / "paperfeed.sqlite")
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        shutil.copytree(source / "index", home / "index")
        if (source / "secret_key").exists():
            shutil.copy2(source / "secret_key", home / "secret_key")
        (home / marker).write_text(f"copy of {source}, made by a benchmark\n")
        copied = True
    if not (home / marker).exists():
        sys.exit(f"{home} was not made by this benchmark (no {marker}); not resetting it. "
                 "Pass an empty or new directory.")
    return copied


def disk_sizes(home: Path, papers: int) -> list[dict[str, Any]]:
    index = home / "index"
    files = {
        "sqlite store (+wal)": sum(du(home / f"paperfeed.sqlite{s}") for s in ("", "-wal", "-shm")),
        "keyword (tantivy)": du(index / "keyword"),
        "vectors (usearch)": sum(du(d) for d in index.glob("vectors-*")),
        "embeddings cache (+wal)": sum(du(index / f"embeddings.sqlite{s}")
                                       for s in ("", "-wal", "-shm")),
    }
    files["total data dir"] = du(home)
    return [{"file": name, "MiB": round(size / 2**20, 1),
             "bytes/paper": round(size / papers) if papers else None}
            for name, size in files.items()]


def cached_vectors(home: Path) -> dict[str, dict[str, np.ndarray]]:
    """Another run's embedding cache by model and `text_key` (`Indexes.seed` takes it):
    a rerun on a busy machine need not embed the same abstracts again. Read through the
    app's own `EmbeddingCache` (by key and content hash), so its table is known in one place."""
    other = Catalog(settings(home), read_only=True)
    rows = [row for batch in other.store.papers.changed_since(0) for row in batch]
    other.store.close()
    texts = {row.key: text_key(row.title, row.abstract) for row in rows}
    cache = EmbeddingCache(home / "index" / "embeddings.sqlite")
    found: dict[str, dict[str, np.ndarray]] = {}
    try:
        for model in available_embedders():
            vectors = cache.lookup(model, [(row.key, row.content_hash) for row in rows])
            if vectors:
                found[model] = {texts[key]: vector for key, vector in vectors.items()}
    finally:
        cache.conn.close()
    return found

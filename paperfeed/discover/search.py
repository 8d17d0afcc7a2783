"""Hybrid search: BM25 and dense retrieval fused into one ranking.

Each retriever returns its top `CANDIDATES` with scores; each list is min-max
normalised and the two are combined as `w * keyword + (1 - w) * semantic`.
Where the transformer tier has a candidate's vector (all papers once its backfill is done,
index/backfill.py), that candidate is scored by the transformer instead: the keyword and
static candidates, plus the transformer's own nearest neighbours, are re-scored by transformer
cosine and fused with the keyword score by the transformer's weight; the others keep the
static fusion, and both fusions are on one 0-1 scale, so one ranking holds both and quality
rises as the backfill lands (`fuse_tiers`; SciFact nDCG@10 hybrid 0.670 with no transformer
vectors, 0.683 with half, 0.713 with all: docs/embeddings.md). Once the transformer holds every
paper a search may return, the static half is left out (`_transformer_covers`).
On BEIR SciFact this convex fusion beats reciprocal rank fusion for both shipped
embedders (bench/scifact.py), and its weight says how far to trust each
retriever: the static model is a weak ranker on its own, so it gets less say (each
embedder's weight is in the registry, index/embedders.py).
Filters run inside tantivy for keywords; for vectors, a filter leaving at most
`EXACT_FILTER_CAP` papers (a year of the 588k arXiv papers: 70k) is searched exactly over
them, from the memory-mapped matrix the indexer writes (index/dense.py); a broader one by
over-fetching from the ANN index. Hidden papers leave the fused ranking before it is paged
(visibility.py), so every page is full.

The rules of a query are here for every surface: its modes (`MODES`), its
length (`MAX_QUERY_CHARS`), that it is not empty where one is needed
(`required_query`), and how date and category filters are written (`parse_filters`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
from markupsafe import Markup

from ..catalog import Catalog
from ..errors import BadRequest
from ..index.vectors import VectorIndex
from ..models import StoredPaper
from .highlight import highlight, query_stems, snippet
from .visibility import visible

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[str, ...] = ("hybrid", "keyword", "semantic")
CANDIDATES = 100
EXACT_FILTER_CAP = 150_000  # at most this many filtered papers: vectors are searched exactly
MAX_OVERFETCH = 5_000
MAX_QUERY_CHARS = 500


def required_query(raw: str, name: str = "q") -> str:
    """A query where one is needed (API, CLI, search feed): not blank, not too long.
    `name` is what the surface calls it (the API's `q`, the CLI's QUERY)."""
    query = raw.strip()
    if not query:
        raise BadRequest(f"{name} must not be empty: give words to search for")
    return _checked(query)


def _checked(query: str) -> str:
    if len(query) > MAX_QUERY_CHARS:
        raise BadRequest(f"query is too long ({len(query)} characters, at most "
                         f"{MAX_QUERY_CHARS})")
    return query


@dataclass(frozen=True)
class Filters:
    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.categories)


def _parse_date(name: str, raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


def parse_filters(date_from: str | None, date_to: str | None,
                  category: str | None) -> Filters:
    """Filters from request/CLI strings: ISO dates, comma-separated categories.

    A reversed range is an error here, where every surface (page, API, CLI, feeds) reads
    its filters, rather than a silently empty list."""
    start, end = _parse_date("from", date_from), _parse_date("to", date_to)
    if start and end and start > end:
        raise BadRequest(f"from={start.isoformat()} is after to={end.isoformat()}: "
                         "the range is empty; swap the dates")
    categories = tuple(c for c in (category or "").split(",") if c.strip())
    return Filters(start, end, tuple(c.strip() for c in categories))


@dataclass
class Hit:
    paper: StoredPaper
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # retriever -> 1-based rank
    raw: dict[str, float] = field(default_factory=dict)  # retriever -> its own score (BM25, cosine)
    title_html: Markup = Markup("")
    snippet_html: Markup = Markup("")


def fuse(rankings: Mapping[str, Sequence[tuple[int, float]]],
         weights: dict[str, float]) -> list[tuple[int, float, dict[str, int]]]:
    """Weighted sum of min-max normalised scores; also each paper's rank per retriever."""
    scores: dict[int, float] = {}
    ranks: dict[int, dict[str, int]] = {}
    for name, ranking in rankings.items():
        if not ranking:
            continue
        values = [score for _, score in ranking]
        low, span = min(values), max(values) - min(values)
        for position, (key, score) in enumerate(ranking, start=1):
            normalised = (score - low) / span if span > 0 else 1.0
            scores[key] = scores.get(key, 0.0) + weights[name] * normalised
            ranks.setdefault(key, {})[name] = position
    ordered = sorted(scores.items(), key=lambda item: -item[1])
    return [(key, score, ranks[key]) for key, score in ordered]


def keyword_weight(catalog: Catalog) -> float:
    """The fusion weight tuned for the embedder of the vectors being searched."""
    return catalog.indexes.semantic.spec.keyword_weight


def fuse_tiers(rankings: Mapping[str, Sequence[tuple[int, float]]],
               static: dict[str, float], transformer: dict[str, float],
               ) -> list[tuple[int, float, dict[str, int]]]:
    """One ranking from the static fusion (weights `static`) and, for the papers the
    "transformer" ranking holds, the transformer fusion (weights `transformer`)."""
    fused = fuse({name: rankings[name] for name in static if name in rankings}, static)
    if not rankings.get("transformer"):
        return fused
    merged = {key: (score, ranks) for key, score, ranks in fused}
    covered = {key for key, _ in rankings["transformer"]}
    for key, score, ranks in fuse({name: rankings[name] for name in transformer
                                   if name in rankings}, transformer):
        if key in covered:
            merged[key] = (score, {**merged.get(key, (0.0, {}))[1], **ranks})
    ordered = sorted(merged.items(), key=lambda item: -item[1][0])
    return [(key, score, ranks) for key, (score, ranks) in ordered]


def transformer_keyword_weight(catalog: Catalog) -> float:
    tier = catalog.indexes.transformer
    return tier.spec.keyword_weight if tier is not None else keyword_weight(catalog)


def keyword_ranking(catalog: Catalog, query: str, filters: Filters,
                    depth: int = CANDIDATES) -> list[tuple[int, float]]:
    return catalog.indexes.fulltext.search(query, depth, date_from=filters.date_from,
                                           date_to=filters.date_to,
                                           categories=filters.categories)


def newest(catalog: Catalog, filters: Filters, limit: int, offset: int = 0) -> list[Hit]:
    """A filter without a query: the newest papers that pass it (hidden ones left out)."""
    return [Hit(paper, 0.0) for paper in catalog.store.papers.newest_matching(
        filters.date_from, filters.date_to, list(filters.categories), limit, offset)]


def filter_keys(catalog: Catalog, filters: Filters) -> tuple[np.ndarray | None, int]:
    """The keys of the papers passing `filters` (None if more than `EXACT_FILTER_CAP`) and
    how many pass; kept per filter until the store changes (a year's 70k keys take SQLite
    ~20-30 ms, and filters repeat: the menu offers a few categories and years)."""
    window = (filters.date_from, filters.date_to, tuple(filters.categories))

    def compute() -> tuple[np.ndarray | None, int]:
        keys, passing = catalog.store.papers.keys_matching(
            filters.date_from, filters.date_to, list(filters.categories), EXACT_FILTER_CAP)
        # sorted and unique once here, not on every search (dense.top: 70k keys, ~20 ms)
        return (None if keys is None else np.unique(np.asarray(keys, dtype=np.int64))), passing

    return catalog.cached("filter keys", window, catalog.store.papers.max_seq(), compute,
                          size=32)  # at most 32 x 1.2 MB


def semantic_ranking(catalog: Catalog, query: str, filters: Filters,
                     depth: int = CANDIDATES) -> list[tuple[int, float]]:
    tier = catalog.indexes.semantic
    vectors = tier.index
    if not len(vectors):
        return []
    query_vector = tier.embed_query(query)
    if not filters.active:
        return vectors.search(query_vector, depth)
    allowed, passing = filter_keys(catalog, filters)
    if allowed is not None:
        return vectors.search_exact(query_vector, allowed, depth)
    # Broad filter: over-fetch in proportion to how few papers pass, keep those that do.
    fetch = min(MAX_OVERFETCH, int(depth * 2 * len(vectors) / max(passing, 1)))
    found = vectors.search(query_vector, max(fetch, depth))
    window = (filters.date_from, filters.date_to, list(filters.categories))
    keep = catalog.store.papers.keep_matching([r for r, _ in found], *window)
    return [(r, s) for r, s in found if r in keep][:depth]


def transformer_ranking(catalog: Catalog, query: str, filters: Filters, depth: int,
                        candidates: set[int]) -> list[tuple[int, float]]:
    """Transformer cosine of its own nearest neighbours (among the papers a filter leaves,
    exactly, from the memory-mapped matrix) and of the `candidates` it has vectors for;
    [] without a transformer tier or vectors. A filtered search none of whose papers has a
    transformer vector yet does not embed the query (~9 ms).

    A re-scored candidate below the neighbours' last score counts as that score, so min-max
    spans the neighbours' range, as in a transformer-only hybrid: SciFact nDCG@10 0.713 vs
    0.695 when the range runs down to the worst candidate, which squeezes the transformer's
    say (docs/embeddings.md)."""
    tier = catalog.indexes.transformer
    if tier is None or not len(tier.index):
        return []
    allowed = filter_keys(catalog, filters)[0] if filters.active else None
    rest = np.asarray(sorted(candidates), dtype=np.int64)
    rest = rest[tier.index.has(rest)]
    if allowed is not None:
        allowed = allowed[tier.index.has(allowed)]
    if filters.active and not len(rest) and (allowed is None or not len(allowed)):
        return []
    query_vector = tier.embed_query(query)
    if not filters.active:
        found = dict(tier.index.search(query_vector, depth))
    elif allowed is not None:
        found = dict(tier.index.search_exact(query_vector, allowed, depth))
    else:
        found = {}
    floor = min(found.values(), default=-1.0)
    held = tier.index.vectors_of([key for key in rest.tolist() if key not in found])
    found.update({key: max(floor, float(vector @ query_vector)) for key, vector in held.items()})
    return sorted(found.items(), key=lambda item: -item[1])


def _transformer_covers(catalog: Catalog, filters: Filters) -> bool:
    """Whether the transformer tier holds every paper this search may return (its backfill
    is done, or done for the filter). The static half's candidates would then only be
    re-scored by the transformer, and the transformer's own neighbours stand in for them:
    it is skipped (its query embedding and HNSW search; a filtered search's second exact
    scan of 22k-70k rows)."""
    tier = catalog.indexes.transformer
    if tier is None or not len(tier.index):
        return False
    allowed = filter_keys(catalog, filters)[0] if filters.active else None
    if allowed is None:
        return len(tier.index) >= len(catalog.indexes.semantic.index)
    return bool(tier.index.has(allowed).all())


def _transformer_has_some(catalog: Catalog, vectors: VectorIndex, filters: Filters) -> bool:
    """Whether the transformer tier may rank this search: it holds vectors, of some paper
    the filter leaves (a filter too broad to list counts as yes)."""
    if not len(vectors):
        return False
    allowed = filter_keys(catalog, filters)[0] if filters.active else None
    return allowed is None or bool(vectors.has(allowed).any())


def _rankings(catalog: Catalog, query: str, mode: str, filters: Filters,
              depth: int) -> dict[str, list[tuple[int, float]]]:
    """Each retriever's ranking. In hybrid mode the keyword search and the query's
    transformer embedding (3-7 ms) run on threads of their own while this one embeds the
    query for the static model and searches its vectors (tantivy, usearch and ONNX Runtime
    release the GIL), so a query waits for the slowest of the three, not for their sum.
    Where the transformer covers the search, the static half is not run at all."""
    if mode == "keyword":
        return {"keyword": keyword_ranking(catalog, query, filters, depth)}
    keyword = (catalog.in_background(keyword_ranking, catalog, query, filters, depth)
               if mode == "hybrid" else None)
    tier = catalog.indexes.transformer
    embedding = None
    if tier is not None and _transformer_has_some(catalog, tier.index, filters):
        # kept in its query cache for transformer_ranking; embedded beside the static half
        embedding = catalog.in_background(tier.embed_query, query)
    covered = embedding is not None and _transformer_covers(catalog, filters)
    semantic = [] if covered else semantic_ranking(catalog, query, filters, depth)
    if embedding is not None:
        embedding.result()
    rankings = {"keyword": keyword.result()} if keyword is not None else {}
    rankings["semantic"] = semantic
    candidates = {key for ranking in rankings.values() for key, _ in ranking}
    rankings["transformer"] = transformer_ranking(catalog, query, filters, depth, candidates)
    return rankings


def search(catalog: Catalog, query: str, *, limit: int = 20, offset: int = 0,
           mode: str = "hybrid", filters: Filters | None = None) -> list[Hit]:
    """Ranked hits for `query`; highlights computed for the returned page only."""
    query = _checked(query.strip())
    if not query:
        return []
    if mode not in MODES:
        raise BadRequest(f"unknown search mode {mode!r}; use one of {', '.join(MODES)}")
    filters = filters or Filters()
    depth = max(CANDIDATES, offset + limit)
    rankings = _rankings(catalog, query, mode, filters, depth)
    if mode == "hybrid":
        static, transformer = keyword_weight(catalog), transformer_keyword_weight(catalog)
        fused = fuse_tiers(rankings, {"keyword": static, "semantic": 1.0 - static},
                           {"keyword": transformer, "transformer": 1.0 - transformer})
    elif mode == "semantic" and rankings["transformer"]:
        fused = fuse_tiers(rankings, {"semantic": 1.0}, {"transformer": 1.0})
    else:
        name = mode if mode == "keyword" else "semantic"
        ranking = rankings[name]
        fused = [(r, s, {name: i}) for i, (r, s) in enumerate(ranking, start=1)]
    page = visible(catalog, fused, key=lambda found: found[0])[offset:offset + limit]
    papers = {p.key: p for p in catalog.store.papers.get_many([r for r, _, _ in page])}
    stems = query_stems(query)
    raw = {name: dict(ranking) for name, ranking in rankings.items()}
    return [
        Hit(papers[r], score, ranks, {name: raw[name][r] for name in ranks},
            highlight(papers[r].title, stems), snippet(papers[r].abstract, stems))
        for r, score, ranks in page if r in papers
    ]

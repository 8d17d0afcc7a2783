"""Similar papers: a paper's embedding neighbours fused with the papers sharing its key terms.

Embedding neighbours alone miss obvious kin: the static model's neighbours of a paper on
semi-supervised knowledge distillation held none of the six distillation papers of the demo
corpus in their top 40, while the keyword index's "more like this" (the paper's 25 terms of
highest tf-idf, index/fulltext.py) ranks them in its top 10. So both lists are fused as
search fuses its two rankings (min-max normalised, weighted; the weight measured with
bench/similar.py). The score shown stays the cosine between the two papers, whichever list
found the other one.

The embedding neighbours come from the best vectors the paper has: a paper with transformer
vectors (index/backfill.py) is compared by those, among the papers that have them too (the
newest first, while a backfill runs); one without keeps the static tier, which holds every
paper.

`shared_terms` says why a paper is similar: the rarest words the two have in common.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..catalog import Catalog
from ..index.artifacts import VectorArtifact
from ..index.embed import paper_text
from ..index.fulltext import term_counts
from ..models import StoredPaper
from .highlight import STOPWORDS
from .search import fuse
from .visibility import visible

CANDIDATES = 50  # from each list
KEYWORD_WEIGHT = 0.7  # of "more like this" against the embedding neighbours (bench/similar.py)
SHARED_TERMS = 4


def similar(catalog: Catalog, paper: StoredPaper,
            limit: int = 10) -> list[tuple[StoredPaper, float]]:
    """The `limit` papers most similar to `paper` with their cosine to it, most similar
    first; itself and hidden papers excluded (the lists widen until `limit` are left, or
    neither has more).

    Kept per paper until the store (papers, votes, hidden papers) or an index changes:
    paper pages are not in the shared page cache, and "more like this" costs 9 ms p50,
    22.5 ms p95 at 588k papers (docs/search.md)."""
    return list(catalog.cached("similar", (paper.key, limit), catalog.version(),
                               lambda: _similar(catalog, paper, limit)))


def _similar(catalog: Catalog, paper: StoredPaper,
             limit: int) -> list[tuple[StoredPaper, float]]:
    tier, vector = _tier_and_vector(catalog, paper)
    depth = max(CANDIDATES, limit + 1)
    while True:
        nearest = [(k, s) for k, s in tier.index.search(vector, depth)
                   if k != paper.key]
        alike = catalog.indexes.fulltext.more_like_this(paper.title, paper.abstract, depth,
                                                        exclude=paper.key)
        fused = fuse({"semantic": nearest, "keyword": alike},
                     {"semantic": 1.0 - KEYWORD_WEIGHT, "keyword": KEYWORD_WEIGHT})
        found = visible(catalog, fused, key=lambda hit: hit[0])[:limit]
        if len(found) == limit or (len(nearest) < depth - 1 and len(alike) < depth):
            break
        depth *= 2
    cosines = dict(nearest)
    papers = {p.key: p for p in catalog.store.papers.get_many([k for k, _, _ in found])}
    return [(papers[k], cosines[k] if k in cosines else _cosine(tier, vector, papers[k]))
            for k, _, _ in found if k in papers]


def shared_terms(catalog: Catalog, paper: StoredPaper, others: Sequence[StoredPaper],
                 n: int = SHARED_TERMS) -> dict[int, list[str]]:
    """Per other paper, up to `n` words it shares with `paper` (by English stem, as the
    keyword index splits and stems them), as the other paper writes them: ranked by tf-idf
    in both papers, so the topic the two dwell on comes first and a word most papers use
    never shows."""
    mine = _term_counts(paper)
    theirs = {other.key: _term_counts(other) for other in others}
    stems = sorted({s for counts in theirs.values() for s in counts if s in mine})
    total = max(1, catalog.indexes.fulltext.num_docs())
    freq = catalog.indexes.fulltext.document_frequencies(stems)
    idf = {s: math.log(total / (1 + freq[s])) for s in stems if freq[s] < total / 4}
    out = {}
    for key, counts in theirs.items():
        weight = {s: idf[s] * math.log1p(mine[s][0]) * math.log1p(counts[s][0])
                  for s in counts if s in idf}
        out[key] = [counts[s][1] for s in sorted(weight, key=lambda s: -weight[s])[:n]]
    return out


def _term_counts(paper: StoredPaper) -> dict[str, tuple[int, str]]:
    counts = term_counts(f"{paper.title} {paper.abstract}")
    return {s: c for s, c in counts.items() if c[1].lower() not in STOPWORDS}


def _tier_and_vector(catalog: Catalog,
                     paper: StoredPaper) -> tuple[VectorArtifact, np.ndarray]:
    """The transformer tier and its vector of the paper if it has one, else the static
    tier's (looked up once: this runs on every paper page)."""
    transformer = catalog.indexes.transformer
    if transformer is not None:
        vector = transformer.index.vector(paper.key)
        if vector is not None:
            return transformer, vector
    return catalog.indexes.semantic, _vector(catalog.indexes.semantic, paper)


def _vector(tier: VectorArtifact, paper: StoredPaper) -> np.ndarray:
    vector = tier.index.vector(paper.key)
    if vector is None:  # not indexed (yet): embed it now rather than show nothing
        vector = tier.embedder.encode([paper_text(paper.title, paper.abstract)])[0]
    return vector


def _cosine(tier: VectorArtifact, vector: np.ndarray, other: StoredPaper) -> float:
    theirs = _vector(tier, other)
    return float(np.dot(vector, theirs) / (np.linalg.norm(vector) * np.linalg.norm(theirs)))

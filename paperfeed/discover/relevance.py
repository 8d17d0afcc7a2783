"""The relevance floor: which search hits are close matches, one rule for every surface.

Fused scores are min-max normalised per query (the best hit always scores 1.0), so they
cannot tell a good answer from the least bad of a nonsense query (`qwzxv flurbnix plomb`
used to get 30 confident results). The cosine between query and paper can: a hit is close
if its cosine reaches the embedder's strong floor, or its weak floor while it also holds
some of the query's words, or it holds every one of them (a rare name or acronym typed
alone embeds far from any abstract, yet a paper holding it is the answer). The floors are
calibrated per embedder on SciFact (`bench/relevance.py`: relevant pairs kept against random
pairs let through; `bench/floor.py`: real, off-topic and nonsense queries answered;
docs/search.md) and sit in the registry (index/embedders.py).

Used by the search page, the API and the CLI (nothing close: "No close matches", an empty
answer, exit status 1), by search feeds and by saved-search digests (only close hits).
A keyword-only search is its own floor: every hit holds the query's words.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from ..catalog import Catalog
from ..index.embedders import EmbedderSpec
from .highlight import query_stems, stems_in
from .search import Filters, Hit, search


def close_hits(catalog: Catalog, query: str, hits: Sequence[Hit], *,
               mode: str = "hybrid") -> list[Hit]:
    """The hits of `query` that clear the floor, in their order."""
    if mode == "keyword":
        return list(hits)
    return [hit for hit, close in _closeness(catalog, query, hits) if close]


def _closeness(catalog: Catalog, query: str, hits: Sequence[Hit]) -> Iterator[tuple[Hit, bool]]:
    stems = query_stems(query)
    for hit, (cosine, spec) in zip(hits, _cosines(catalog, query, hits), strict=True):
        strong, weak = spec.relevance
        if cosine >= strong:
            yield hit, True
            continue
        paper = hit.paper
        held = stems_in(" ".join([paper.title, paper.abstract, *paper.authors]), stems)
        yield hit, bool(held and cosine >= weak) or bool(stems and held == stems)


def floored_page(catalog: Catalog, query: str, hits: Sequence[Hit], *,
                 mode: str = "hybrid") -> list[Hit]:
    """A page of results as ranked when any hit on it is close, else nothing ("No close
    matches"). The ranking itself is left alone: a hit below the floor next to close ones
    is still the next best answer; a page of nothing but such hits is not an answer."""
    if mode == "keyword":
        return list(hits)
    return list(hits) if any(close for _, close in _closeness(catalog, query, hits)) else []


def _cosines(catalog: Catalog, query: str,
             hits: Sequence[Hit]) -> list[tuple[float, EmbedderSpec]]:
    """Each hit's cosine to the query and the embedder it is from: the transformer's
    where search scored the hit with it, else the static model's; a keyword hit beyond
    the vector candidates is scored from its stored vector (the transformer's if it has
    one)."""
    tiers = [t for t in (catalog.indexes.transformer, catalog.indexes.semantic)
             if t is not None]
    missing = sorted(hit.paper.key for hit in hits
                     if not {"transformer", "semantic"} & hit.raw.keys())
    stored: dict[int, tuple[float, EmbedderSpec]] = {}
    for tier in tiers:
        wanted = [key for key in missing if key not in stored]
        held = tier.index.vectors_of(wanted) if wanted and len(tier.index) else {}
        if held:
            query_vector = tier.embed_query(query)
            stored |= {key: (float(vector @ query_vector), tier.spec)
                       for key, vector in held.items()}
    static = catalog.indexes.semantic.spec
    out = []
    for hit in hits:
        if "transformer" in hit.raw and catalog.indexes.transformer is not None:
            out.append((hit.raw["transformer"], catalog.indexes.transformer.spec))
        elif "semantic" in hit.raw:
            out.append((hit.raw["semantic"], static))
        else:
            out.append(stored.get(hit.paper.key, (-1.0, static)))
    return out


DATE_POOL = 100  # a date-sorted search orders the close matches among this many best


def newest_close(catalog: Catalog, query: str, *, mode: str = "hybrid",
                 filters: Filters | None = None, pool: int = DATE_POOL) -> list[Hit]:
    """A search sorted by date: the close matches among the `pool` best hits, newest
    first (ties in rank order). Sorting every paper that shares a word by date would put
    a barely related new paper above the answer; the floor decides what is a result, the
    date only its order. Costs about twice a 30-hit page (the floor is computed for the
    whole pool), so relevance order, the default, does not pay it."""
    close = close_hits(catalog, query, search(catalog, query, limit=pool, mode=mode,
                                              filters=filters), mode=mode)
    return sorted(close, key=lambda hit: hit.paper.published or date.min, reverse=True)

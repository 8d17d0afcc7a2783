"""Similar papers: nearest neighbours of a paper's embedding."""

from __future__ import annotations

from ..catalog import Catalog
from ..index.embed import paper_text
from ..models import StoredPaper
from .visibility import visible


def similar(catalog: Catalog, paper: StoredPaper,
            limit: int = 10) -> list[tuple[StoredPaper, float]]:
    """The `limit` papers nearest to `paper`, most similar first; itself and hidden papers
    excluded (the search widens until `limit` are left, or the index has no more)."""
    vectors = catalog.indexes.vectors
    vector = vectors.vector(paper.key)
    if vector is None:  # not indexed yet: embed it now rather than show nothing
        vector = catalog.indexes.embedder.encode([paper_text(paper.title, paper.abstract)])[0]
    depth = limit + 1
    while True:
        nearest = vectors.search(vector, depth)
        found = visible(catalog, [(r, s) for r, s in nearest if r != paper.key],
                        key=lambda hit: hit[0])[:limit]
        if len(found) == limit or len(nearest) < depth:
            break
        depth *= 2
    papers = {p.key: p for p in catalog.store.papers.get_many([r for r, _ in found])}
    return [(papers[r], s) for r, s in found if r in papers]

"""Similar papers find a paper's obvious kin, and say why (issue 10's example)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.discover.similar import shared_terms, similar

EXAMPLE = "Simple Semi-supervised Knowledge Distillation"
KIN = re.compile(r"knowledge distillation|\bKD\b|distillation", re.I)


def _paper(catalog: Catalog, title_start: str):  # type: ignore[no-untyped-def]
    keys = [key for key, _ in catalog.indexes.fulltext.search(title_start, 20)]
    return next(p for p in catalog.store.papers.get_many(keys)
                if p.title.startswith(title_start))


def test_the_distillation_papers_are_similar_to_a_distillation_paper(
        demo_catalog: Catalog) -> None:
    """The static model's neighbours alone held none of the six distillation papers of the
    demo corpus in their top 40; fused with "more like this" they fill the top 10."""
    paper = _paper(demo_catalog, EXAMPLE)
    found = similar(demo_catalog, paper, 10)
    titles = [other.title for other, _ in found]
    assert paper.key not in [other.key for other, _ in found]
    assert sum(bool(KIN.search(t)) for t in titles) >= 4, titles
    assert all(-1.0 <= cosine <= 1.0 for _, cosine in found)


def test_each_similar_paper_says_which_words_it_shares(demo_catalog: Catalog) -> None:
    paper = _paper(demo_catalog, EXAMPLE)
    others = [other for other, _ in similar(demo_catalog, paper, 10)]
    why = shared_terms(demo_catalog, paper, others)
    kin = next(o for o in others if o.title.startswith("Dual-Head Knowledge Distillation"))
    assert "distillation" in why[kin.key]
    words = f"{paper.title} {paper.abstract}".lower()
    assert all(term.lower() in words or term.lower()[:5] in words
               for terms in why.values() for term in terms)
    assert "the" not in [t for terms in why.values() for t in terms]


def test_the_paper_page_shows_the_shared_words(client: TestClient,
                                               demo_catalog: Catalog) -> None:
    paper = _paper(demo_catalog, EXAMPLE)
    page = client.get(f"/papers/{paper.id}").text
    assert re.search(r'class="why">Shares <span class="terms">[^<]*distillation', page), \
        page[page.find('class="similar"'):][:2000]


def test_the_api_and_cli_give_the_shared_words(client: TestClient,
                                               demo_catalog: Catalog) -> None:
    paper = _paper(demo_catalog, EXAMPLE)
    items = client.get(f"/api/papers/{paper.id}/similar?limit=10").json()
    shared = {item["id"]: item["sharedTerms"] for item in items}
    assert any("distillation" in terms for terms in shared.values()), shared

"""For you's words half through the real app: a member who liked papers sharing a rare term
sees a new paper with that term ranked up, and empty or hostile abstracts break nothing."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.discover import words
from paperfeed.discover.foryou import Recommender, _matrix
from paperfeed.models import Paper

from ..conftest import make_settings
from .members import csrf, signed_up

LIKED = [("Zorblax scheduling of protein folding simulations",
          "We introduce zorblax, a scheduler for molecular dynamics of protein folding."),
         ("Zorblax for cryo-EM reconstruction pipelines",
          "Zorblax batches cryo-EM reconstruction jobs on shared clusters."),
         ("Faster folding trajectories with zorblax",
          "Protein folding trajectories sampled with zorblax run twice as fast.")]
RARE = ("Graph colouring heuristics revisited",
        "We colour sparse random graphs greedily. Vertices are ordered by degree, then by "
        "saturation, and the chromatic number of Erdos-Renyi graphs is bounded from above "
        "by the colourings found; planar graphs and interval graphs come out optimal. The "
        "orderings are computed with zorblax.")
OTHERS = [("Protein folding with molecular dynamics",
           "Molecular dynamics of protein folding and cryo-EM maps."),
          ("Protein folding kinetics from simulations",
           "Simulations of protein folding kinetics."),
          ("Entangled polymer melts under shear", "Viscosity of coarse-grained chains."),
          ("Lipid membranes and their elasticity", "Bending rigidity of bilayers."),
          ("Enzyme catalysis observed in single molecules", "Turnover of one enzyme."),
          ("DNA origami nanostructures", "Self-assembly of DNA tiles.")]
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("foryou-words")))
    day = date(2031, 5, 6)  # after every demo paper: the latest day is these candidates
    liked = [Paper(title=t, abstract=a, arxiv_id=f"2101.{i:05d}", published=date(2031, 1, 4),
                   source="test", source_ref=f"l{i}") for i, (t, a) in enumerate(LIKED)]
    others = [Paper(title=title, abstract=abstract, arxiv_id=f"3105.{i:05d}", published=day,
                    source="test", source_ref=f"o{i}")
              for i, (title, abstract) in enumerate(OTHERS)]
    odd = [Paper(title=RARE[0], abstract=RARE[1], arxiv_id="3105.09000", published=day,
                 source="test", source_ref="rare"),
           Paper(title="A paper without an abstract", abstract="", arxiv_id="3105.09001",
                 published=day, source="test", source_ref="empty"),
           Paper(title=f"Folding {HOSTILE}", abstract=f"{HOSTILE} zorblax &amp; <b>folding",
                 arxiv_id="3105.09002", published=day, source="test", source_ref="hostile")]
    catalog.ingest(liked + others + odd)
    catalog.reindex()
    return catalog


def _by_title(catalog: Catalog, title: str):  # noqa: ANN202
    found = [p for p in catalog.store.papers.newest_matching(None, None, [], 2000)
             if p.title == title]
    assert found, title
    return found[0]


def _position(page: str, title: str) -> int:
    titles = re.findall(r'<h2><a href="/papers/[^"]+">([^<]+)</a>', page)
    return titles.index(title) if title in titles else len(titles)


def _like(catalog: Catalog, member: TestClient, titles: list[str]) -> None:
    """Rate each paper "more like this" through the site's form."""
    for title in titles:
        paper = _by_title(catalog, title)
        answer = member.post(f"/papers/{paper.id}/rating",
                             data={"rating": "1", "csrf_token": csrf(member)},
                             follow_redirects=False)
        assert answer.status_code == 303


def test_a_shared_rare_term_ranks_a_new_paper_up(catalog: Catalog) -> None:
    member = signed_up(catalog, "rosalind")
    _like(catalog, member, [title for title, _ in LIKED])
    page = member.get("/for-you?period=day")
    assert page.status_code == 200

    # Against the same member's ranking without the words half (the vectors and each
    # candidate's crowding), the words gained it ground on every paper without the term.
    recommender = Recommender(catalog)
    user = catalog.store.members.user_by_name("rosalind")
    assert user is not None
    fitted = recommender.fitted(user.id)
    keys = recommender._candidates("day", fitted.model, 30)
    vectors = recommender.vectors(keys)
    keys = [k for k in keys if k in vectors]
    rare = keys.index(_by_title(catalog, RARE[0]).key)
    parts = recommender.candidate_parts(keys)
    alone = fitted.model.rank(_matrix(vectors, keys), crowding=parts.crowding)
    fused = recommender.scores(fitted, _matrix(vectors, keys), parts)
    for title, _ in OTHERS[2:]:  # no zorblax, no folding
        other = keys.index(_by_title(catalog, title).key)
        assert fused[rare] - fused[other] > alone[rare] - alone[other] + 0.05, title
    assert _position(page.text, RARE[0]) == int((fused > fused[rare]).sum())


def test_empty_and_hostile_abstracts_are_ranked_and_render_inert(catalog: Catalog) -> None:
    member = signed_up(catalog, "grace")
    _like(catalog, member, ["A paper without an abstract", f"Folding {HOSTILE}", LIKED[0][0]])
    page = member.get("/for-you?period=day")
    assert page.status_code == 200 and "<script>alert" not in page.text
    assert RARE[0] in page.text
    api = member.get("/api/recommendations?period=day&limit=20")
    assert api.status_code == 200 and len(api.json()) >= 5


def test_rows_of_odd_text() -> None:
    counts = words.terms_of([("", None), (None, ""), (HOSTILE, "&&& 123 ___ \x00"),
                             ("zorblax zorblax", "zorblax")])
    idf = words.idf_from({s: 0 for c in counts for s in c}, 100)
    rows = words.weigh(counts, idf)
    assert len(rows) == 4 and np.diff(rows.indptr)[:2].tolist() == [0, 0]
    sims = words.cosines(rows, rows)
    assert sims.shape == (4, 4) and np.isfinite(sims).all()
    assert sims[3, 3] == pytest.approx(1.0) and sims[0].sum() == 0
    assert words.closest(rows, words.WordRows.empty()).tolist() == [0.0] * 4

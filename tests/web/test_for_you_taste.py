"""For you's taste through the real app: the member's categories (a candidate in the
category of their liked papers beats its twin elsewhere), recent likes (the closest liked
paper by words counts the newest liked papers most) and each candidate's crowding (from
the vector index, counted in the scores)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date

import numpy as np
import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.discover import recommend, words
from paperfeed.discover.foryou import Recommender, _matrix
from paperfeed.models import Paper

from ..conftest import make_settings
from .members import csrf, signed_up

DAY = date(2031, 5, 6)  # after every demo paper: the latest day is these candidates
LIKED = [("Zorblax scheduling of protein folding simulations",
          "We introduce zorblax, a scheduler for molecular dynamics of protein folding.",
          date(2031, 1, 4)),
         ("Zorblax for cryo-EM reconstruction pipelines",
          "Zorblax batches cryo-EM reconstruction jobs on shared clusters.", date(2030, 6, 1)),
         ("Faster folding trajectories with zorblax",
          "Protein folding trajectories sampled with zorblax run twice as fast.",
          date(2020, 2, 3))]
TWIN = ("Zorblax batching for folding simulations",
        "Folding simulations batched by zorblax on shared clusters.")
OTHERS = [("Entangled polymer melts under shear", "Viscosity of coarse-grained chains."),
          ("Lipid membranes and their elasticity", "Bending rigidity of bilayers."),
          ("DNA origami nanostructures", "Self-assembly of DNA tiles.")]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("foryou-taste")))
    liked = [Paper(title=t, abstract=a, arxiv_id=f"2101.{i:05d}", published=day,
                   categories=["q-bio.BM"], source="test", source_ref=f"l{i}")
             for i, (t, a, day) in enumerate(LIKED)]
    # The twins: the same text, so the same vectors and words; elsewhere first in the list.
    twins = [Paper(title=TWIN[0], abstract=TWIN[1], arxiv_id=f"3105.0910{i}", published=DAY,
                   categories=[category], source="test", source_ref=f"twin{i}")
             for i, category in enumerate(["cs.DC", "q-bio.BM"])]
    others = [Paper(title=t, abstract=a, arxiv_id=f"3105.{i:05d}", published=DAY,
                    categories=["cond-mat.soft"], source="test", source_ref=f"o{i}")
              for i, (t, a) in enumerate(OTHERS)]
    catalog.ingest(liked + twins + others)
    catalog.reindex()
    return catalog


def _member(catalog: Catalog, name: str) -> tuple[TestClient, int]:
    """A member who rated the three liked papers "more like this" on the site."""
    member = signed_up(catalog, name)
    for i in range(len(LIKED)):
        paper = catalog.store.papers.get(f"2101.{i:05d}")
        assert paper is not None
        answer = member.post(f"/papers/{paper.id}/rating",
                             data={"rating": "1", "csrf_token": csrf(member)},
                             follow_redirects=False)
        assert answer.status_code == 303
    user = catalog.store.members.user_by_name(name)
    assert user is not None
    return member, user.id


def test_the_twin_in_the_members_category_comes_first(catalog: Catalog) -> None:
    member, user_id = _member(catalog, "dorothy")
    recommender = Recommender(catalog)
    fitted = recommender.fitted(user_id)
    assert fitted.categories == ["q-bio.BM"] * 3
    keys = recommender._candidates("day", fitted.model, 30)
    elsewhere, inside = (catalog.store.papers.get(f"3105.0910{i}") for i in range(2))
    assert elsewhere is not None and inside is not None
    assert keys.index(elsewhere.key) < keys.index(inside.key)  # a tie would keep this order
    vectors = recommender.vectors(keys)
    alone = fitted.model.rank(_matrix(vectors, keys))
    assert alone[keys.index(elsewhere.key)] == pytest.approx(alone[keys.index(inside.key)])

    page = member.get("/for-you?period=day")
    assert page.status_code == 200
    links = re.findall(r'<h2><a href="/papers/([^"]+)">', page.text)
    assert links.index(inside.id) < links.index(elsewhere.id)


def test_the_newest_liked_paper_weighs_most(catalog: Catalog) -> None:
    fitted = Recommender(catalog).fitted(_member(catalog, "barbara")[1])
    by_key = dict(zip(fitted.positive_keys, fitted.recency.tolist(), strict=True))
    newest, middle, oldest = (catalog.store.papers.get(f"2101.{i:05d}") for i in range(3))
    assert newest is not None and middle is not None and oldest is not None
    assert by_key[newest.key] == 1.0 > by_key[middle.key] > by_key[oldest.key]
    assert by_key[oldest.key] >= words.RECENCY_FLOOR


def test_each_candidates_crowding_comes_from_the_index_and_moves_its_score(
        catalog: Catalog) -> None:
    """A candidate's crowding is the mean cosine of its CROWDING_K nearest other papers in
    the vector index (as an exact search over every indexed paper finds them in this small
    index), and the member's scores count it: the same scores with every candidate equally
    crowded differ."""
    _, user_id = _member(catalog, "edith")
    recommender = Recommender(catalog)
    fitted = recommender.fitted(user_id)
    keys = recommender._candidates("day", fitted.model, 30)
    parts = recommender.candidate_parts(keys, shared=False)
    indexed = recommender.vectors(catalog.indexes.semantic.index.dense.keys().tolist())
    every = list(indexed)
    matrix = _matrix(indexed, every)
    for key, crowding in zip(keys, parts.crowding, strict=True):
        sims = matrix @ indexed[key]
        sims[every.index(key)] = -np.inf  # not its own neighbour
        nearest = np.sort(sims)[::-1][:recommend.CROWDING_K]
        assert crowding == pytest.approx(nearest.mean(), abs=1e-2)
    assert np.ptp(parts.crowding) > 0.05
    vectors = _matrix(recommender.vectors(keys), keys)
    scores = recommender.scores(fitted, vectors, parts)
    flat = dataclasses.replace(parts, crowding=np.zeros(len(keys)))
    assert not np.allclose(scores, recommender.scores(fitted, vectors, flat), atol=1e-3)

"""A member's model learns their topic from a few ratings on real arXiv papers, asks about
the papers it is unsure of, explains itself, and copes with any shape of profile.

Corpus: the first 3,000 papers of the shared cs snapshot; a "topic" is a primary category
(cs.CG, 81 papers there: 2.7 % of them), embedded by the default static model."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from paperfeed.discover import recommend
from paperfeed.index.embed import paper_text
from paperfeed.index.embedders import load_embedder
from paperfeed.index.fulltext import term_counts
from paperfeed.models import Paper
from paperfeed.settings import Settings
from paperfeed.sources.arxiv_jsonl import read_arxiv_jsonl

TOPIC = "cs.CG"


@dataclass
class Corpus:
    papers: list[Paper]
    vectors: np.ndarray  # the static tier's vectors, as the app's dense matrix holds them
    topic: list[int]  # indexes of the computational-geometry papers

    def others(self, exclude: list[int]) -> list[int]:
        return [i for i in range(len(self.papers)) if i not in exclude]


@pytest.fixture(scope="module")
def corpus(shared: Path) -> Corpus:
    records = itertools.islice(read_arxiv_jsonl(shared / "data/arxiv/cs.jsonl.xz"), 3000)
    papers = [p for p in records if isinstance(p, Paper)]
    model = load_embedder(Settings().embedder)
    vectors = model.encode([paper_text(p.title, p.abstract) for p in papers])
    topic = [i for i, p in enumerate(papers) if p.categories and p.categories[0] == TOPIC]
    assert len(topic) >= 40
    return Corpus(papers, vectors, topic)


def _rank(model: recommend.MemberModel, corpus: Corpus, candidates: list[int]) -> list[int]:
    scores = model.score(corpus.vectors[candidates])
    return [candidates[i] for i in np.argsort(-scores, kind="stable")]


def _background(corpus: Corpus, exclude: list[int], n: int = 200) -> np.ndarray:
    """Random papers, as the app samples them (the topic's papers included)."""
    rng = np.random.default_rng(0)
    return corpus.vectors[rng.choice(corpus.others(exclude), size=n, replace=False)]


def test_a_member_who_liked_one_topic_gets_its_unseen_papers_first(corpus: Corpus) -> None:
    liked = corpus.topic[:10]
    unseen = corpus.topic[10:]
    disliked = corpus.others(corpus.topic)[::300][:10]
    model = recommend.fit(corpus.vectors[liked], corpus.vectors[disliked],
                          _background(corpus, liked + disliked))
    candidates = corpus.others(liked + disliked)
    top = _rank(model, corpus, candidates)[:10]
    found = sum(i in unseen for i in top)
    base_rate = len(unseen) / len(candidates)
    assert found >= 6 and found / 10 >= 3 * base_rate, [corpus.papers[i].title for i in top]


def test_a_dislike_pushes_its_topic_down(corpus: Corpus) -> None:
    disliked = corpus.topic[:10]
    model = recommend.fit(np.zeros((0, corpus.vectors.shape[1])), corpus.vectors[disliked],
                          _background(corpus, disliked))
    ranked = _rank(model, corpus, corpus.others(disliked))
    position = {paper: rank / len(ranked) for rank, paper in enumerate(ranked)}
    assert np.median([position[i] for i in corpus.topic[10:]]) > 0.75


def test_uncertain_asks_about_borderline_papers_not_the_obvious_ones(corpus: Corpus) -> None:
    liked = corpus.topic[:10]
    model = recommend.fit(corpus.vectors[liked], np.zeros((0, corpus.vectors.shape[1])),
                          _background(corpus, liked))
    candidates = corpus.others(liked)
    scores = model.score(corpus.vectors[candidates])
    asked = model.uncertain(corpus.vectors[candidates], 5)
    assert len(set(asked.tolist())) == 5
    margins = np.abs(scores)
    assert margins[asked].max() <= np.delete(margins, asked).min()
    assert int(np.argmax(scores)) not in asked and int(np.argmin(scores)) not in asked
    assert list(margins[asked]) == sorted(margins[asked])
    assert len(model.uncertain(corpus.vectors[candidates[:2]], 5)) == 2


def test_profiles_of_every_shape_fit(corpus: Corpus) -> None:
    dim = corpus.vectors.shape[1]
    nothing = np.zeros((0, dim), dtype=np.float32)
    empty = recommend.fit(nothing, nothing, corpus.vectors[:10])
    assert empty.empty and not empty.score(corpus.vectors).any()
    assert empty.explain(corpus.vectors[0]) == []
    one = recommend.fit(corpus.vectors[corpus.topic[:1]], nothing)  # no background at all
    assert not one.empty
    ranked = _rank(one, corpus, corpus.others(corpus.topic[:1]))
    assert sum(i in corpus.topic for i in ranked[:10]) >= 2
    assert np.isfinite(recommend.fit(corpus.vectors[:1], nothing, nothing).score(
        corpus.vectors)).all()


def test_many_members_score_in_one_product_as_each_alone(corpus: Corpus) -> None:
    rng = np.random.default_rng(1)
    models = [recommend.fit(corpus.vectors[rng.choice(len(corpus.papers), n, replace=False)],
                            corpus.vectors[rng.choice(len(corpus.papers), 2, replace=False)],
                            corpus.vectors[:20]) for n in (4, 40, 0, 1, 25)]
    weights, biases = recommend.stack(models)
    together = recommend.score_many(weights, biases, corpus.vectors)
    for row, model in zip(together, models, strict=True):
        np.testing.assert_allclose(row, model.score(corpus.vectors), rtol=1e-4, atol=1e-4)
    categories = [p.categories[0] for p in corpus.papers]
    taste = np.stack([recommend.category_affinity(categories, categories[i:i + 10])
                      for i in range(0, 50, 10)])
    ranked = recommend.rank_many(models, corpus.vectors, category=taste)
    for row, model, mine in zip(ranked, models, taste, strict=True):
        np.testing.assert_allclose(row, model.rank(corpus.vectors, category=mine), rtol=1e-3,
                                   atol=1e-3)
    top = recommend.top_per_member(together, 3)
    for row, best in zip(together, top, strict=True):
        assert list(best) == list(np.argsort(-row, kind="stable")[:3])


def test_a_recommendation_is_explained_by_the_rated_papers_nearest_it(corpus: Corpus) -> None:
    liked = corpus.topic[:3] + corpus.others(corpus.topic)[::500][:3]
    model = recommend.fit(corpus.vectors[liked], np.zeros((0, corpus.vectors.shape[1])),
                          corpus.vectors[-20:])
    unseen = corpus.topic[3]
    why = model.explain(corpus.vectors[unseen], k=2)
    assert len(why) == 2 and liked[why[0][0]] in corpus.topic
    assert why[0][1] >= why[1][1]
    rated = [list(term_counts(paper_text(corpus.papers[liked[i]].title,
                                                   corpus.papers[liked[i]].abstract)))
             for i, _ in why]
    mine = term_counts(paper_text(corpus.papers[unseen].title, corpus.papers[unseen].abstract))
    df: dict[str, int] = {}
    for p in corpus.papers:
        for t in term_counts(paper_text(p.title, p.abstract)):
            df[t] = df.get(t, 0) + 1
    idf = {t: float(np.log(len(corpus.papers) / n)) for t, n in df.items()}
    terms = recommend.shared_terms(mine, rated, idf)
    assert terms and all(t in mine and any(t in r for r in rated) for t in terms)


def test_rank_lifts_the_kin_of_a_single_liked_paper_the_average_misses(corpus: Corpus) -> None:
    """29 liked geometry papers and one paper of another field (30 ratings: `rank` trusts
    the closest liked paper fully from there): the logit follows the majority; `rank` also
    follows the closest liked paper, so that paper's nearest neighbours come up too."""
    odd = next(i for i, p in enumerate(corpus.papers) if p.categories[0] == "cs.CR")
    liked = corpus.topic[:29] + [odd]
    model = recommend.fit(corpus.vectors[liked], np.zeros((0, corpus.vectors.shape[1])),
                          _background(corpus, liked))
    candidates = np.asarray(corpus.others(liked))
    cosine = corpus.vectors[candidates] @ corpus.vectors[odd]
    kin = set(candidates[np.argsort(-cosine)[:20]].tolist())

    def median_rank(scores: np.ndarray) -> float:
        order = candidates[np.argsort(-scores, kind="stable")].tolist()
        return float(np.median([order.index(k) for k in kin]))

    by_logit = median_rank(model.score(corpus.vectors[candidates]))
    by_rank = median_rank(model.rank(corpus.vectors[candidates]))
    assert by_rank < 0.5 * by_logit, (by_logit, by_rank)
    assert median_rank(model.rank(corpus.vectors[candidates], nearest=0.0)) == by_logit


def test_the_category_part_counts_liked_papers_and_lifts_their_category(
        corpus: Corpus) -> None:
    """log(0.5 + liked papers in the candidate's category): 0 liked and unknown categories
    are alike, more liked papers lift more, and in `rank` it moves the liked category up
    (not by itself past the vector half: a weight of 0.15 in 1.15)."""
    taste = recommend.category_affinity(["cs.CG", "cs.LG", None, "cs.CR"],
                                        ["cs.CG", "cs.CG", "cs.LG", None])
    assert taste == pytest.approx(np.log([2.5, 1.5, 0.5, 0.5]))
    liked = corpus.topic[:10]
    model = recommend.fit(corpus.vectors[liked], np.zeros((0, corpus.vectors.shape[1])),
                          _background(corpus, liked))
    candidates = corpus.others(liked)
    categories = [corpus.papers[i].categories[0] for i in candidates]
    plain = model.rank(corpus.vectors[candidates])
    lifted = model.rank(corpus.vectors[candidates], category=recommend.category_affinity(
        categories, [TOPIC] * 10))
    inside = np.asarray([c == TOPIC for c in categories])

    def mean_rank(scores: np.ndarray) -> float:
        return float(np.argsort(np.argsort(-scores))[inside].mean())
    assert mean_rank(lifted) < mean_rank(plain)
    same = recommend.category_affinity(categories, [])  # says nothing: left out
    np.testing.assert_allclose(model.rank(corpus.vectors[candidates], category=same), plain,
                               rtol=1e-5, atol=1e-5)


def test_crowding_is_the_mean_of_the_nearest_papers_cosines() -> None:
    """The first CROWDING_K cosines of a row count; a small index's NaN padding does not; a
    row with no neighbour is 0."""
    k = recommend.CROWDING_K
    rows = np.full((3, k + 2), np.nan)
    rows[0] = [0.8] * k + [0.1, 0.1]  # past the k nearest: not counted
    rows[1, :2] = [0.5, 0.3]
    assert recommend.neighbourhood_crowding(rows) == pytest.approx([0.8, 0.4, 0.0])
    assert recommend.neighbourhood_crowding(np.zeros((2, 0))) == pytest.approx([0.0, 0.0])


def test_of_two_equally_close_candidates_the_uncrowded_one_comes_first() -> None:
    """Two candidates mirrored about the one liked paper score alike without the crowding;
    with it the one in a crowded neighbourhood falls below the other (and a row of crowding
    given to `rank_many` counts for every member as it does in `rank`)."""
    dim = 8
    liked = np.eye(dim)[:1]
    angle = 0.4
    twins = np.stack([np.cos(angle) * np.eye(dim)[0] + s * np.sin(angle) * np.eye(dim)[1]
                      for s in (1, -1)])
    rng = np.random.default_rng(2)
    others = rng.normal(size=(20, dim))
    candidates = np.concatenate([twins, others / np.linalg.norm(others, axis=1,
                                                                 keepdims=True)])
    model = recommend.fit(liked, np.zeros((0, dim)))  # the centroid: no side preferred
    crowded = np.r_[0.9, 0.2, rng.uniform(0.3, 0.6, 20)]
    plain = model.rank(candidates)
    assert plain[0] == pytest.approx(plain[1], abs=1e-5)
    scored = model.rank(candidates, crowding=crowded)
    assert scored[1] > scored[0]
    assert np.argsort(-scored)[0] == 1
    other = recommend.fit(np.eye(dim)[2:3], np.zeros((0, dim)))
    many = recommend.rank_many([model, other], candidates, crowding=crowded)
    np.testing.assert_allclose(many[0], scored, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(many[1], other.rank(candidates, crowding=crowded), rtol=1e-4,
                               atol=1e-4)
    flat = model.rank(candidates, crowding=np.full(len(candidates), 0.5))  # says nothing
    np.testing.assert_allclose(flat, plain, rtol=1e-5, atol=1e-5)

"""The words half's bigrams and ridge (discover/words.py): rows of stems and stem bigrams,
bigram weights from a candidate list, the per-member ridge and its batched form, and the
three-way fusion in `rank` / `rank_many`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from paperfeed.discover import recommend, words

from .test_words import three_members

LIKED = [("Graph neural networks for molecules", "A graph neural network predicts energies."),
         ("Message passing in graph neural models", "Graph neural layers pass messages."),
         ("Scaling graph neural networks", "Sampling makes graph neural training cheap.")]
# The same words, in another order: only the bigram "graph neural" tells them apart.
PAIRED = ("Graph neural methods for sparse data", "We apply graph neural methods to data.")
APART = ("Neural methods for sparse graph data", "We apply neural methods to graph data.")
FILLER = [(f"Topic {w} study {i}", f"On {w} and {w} effects.")
          for w in ("lattice", "plasma", "tensor", "optics", "enzyme", "galaxy", "market")
          for i in range(6)]  # "graph neural" in 4 papers of 47: under MAX_DF


def _rows(papers: list[tuple[str, str]], idf_papers: list[tuple[str, str]],
          bigrams: bool) -> words.WordRows:
    counts = words.terms_of(papers)
    df: dict[str, int] = {}
    for c in words.terms_of(idf_papers):
        for s in c:
            df[s] = df.get(s, 0) + 1
    idf = words.idf_from(df, 10_000)
    if not bigrams:
        return words.weigh(counts, idf)
    grams = [words.bigram_ids(words.paper_bigrams(t, a)) for t, a in idf_papers]
    return words.weigh(counts, idf, [words.bigram_ids(words.paper_bigrams(t, a))
                                     for t, a in papers],
                       words.BigramIdf.of(grams, 10_000))


def test_bigrams_are_adjacent_stems_without_stop_words() -> None:
    grams = words.paper_bigrams("Graph Neural Networks", "of the graph, neural nets!")
    assert grams == {"graph neural": 2, "neural network": 1, "network graph": 1,
                     "neural net": 1}
    assert words.bigram_forms("GNN-based Graph Neural Networks", "")["graph neural"] == \
        "graph neural"
    assert words.bigram_forms("", "") == {} and words.paper_bigrams(None, None) == {}
    for title, abstract in LIKED + [APART, ("The THE a AND", None), ("", "")]:
        assert words.paper_terms_and_bigrams(title, abstract) == (
            words.paper_terms(title, abstract), words.paper_bigrams(title, abstract))


def test_a_shared_bigram_ranks_a_paper_above_one_sharing_the_stems_only() -> None:
    everything = LIKED + [PAIRED, APART] + FILLER
    for bigrams in (False, True):
        liked = _rows(LIKED, everything, bigrams)
        near = words.closest(_rows([PAIRED, APART], everything, bigrams), liked)
        if bigrams:
            assert near[0] > near[1] + 0.01
        else:  # stems alone cannot tell them apart: the test of the bigrams can fail
            assert near[0] == pytest.approx(near[1], abs=1e-6)


def test_bigram_weights_from_a_candidate_list() -> None:
    papers = [words.bigram_ids({f"rare {i}": 1} | ({"graph neural": 1} if i < 200 else {}))
              for i in range(1200)]
    idf = words.BigramIdf.of(papers, 10_000)
    assert idf("graph neural") == 0.0  # in 1 paper of 6: above MAX_DF, dropped
    assert idf("rare 3") == pytest.approx(math.log(10_000 / (1 + 10_000 / 1200)))
    assert idf("never seen") == pytest.approx(math.log(10_000))
    # A short list counts as MIN_BIGRAM_PAPERS: one paper of 20 is not 5 % of the corpus.
    short = words.BigramIdf.of(papers[:20], 10_000)
    assert short("graph neural") == pytest.approx(
        math.log(10_000 / (1 + 20 * 10_000 / words.MIN_BIGRAM_PAPERS)))
    assert words.BigramIdf.of([], 1000)("anything") == pytest.approx(math.log(1000))
    rows = words.weigh([{}], {}, [words.bigram_ids({"rare 3": 2})], idf)
    assert rows.ids.tolist() == [words.stem_id("rare 3")] and rows.weights[0] == 1


def test_rows_of_stems_and_bigrams_keep_their_heaviest_entries() -> None:
    stems = {f"s{i}": 1 for i in range(200)}
    grams = words.bigram_ids({f"s{i} s{i + 1}": 1 for i in range(199)})
    rows = words.weigh([stems], {s: 1.0 for s in stems}, [grams],
                       words.BigramIdf.of([grams], 1000))
    assert len(rows.ids) == words.BIGRAM_TERMS < 399
    assert set(grams[0].tolist()) <= set(rows.ids.tolist())  # the bigrams weigh more here
    assert float(np.sum(rows.weights.astype(float) ** 2)) == pytest.approx(1.0, abs=1e-5)


def _corpus(rng: np.random.Generator) -> tuple[words.WordRows, words.WordRows,
                                               words.WordRows, words.WordRows]:
    """Positives about topic a, negatives about topic b, background mixed; candidates:
    5 of topic a, 5 of topic b."""
    def paper(topic: str) -> dict[str, int]:
        own = {f"{topic}{int(i)}": 1 for i in rng.choice(12, 5, replace=False)}
        return own | {f"w{int(i)}": 1 for i in rng.choice(40, 4, replace=False)}
    pos = [paper("a") for _ in range(8)]
    neg = [paper("b") for _ in range(8)]
    back = [paper("c") for _ in range(30)]
    cand = [paper("a") for _ in range(5)] + [paper("b") for _ in range(5)]
    idf = {s: 1.0 for c in pos + neg + back + cand for s in c}
    return tuple(words.weigh(x, idf) for x in (pos, neg, back, cand))  # type: ignore[return-value]


def test_the_ridge_ranks_like_the_positives_above_like_the_negatives() -> None:
    pos, neg, back, cand = _corpus(np.random.default_rng(1))
    model = words.fit_ridge(pos, neg, back)
    scores = model.score(cand)
    assert scores[:5].min() > scores[5:].max()
    flipped = words.fit_ridge(neg, pos, back).score(cand)
    assert flipped[5:].min() > flipped[:5].max()
    empty = words.fit_ridge(words.WordRows.empty(), neg, back)
    assert empty.score(cand).tolist() == [0.0] * 10


def test_score_many_is_score_per_member(monkeypatch: pytest.MonkeyPatch) -> None:
    pos, neg, back, cand = _corpus(np.random.default_rng(2))
    models = [words.fit_ridge(pos.take(range(i, 8)), neg.take(range(0, 8 - i)), back)
              for i in range(4)] + [words.fit_ridge(words.WordRows.empty(), neg, back)]
    each = np.stack([m.score(cand) for m in models])
    for group in (1, 5, 3000):
        monkeypatch.setattr(words, "GROUP_ROWS", group)
        assert words.score_many(cand, models) == pytest.approx(each, abs=1e-5)


def test_rank_fuses_the_ridge_and_rank_many_agrees() -> None:
    rng = np.random.default_rng(0)
    models, cand = three_members(rng)
    near, ridge = rng.random((3, 20)).astype(np.float32), rng.normal(size=(3, 20))
    ridge[1] = 0.0  # says nothing: left out for that member
    many = recommend.rank_many(models, cand, words=near, ridge=ridge)
    for row, model in enumerate(models):
        one = model.rank(cand, words=near[row], ridge=ridge[row])
        assert many[row] == pytest.approx(one, abs=1e-5)
    assert models[1].rank(cand, words=near[1], ridge=ridge[1]) == pytest.approx(
        models[1].rank(cand, words=near[1], ridge_weight=0), abs=1e-5)
    best = int(np.argmax(ridge[0]))
    without = models[0].rank(cand, words=near[0], ridge_weight=0)
    fused = models[0].rank(cand, words=near[0], ridge=ridge[0])
    assert (fused > fused[best]).sum() <= (without > without[best]).sum()
    assert not np.array_equal(np.argsort(-fused), np.argsort(-without))

"""The words half (discover/words.py): sparse tf-idf rows and their cosines, checked against
a dense computation, and their fusion into `rank` / `rank_many`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from paperfeed.discover import recommend, words


def _random_counts(rng: np.random.Generator, n: int, vocab: int) -> list[dict[str, int]]:
    return [{f"t{int(t)}": int(rng.integers(1, 4)) for t in rng.choice(vocab, rng.integers(0, 12),
                                                                       replace=False)}
            for _ in range(n)]


def _dense(counts: list[dict[str, int]], idf: dict[str, float]) -> np.ndarray:
    stems = sorted(idf)
    out = np.zeros((len(counts), len(stems)))
    for i, paper in enumerate(counts):
        for j, s in enumerate(stems):
            if s in paper and idf[s] > 0:
                out[i, j] = (1 + math.log(paper[s])) * idf[s]
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms > 0, norms, 1)


def test_cosines_match_a_dense_computation() -> None:
    rng = np.random.default_rng(3)
    a, b = _random_counts(rng, 40, 60), _random_counts(rng, 25, 60)
    df: dict[str, int] = {}
    for paper in a + b:
        for s in paper:
            df[s] = df.get(s, 0) + 1
    idf = words.idf_from(df, 100)
    assert any(v == 0 for v in idf.values())  # some stems are too common and dropped
    got = words.cosines(words.weigh(a, idf), words.weigh(b, idf))
    want = _dense(a, idf) @ _dense(b, idf).T
    assert got == pytest.approx(want, abs=1e-5)
    top = np.sort(want, axis=1)[:, -3:].mean(1)
    assert words.closest(words.weigh(a, idf), words.weigh(b, idf), 3) == pytest.approx(top,
                                                                         abs=1e-5)
    rows, dense = words.weigh(b, idf), _dense(b, idf)
    assert words.cosines(rows.take([4, 2]), rows) == pytest.approx((dense @ dense.T)[[4, 2]],
                                                                   abs=1e-5)


def test_rows_keep_their_heaviest_stems() -> None:
    counts = [{f"s{i}": 1 for i in range(10)} | {"rare": 3}]
    idf = {f"s{i}": 1.0 for i in range(10)} | {"rare": 5.0}
    row = words.weigh(counts, idf)
    cut = words.rows(row.indptr, row.ids, np.ones(len(row.ids)), row.weights.astype(float), 1)
    assert cut.ids.tolist() == [words.stem_id("rare")] and cut.weights[0] == pytest.approx(1)


def three_members(rng: np.random.Generator) -> tuple[list[recommend.MemberModel], np.ndarray]:
    """Three members' vector models over 60 random unit vectors, and 20 candidates."""
    vectors = rng.normal(size=(60, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    models = [recommend.fit(vectors[i:i + 40:5], vectors[50:52], vectors[40:50])
              for i in range(3)]
    return models, vectors[20:40]


def test_the_words_half_moves_rank_and_rank_many_agrees() -> None:
    rng = np.random.default_rng(0)
    models, cand = three_members(rng)
    near = rng.random((3, 20)).astype(np.float32)
    near[2] = 0.0  # a member whose liked papers share no stem with any candidate
    many = recommend.rank_many(models, cand, words=near)
    for row, model in enumerate(models):
        one = model.rank(cand, words=near[row])
        assert np.argsort(-many[row]).tolist() == np.argsort(-one).tolist()
    assert np.array_equal(models[2].rank(cand, words=near[2]), models[2].rank(cand))
    best = int(np.argmax(near[0]))
    alone = models[0].rank(cand)
    fused = models[0].rank(cand, words=near[0])
    assert (fused > fused[best]).sum() <= (alone > alone[best]).sum()
    assert not np.array_equal(np.argsort(-fused), np.argsort(-alone))


def test_closest_many_is_closest_per_member_in_any_grouping(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    counts = _random_counts(rng, 80, 40)
    idf = words.idf_from({s: 1 for c in counts for s in c}, 100)
    rows = words.weigh(counts, idf)
    cand = rows.take(range(30))
    liked = [rows.take(range(30 + 5 * i, 30 + 5 * i + n)) for i, n in enumerate([5, 0, 3, 5, 1])]
    for k in (1, 2):
        each = np.stack([words.closest(cand, one, k) for one in liked])
        for group in (1, 4, 100):
            monkeypatch.setattr(words, "GROUP_ROWS", group)
            assert words.closest_many(cand, liked, k) == pytest.approx(each, abs=1e-6)


def test_recent_liked_papers_weigh_more_in_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two liked papers, each the twin of one candidate: unweighted, the candidates tie;
    weighted by `recency` (the first liked paper newest), the newer one's twin wins, in
    `closest` and in `closest_many` alike."""
    counts = [{"zorblax": 2, "fold": 1}, {"quuxin": 2, "fold": 1},  # candidates
              {"quuxin": 2, "fold": 1}, {"zorblax": 2, "fold": 1}]  # liked, newest first
    rows = words.weigh(counts, words.idf_from({"zorblax": 1, "quuxin": 1, "fold": 3}, 100))
    cand, liked = rows.take(range(2)), rows.take(range(2, 4))
    plain = words.closest(cand, liked)
    assert plain[0] == pytest.approx(plain[1])
    weights = words.recency(2)
    assert weights[0] == 1.0 and words.RECENCY_FLOOR < weights[1] < 1.0
    weighted = words.closest(cand, liked, weights=weights)
    assert weighted[1] > weighted[0]  # the twin of the newest liked paper
    for group in (1, 100):
        monkeypatch.setattr(words, "GROUP_ROWS", group)
        many = words.closest_many(cand, [liked, liked.take([1, 0])],
                                  weights=[weights, weights])
        assert many[0] == pytest.approx(weighted, abs=1e-6)
        assert many[1][0] > many[1][1]  # the other member's newest is the other twin
    assert words.recency(100)[-1] == pytest.approx(words.RECENCY_FLOOR, abs=0.02)

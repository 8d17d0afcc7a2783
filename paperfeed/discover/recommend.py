"""A member's recommendation model: a linear scorer over the static tier's paper vectors.

Pure numpy (no store, no web): the caller gathers vectors by paper key from the memory-mapped
matrix (index/dense.py `DenseMatrix.get`, float16 -> float32, L2-normalised rows) and passes
them in. A model is `weights` (dim) and `bias`, so scoring 10,000 members over a day's 2,000
papers is one matrix product (`score_many`), and a rating refits one member in milliseconds.

The fit is L2-regularised logistic regression, as Scholar Inbox's per-user model, with
**background negatives**: random papers (the same sample for everyone) stand in for the
papers a member scrolled past (Scholar Inbox and arxiv-sanity-lite both treat unrated papers
as negatives). On the authors-as-members proxy (bench/recommend.py, docs/recommendations.md)
that took test nDCG@10 from 0.308 to 0.383 (Scholar Inbox's set-up: 0.319, centroid 0.333).
`prior` pulls the weights towards the positives' centroid instead of zero; it helps without
background (0.339 -> 0.360 on dev) and ties with it, so it is off by default.
Fitted by bounded Newton steps (`_logistic`) in milliseconds (bench/recommend.py measures
it), so a rating refits the member's model at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Chosen on the bench's dev members (docs/recommendations.md has every setting tried).
DEFAULT_C = 10.0  # inverse regularisation strength
DEFAULT_BACKGROUND_WEIGHT = 1.0  # total weight of the background relative to the positives
DEFAULT_PRIOR = 0.0  # scale of the centroid the weights are pulled towards
# Weight of the nearest liked paper's cosine in `MemberModel.rank` (dev nDCG@10 0.399 for the
# logistic model alone, 0.459 / 0.486 / 0.475 fused at 0.3 / 0.5 / 0.7).
DEFAULT_NEAREST = 0.5
# The blend `MemberModel.rank` fuses, chosen on the bench's dev members (bench/
# recommend_blend.py): the vector half 0.5; the tf-idf cosine of stems and stem bigrams to the
# closest liked paper (discover/words.py `closest`, newest liked papers weighing most)
# 0.25; a per-member ridge on the stems (`words.fit_ridge`) 0.25; the member's liked papers in
# the candidate's category (`category_affinity`) 0.15; how uncrowded the candidate's
# neighbourhood is (minus `neighbourhood_crowding`) 0.5; as shares of their sum. Test nDCG@10
# 0.555 (0.544 without the crowding; docs/recommendations.md, sixth and seventh rounds).
BLEND = {"vectors": 0.5, "words": 0.25, "ridge": 0.25, "category": 0.15, "crowding": 0.5}
DEFAULT_WORDS = BLEND["words"] / sum(BLEND.values())
DEFAULT_RIDGE = BLEND["ridge"] / sum(BLEND.values())
DEFAULT_CATEGORY = BLEND["category"] / sum(BLEND.values())
DEFAULT_CROWDING = BLEND["crowding"] / sum(BLEND.values())
# A paper's crowding is the mean cosine of its this many nearest papers in the index (the
# k of cross-domain similarity local scaling, CSLS).
CROWDING_K = 10
CATEGORY_PRIOR = 0.5  # liked papers a category counts as holding before any is (a log's floor)
# C grows with the ratings up to DEFAULT_C at this many: a handful of ratings fitted as loosely
# as a hundred overfits (cold start, bench/recommend.py --cold-grid).
DEFAULT_RAMP = 30.0
STEPS = 30
BIAS_SCALE = 100.0  # the bias's column: its penalty is lam / 10^4, nearly free


@dataclass(frozen=True)
class MemberModel:
    """One member's scorer. `positive` keeps the rated papers' vectors for `explain`."""

    weights: np.ndarray  # (dim,) float32
    bias: float
    positive: np.ndarray  # (p, dim) float32, the vectors `fit` got as positives
    rated: int = 0  # how many rated papers it was fitted on

    @property
    def empty(self) -> bool:
        """No signal at all: every score is 0 (the caller shows a default, e.g. trending)."""
        return not np.any(self.weights)

    def score(self, candidates: np.ndarray) -> np.ndarray:
        """Higher is better; a logit (> 0: more likely liked than not)."""
        return np.asarray(candidates, dtype=np.float32) @ self.weights + np.float32(self.bias)

    def rank(self, candidates: np.ndarray, nearest: float = DEFAULT_NEAREST,
             words: np.ndarray | None = None, words_weight: float = DEFAULT_WORDS,
             ridge: np.ndarray | None = None, ridge_weight: float = DEFAULT_RIDGE,
             category: np.ndarray | None = None, category_weight: float = DEFAULT_CATEGORY,
             crowding: np.ndarray | None = None, crowding_weight: float = DEFAULT_CROWDING
             ) -> np.ndarray:
        """Ranking scores over a candidate list (higher is better): the logit and the cosine
        to the closest liked paper, each standardised over the candidates, mixed with weight
        `nearest`. A researcher's next paper often follows one earlier paper rather than
        their average: on the bench this lifts nDCG@10 by a fifth (docs/recommendations.md).
        `words` and `ridge` (per candidate: discover/words.py `closest` and a
        `WordModel.score`) are the words half, `category` the member's taste in arXiv
        categories (`category_affinity`) and `crowding` each candidate's
        (`neighbourhood_crowding`, which counts against it), each mixed in standardised
        with its weight.
        Only the order means something, and only within `candidates`."""
        cand = np.asarray(candidates, dtype=np.float32)
        logit = self.score(cand)
        nearest *= min(1.0, self.rated / DEFAULT_RAMP)  # trusted as C is: with the ratings
        if len(self.positive) and nearest > 0 and len(cand) >= 2:
            closest = (cand @ self.positive.T).max(axis=1)
            logit = (1 - nearest) * _standard(logit) + nearest * _standard(closest)
        return _with_parts(logit[None], [(words, words_weight), (ridge, ridge_weight),
                                         (category, category_weight),
                                         (_against(crowding), crowding_weight)])[0]

    def uncertain(self, candidates: np.ndarray, k: int) -> np.ndarray:
        """Indices of the `k` candidates the model is least sure of (logit nearest 0),
        nearest first: what to ask the member to rate next (uncertainty sampling)."""
        margin = np.abs(self.score(candidates))
        k = min(k, len(margin))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        part = np.argpartition(margin, k - 1)[:k]
        return part[np.argsort(margin[part], kind="stable")]

    def explain(self, candidate: np.ndarray, k: int = 3) -> list[tuple[int, float]]:
        """The rated (positive) papers a recommended paper is closest to: (index into
        `positive`, cosine), closest first."""
        if not len(self.positive):
            return []
        sims = self.positive @ np.asarray(candidate, dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(int(i), float(sims[i])) for i in order]


def fit(positive: np.ndarray, negative: np.ndarray, background: np.ndarray | None = None, *,
        c: float = DEFAULT_C, background_weight: float = DEFAULT_BACKGROUND_WEIGHT,
        prior: float = DEFAULT_PRIOR, ramp: float = DEFAULT_RAMP) -> MemberModel:
    """A member's model from the vectors of papers they liked (`positive`) and disliked
    (`negative`), with `background` (random papers) as weak implicit negatives.

    Handles every shape of profile: nothing at all gives an empty model; positives only
    learn against the background (or, without one, are the centroid); negatives only score
    papers by how far they are from them."""
    dim = _dim(positive, negative, background)
    pos, neg, back = (_rows(a, dim) for a in (positive, negative, background))
    if not len(pos) and not len(neg):
        return MemberModel(np.zeros(dim, np.float32), 0.0, pos.reshape(0, dim))
    centre = _centroid(pos) - (0.5 * _centroid(neg) if len(neg) else 0)
    if not len(neg) and not len(back):
        return MemberModel(centre.astype(np.float32), 0.0, pos, len(pos))
    if background_weight <= 0:
        back = back[:0]
    x = np.concatenate([pos, neg, back]).astype(np.float64)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(neg) + len(back))])
    sample = np.concatenate([np.ones(len(pos) + len(neg)),
                             np.full(len(back), background_weight * max(len(pos), 1)
                                     / max(len(back), 1))])
    rated = len(pos) + len(neg)
    if ramp > 0:
        c *= min(1.0, rated / ramp)
    w, b = _logistic(x, y, sample, 1.0 / c, prior * centre)
    return MemberModel(w.astype(np.float32), float(b), pos, rated)


def _standard(scores: np.ndarray) -> np.ndarray:
    """Standardised over the last axis (each row of a members x candidates matrix)."""
    mean = scores.mean(axis=-1, keepdims=True)
    return (scores - mean) / (scores.std(axis=-1, keepdims=True) + 1e-9)


def _with_parts(scores: np.ndarray, parts: Sequence[tuple[np.ndarray | None, float]]
                ) -> np.ndarray:
    """Rows of the vector half's scores (members x candidates) fused with the other
    `parts` (the words half, the category; each members x candidates or one row, and its
    weight), all standardised: the vector half weighs what the parts leave. A part is left
    out of the rows where it says nothing (no liked paper shares a weighted term with any
    candidate; every candidate in one category), as if absent, and a row no part says
    anything in is unchanged."""
    out = np.array(scores, dtype=np.float32, ndmin=2)
    if out.shape[1] < 2:
        return out
    given = [(np.broadcast_to(np.asarray(p, np.float32).reshape(-1, out.shape[1]), out.shape),
              w) for p, w in parts if p is not None and w > 0]
    if not given:
        return out
    fused = np.zeros_like(out)
    rest = np.ones(len(out), np.float32)  # the vector half's weight, per row
    for part, weight in given:
        says = np.ptp(part, axis=1) > 0
        fused[says] += weight * _standard(part[says])
        rest[says] -= weight
    said = rest < 1
    out[said] = fused[said] + rest[said, None] * _standard(out[said])
    return out


def _against(part: np.ndarray | None) -> np.ndarray | None:
    """A part that counts against a candidate, as one that counts for it."""
    return None if part is None else -np.asarray(part, np.float32)


def neighbourhood_crowding(neighbour_cosines: np.ndarray) -> np.ndarray:
    """Per candidate (a row of the cosines of its nearest other papers in the index, nearest
    first), the mean of its first CROWDING_K: how crowded its neighbourhood is.

    Every closeness part favours papers in crowded topics: such a paper is close to many
    papers, so to some liked one, whoever the member is (hubness). Counting the crowding
    against it is the local scaling of CSLS (Conneau et al. 2018, "Word translation without
    parallel data"). Alone it ranks at chance on the bench (the member's own papers are no
    less crowded than others); in the blend it lifts test nDCG@10 0.544 -> 0.555
    (docs/recommendations.md, seventh round). Rows with fewer neighbours (a small index) use
    what they have; a row with none is 0."""
    near = np.asarray(neighbour_cosines, np.float64)[:, :CROWDING_K]
    held = np.isfinite(near)
    count = held.sum(axis=1)
    return np.divide(np.where(held, near, 0.0).sum(axis=1), count, out=np.zeros(len(near)),
                     where=count > 0)


def _dim(*arrays: np.ndarray | None) -> int:
    """The vectors' dimension: from a non-empty array, else from any 2-d one's shape."""
    shaped = [np.shape(a) for a in arrays if a is not None and np.ndim(a) == 2]
    sizes = [s[1] for s in shaped if s[0]] or [s[1] for s in shaped]
    return sizes[0] if sizes else 0


def _rows(a: np.ndarray | None, dim: int) -> np.ndarray:
    if a is None or not np.size(a):
        return np.zeros((0, dim), np.float32)
    return np.asarray(a, dtype=np.float32).reshape(-1, dim)


def _centroid(rows: np.ndarray) -> np.ndarray:
    if not len(rows):
        return np.zeros(rows.shape[1], np.float64)
    mean = rows.astype(np.float64).mean(0)
    norm = np.linalg.norm(mean)
    return mean / norm if norm > 0 else mean


def _logistic(x: np.ndarray, y: np.ndarray, sample: np.ndarray, lam: float,
              mean: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted logistic regression, penalty lam/2 * |w - mean|^2, from w = mean.

    Böhning's bound: the logistic Hessian is below B = lam I + X'DX with D = sample / 4, so
    one inverse of that fixed matrix serves every step (monotone, no line search; a Newton
    step would rebuild and solve the Hessian each time). With fewer rated papers than
    dimensions B is inverted through the n x n matrix of Woodbury's identity instead of the
    (dim + 1)^2 one: a member with 30 ratings fits in ~1 ms instead of ~20. The bias is a
    constant column of `BIAS_SCALE`, so its penalty is lam / BIAS_SCALE^2 (almost free)."""
    n, dim = x.shape
    xa = np.hstack([x, np.full((n, 1), BIAS_SCALE)])
    target = np.append(mean, 0.0)
    d = 0.25 * sample
    if n < dim + 1:  # Woodbury: B^-1 g = (g - X' (lam D^-1 + X X')^-1 X g) / lam
        inner = np.linalg.inv(np.diag(lam / d) + xa @ xa.T)

        def solve(g: np.ndarray) -> np.ndarray:
            return (g - xa.T @ (inner @ (xa @ g))) / lam
    else:
        bound = (xa * d[:, None]).T @ xa
        bound[np.diag_indices_from(bound)] += lam
        inverse = np.linalg.inv(bound)

        def solve(g: np.ndarray) -> np.ndarray:
            return inverse @ g
    theta = target.copy()
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(xa @ theta, -30, 30)))
        step = solve(xa.T @ (sample * (p - y)) + lam * (theta - target))
        theta -= step
        if np.max(np.abs(step)) < 1e-4:
            break
    return theta[:-1], float(theta[-1] * BIAS_SCALE)


def stack(models: Sequence[MemberModel]) -> tuple[np.ndarray, np.ndarray]:
    """Members' weights (m x dim) and biases (m), for `score_many`."""
    if not models:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.float32)
    return (np.stack([m.weights for m in models]).astype(np.float32),
            np.asarray([m.bias for m in models], dtype=np.float32))


def score_many(weights: np.ndarray, biases: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Scores (members x candidates) in one matrix product: 10,000 members x 2,000 papers
    x 384 dims is ~8 GFLOP (bench/recommend.py times it)."""
    out = np.asarray(weights, np.float32) @ np.asarray(candidates, np.float32).T
    out += np.asarray(biases, np.float32)[:, None]
    return out


def rank_many(models: Sequence[MemberModel], candidates: np.ndarray,
              nearest: float = DEFAULT_NEAREST, words: np.ndarray | None = None,
              words_weight: float = DEFAULT_WORDS, ridge: np.ndarray | None = None,
              ridge_weight: float = DEFAULT_RIDGE, category: np.ndarray | None = None,
              category_weight: float = DEFAULT_CATEGORY, crowding: np.ndarray | None = None,
              crowding_weight: float = DEFAULT_CROWDING) -> np.ndarray:
    """`MemberModel.rank` for many members (members x candidates) in two matrix products:
    the logits (`score_many`) and the candidates' cosines to every member's liked papers at
    once, reduced to each member's closest (a digest run; bench/recommend.py times it).
    `words` and `ridge` (members x candidates, discover/words.py `closest_many` and
    `score_many`) are the words half, `category` each member's `category_affinity` and
    `crowding` the candidates' (one row, the same for every member). Memory is candidates x
    all liked papers: call it on blocks of ~1,000 members."""
    cand = np.asarray(candidates, dtype=np.float32)
    out = score_many(*stack(models), cand) if models else np.zeros((0, len(cand)), np.float32)
    trusted = [(row, nearest * min(1.0, m.rated / DEFAULT_RAMP)) for row, m in enumerate(models)
               if len(m.positive) and nearest > 0]
    trusted = [(row, weight) for row, weight in trusted if weight > 0]
    if trusted and len(cand) >= 2:
        liked = np.concatenate([models[row].positive for row, _ in trusted]).astype(np.float32)
        starts = np.cumsum([0] + [len(models[row].positive) for row, _ in trusted[:-1]])
        closest = np.maximum.reduceat(cand @ liked.T, starts, axis=1).T  # (trusted x cands)
        rows = np.asarray([row for row, _ in trusted])
        weight = np.asarray([w for _, w in trusted], np.float32)[:, None]
        out[rows] = (1 - weight) * _standard(out[rows]) + weight * _standard(closest)
    return _with_parts(out, [(words, words_weight), (ridge, ridge_weight),
                             (category, category_weight), (_against(crowding), crowding_weight)])


def category_affinity(candidates: Sequence[str | None], liked: Iterable[str | None]
                      ) -> np.ndarray:
    """Per candidate, log(CATEGORY_PRIOR + how many liked papers share its primary arXiv
    category): readers follow categories, and a member's next paper is more often in one
    they already like (bench: +0.013 nDCG@10 on test, docs/recommendations.md). The
    logarithm makes the third liked paper of a category count less than the first."""
    counts = Counter(c for c in liked if c)
    held = np.fromiter((counts.get(c, 0) if c else 0 for c in candidates), np.float64,
                       count=len(candidates))
    return np.log(CATEGORY_PRIOR + held)


def top_per_member(scores: np.ndarray, k: int) -> np.ndarray:
    """The `k` best candidate indices per member (rows of `score_many`), best first."""
    k = min(k, scores.shape[1])
    if k <= 0:
        return np.zeros((len(scores), 0), dtype=np.int64)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def shared_terms(candidate: Iterable[str], rated: Iterable[Iterable[str]],
                 weights: dict[str, float] | None = None, k: int = 5) -> list[str]:
    """Key terms a recommended paper shares with the rated papers it is closest to (stems or
    words, e.g. from index/fulltext.py `term_counts`), rarest first when `weights` gives
    each term an idf; terms in more of the rated papers come first on ties."""
    mine = list(dict.fromkeys(candidate))
    counts: dict[str, int] = {}
    for terms in rated:
        for t in set(terms):
            counts[t] = counts.get(t, 0) + 1
    common = [t for t in mine if t in counts]
    idf = weights or {}
    common.sort(key=lambda t: (-idf.get(t, 0.0), -counts[t], mine.index(t)))
    return common[:k]

"""The For-you model's words half (discover/words.py) on bench/recommend.py's proxy: which
words model, fused how with the shipped vector ranking? Every candidate on the dev members,
then the same candidates on the test members (the shipped one was chosen on dev).

    python bench/recommend_words.py [--only SUBSTRING] [same data options as recommend.py]

Candidates: the app's stems as tf-idf rows, closest liked paper (mean of the k closest),
alone and fused with `MemberModel.rank` at several weights; a per-member least-squares
classifier on the rows (`words.fit_ridge`, dual form) alone and in three-way fusions. The
rows are what the app computes: the keyword index's stems, idf from the papers before the
cutoff (what the keyword index held then), heaviest 64 stems a paper.
Writes bench/results/recommend-words.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from harness.report import log, print_table, write_json
from recommend import (
    Features,
    Method,
    Scorer,
    _z,
    cached,
    common_arguments,
    evaluate,
    paperfeed,
    setup,
)

from paperfeed.discover import recommend
from paperfeed.discover.words import closest, fit_ridge


def candidates(f: Features, background: np.ndarray) -> dict[str, Method]:
    def app(**kw: float) -> Method:
        return paperfeed(f, background, c=recommend.DEFAULT_C, prior=recommend.DEFAULT_PRIOR,
                         background_weight=recommend.DEFAULT_BACKGROUND_WEIGHT, **kw)

    def words_alone(k: int) -> Method:
        def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
            liked = f.words(pos)
            return lambda cand: closest(f.words(cand), liked, k)
        return method

    back = f.words(background)
    vectors = cached(app(words_weight=0.0))

    def ridge(lam: float, weights: tuple[float, float, float]) -> Method:
        """Vector rank, ridge on words, closest word rows (k=1): z-scores mixed by
        `weights`."""
        def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
            model = fit_ridge(f.words(pos), f.words(neg), back, lam)
            liked, rank = f.words(pos), vectors(pos, neg)

            def score(cand: np.ndarray) -> np.ndarray:
                rows = f.words(cand)
                parts = (rank(cand), model.score(rows), closest(rows, liked, 1))
                return sum(w * _z(p) for w, p in zip(weights, parts, strict=True) if w)
            return score
        return method

    return {
        "shipped (vectors only)": vectors,
        "words alone, closest k=1": words_alone(1),
        "words alone, closest k=3": words_alone(3),
        **{f"shipped + words k=3, {w}": app(words_weight=w, closest_k=3)
           for w in (0.3, 0.5, 0.6, 0.7)},
        "shipped + words k=1, 0.5": app(words_weight=0.5, closest_k=1),
        "shipped + words k=5, 0.5": app(words_weight=0.5, closest_k=5),
        "shipped + words k=3 all stems, 0.5": app(words_weight=0.5, closest_k=3,
                                                  max_terms=100_000),
        "logistic only + words k=3, 0.5": app(nearest=0.0, words_weight=0.5, closest_k=3),
        **{f"ridge words lam={lam}": ridge(lam, (0, 1, 0)) for lam in (0.3, 1.0, 3.0)},
        **{f"shipped + ridge(1) + closest k=1, {w}": ridge(1.0, w)
           for w in ((0.5, 0.5, 0.0), (0.4, 0.3, 0.3), (0.5, 0.25, 0.25), (0.34, 0.33, 0.33))},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(ap)
    ap.add_argument("--only", default="", help="only the candidates whose label holds this")
    args = ap.parse_args()
    _, proxy, _, f = setup(args)
    grid = {k: m for k, m in candidates(f, proxy.background).items() if args.only in k}
    out: dict[str, list[dict[str, Any]]] = {"dev": [], "test": []}
    for split, who in (("dev", proxy.dev[:args.tune_members]), ("test", proxy.test)):
        for label, method in grid.items():
            log(f"words {split}: {label}")
            out[split].append({"method": label, **evaluate(method, who, proxy)})
        print_table(f"Words half, {split} members", out[split])
    write_json("recommend-words", out)


if __name__ == "__main__":
    main()

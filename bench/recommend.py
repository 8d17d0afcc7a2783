"""Per-member recommendations on the 588k arXiv papers: which model ranks a member's week?

    python bench/recommend.py [--members 600] [--cutoff 2019-10-07] [--weeks 12] [--embedder N]
Proxy (harness/ratings.py): authors are members, their papers before the cutoff their
"more like this" ratings, random papers of their categories their "less like this"; each
week after the cutoff, all its papers are ranked, relevance = the member's own papers that
week (second view: theirs or their co-authors'). Dev members tune, test members report.
Methods: centroid cosine; Scholar Inbox (per-member logistic regression on embeddings,
sklearn, class-balanced); arxiv-sanity-lite (per-member LinearSVC on its own tf-idf set-up:
words and bigrams, 20k features, sublinear tf, no author names; positives against the
negatives and random background papers); paperfeed (discover/recommend.py, settings chosen
on dev; the third round's words half: what ships now is in recommend_blend.py) and fusions.
Cold start: nDCG@10 after 3 seed positives, then 10 and 30 ratings asked at random or by
uncertainty sampling. Speed: a member's fit; 10,000 members x a week's papers ranked (the
words half by numpy and by scipy in one run). Writes bench/results/recommend.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from harness import vectorcache, words_numpy
from harness.ratings import Member, Proxy, build, load_days, ranking_metrics
from harness.report import log, print_table, write_json
from harness.similar import load_papers
from harness.stems import Stems

from paperfeed.discover import recommend
from paperfeed.discover.foryou import BLAS
from paperfeed.discover.words import CLOSEST, MAX_TERMS, WordRows, closest, closest_many
from paperfeed.settings import Settings

Scorer = Callable[[np.ndarray], np.ndarray]  # candidate paper indexes -> scores
Method = Callable[[np.ndarray, np.ndarray], Scorer]  # (positive, negative) indexes -> scorer
Ranker = Callable[[recommend.MemberModel, np.ndarray, np.ndarray], Scorer]  # model, pos, neg


class Features:
    """Paper vectors (L2-normalised float32) and arxiv-sanity-lite's tf-idf rows, by index."""

    def __init__(self, vectors: np.ndarray, texts: Callable[[int], str],
                 stems: Stems | None = None):
        self.vectors = vectors
        self.text = texts
        self.stems = stems  # the app's words half (discover/words.py), if asked for
        self._weeks: dict[bytes, np.ndarray] = {}
        self._word_weeks: dict[tuple[bytes, int], WordRows] = {}

    def words(self, idx: np.ndarray, max_terms: int = MAX_TERMS) -> WordRows:
        assert self.stems is not None
        if len(idx) < 1000:
            return self.stems.rows(idx, max_terms)
        key = (np.asarray(idx).tobytes(), max_terms)
        if key not in self._word_weeks:
            self._word_weeks[key] = self.stems.rows(idx, max_terms)
        return self._word_weeks[key]

    def prepare(self, fit_on: np.ndarray, idx: np.ndarray) -> None:
        """The tf-idf vocabulary from `fit_on`, then the rows of every paper a run asks for
        (`idx`) in one transform."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.tfidf = TfidfVectorizer(strip_accents="unicode", lowercase=True, analyzer="word",
                                     stop_words="english", ngram_range=(1, 2),
                                     token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
                                     max_features=20000, norm="l2", use_idf=True,
                                     smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5)
        log(f"tf-idf vocabulary from {len(fit_on)} papers")
        self.tfidf.fit([self.text(int(i)) for i in fit_on])
        idx = np.unique(idx)
        log(f"tf-idf rows of {len(idx)} papers")
        self._rows = self.tfidf.transform([self.text(int(i)) for i in idx]).tocsr()
        self._row_of = np.full(len(self.vectors), -1, dtype=np.int64)
        self._row_of[idx] = np.arange(len(idx))

    def dense(self, idx: np.ndarray) -> np.ndarray:
        if len(idx) >= 1000:  # a week's candidates: gathered once, asked for by every member
            key = np.asarray(idx).tobytes()
            if key not in self._weeks:
                self._weeks[key] = self._gather(idx)
            return self._weeks[key]
        return self._gather(idx)

    def _gather(self, idx: np.ndarray) -> np.ndarray:
        v = np.asarray(self.vectors[np.asarray(idx, dtype=np.int64)], dtype=np.float32)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)

    def sparse(self, idx: np.ndarray) -> Any:
        return self._rows[self._row_of[np.asarray(idx, dtype=np.int64)]]


def centroid(f: Features) -> Method:
    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        c = f.dense(pos).mean(0)
        return lambda cand: f.dense(cand) @ c
    return method


def scholar_inbox(f: Features, c: float) -> Method:
    from sklearn.linear_model import LogisticRegression

    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        x = f.dense(np.concatenate([pos, neg]))
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(x, y)
        return lambda cand: clf.decision_function(f.dense(cand))
    return method


def arxiv_sanity(f: Features, c: float, background: np.ndarray) -> Method:
    from sklearn.svm import LinearSVC

    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        others = np.concatenate([neg, background[~np.isin(background, pos)]])
        x = f.sparse(np.concatenate([pos, others]))
        y = np.r_[np.ones(len(pos)), np.zeros(len(others))]
        clf = LinearSVC(class_weight="balanced", C=c, max_iter=10000, tol=1e-6).fit(x, y)
        return lambda cand: clf.decision_function(f.sparse(cand))
    return method


def paperfeed(f: Features, background: np.ndarray, nearest: float = recommend.DEFAULT_NEAREST,
              words_weight: float = 0.5, closest_k: int = CLOSEST,
              max_terms: int = MAX_TERMS, **settings: float) -> Method:
    """The third round's app: `fit` on the vectors, `rank` with stems as the words half when
    `f` has them and `words_weight` > 0 (now: + bigrams and a ridge, recommend_blend.py)."""
    back = f.dense(background)
    with_words = f.stems is not None and words_weight > 0

    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        model = recommend.fit(f.dense(pos), f.dense(neg), back, **settings)
        liked = f.words(pos, max_terms) if with_words else None

        def score(cand: np.ndarray) -> np.ndarray:
            near = (closest(f.words(cand, max_terms), liked, closest_k)
                    if liked is not None else None)
            return model.rank(f.dense(cand), nearest, near, words_weight)
        return score
    return method


def closest_liked(f: Features, k: int, words: bool) -> Method:
    """Mean cosine to the `k` most similar liked papers (tf-idf rows or vectors): an author's
    next paper often follows one earlier paper rather than their average."""
    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        liked = f.sparse(pos) if words else f.dense(pos)

        def score(cand: np.ndarray) -> np.ndarray:
            sims = (f.sparse(cand) @ liked.T).toarray() if words else f.dense(cand) @ liked.T
            top = min(k, sims.shape[1])
            return np.sort(sims, axis=1)[:, -top:].mean(1)
        return score
    return method


def cached(method: Method) -> Method:
    """The same scorer for the same member's ratings: the fusions reuse the fitted SVMs."""
    done: dict[tuple[bytes, bytes], Scorer] = {}

    def again(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        key = (pos.tobytes(), neg.tobytes())
        if key not in done:
            done[key] = method(pos, neg)
        return done[key]
    return again


def fused(a: Method, b: Method, weight: float) -> Method:
    """(1 - weight) * z(a) + weight * z(b), scores standardised over the candidates."""
    def method(pos: np.ndarray, neg: np.ndarray) -> Scorer:
        sa, sb = a(pos, neg), b(pos, neg)
        return lambda cand: (1 - weight) * _z(sa(cand)) + weight * _z(sb(cand))
    return method


def _z(s: np.ndarray) -> np.ndarray:
    return (s - s.mean()) / (s.std() + 1e-9)


def evaluate(method: Method, members: list[Member], proxy: Proxy) -> dict[str, float]:
    """Mean metrics over (member, week) pairs with relevant papers, both views."""
    rows: dict[str, list[float]] = {k: [] for k in ("ndcg", "recall50", "auc", "co_ndcg",
                                                    "co_recall50", "co_auc")}
    for m in members:
        scorer = method(m.positive, m.negative)
        for week, co in m.later_coauthor.items():
            cand = proxy.weeks[week]
            s = scorer(cand)
            for prefix, rel in (("", m.later.get(week)), ("co_", co)):
                if rel:
                    for key, v in zip(("ndcg", "recall50", "auc"),
                                      ranking_metrics(s, cand, rel), strict=True):
                        rows[prefix + key].append(v)
    out = {k: round(float(np.mean(v)), 4) for k, v in rows.items()}
    out["ndcg_se"] = round(float(np.std(rows["ndcg"]) / np.sqrt(len(rows["ndcg"]))), 4)
    out["pairs"] = len(rows["ndcg"])
    return out


def cold_start(f: Features, proxy: Proxy, background: np.ndarray, settings: dict[str, float],
               members: list[Member], budgets: tuple[int, ...] = (3, 10, 30), seed: int = 0,
               ways: tuple[str, ...] = ("random", "uncertainty"), words: bool = True,
               ranker: Ranker | None = None) -> list[dict[str, Any]]:
    """nDCG@10 (own view) after each budget of ratings: 3 seed positives, then papers from
    the member's pool (their other positives, negatives, unrated papers of their categories)
    asked at random or least-sure first (`MemberModel.uncertain`); ranked by `rank` with the
    third round's words half (unless `words` is False) or by `ranker` (recommend_blend.py)."""
    back = f.dense(background)
    rows = []
    for how in ways:
        scores: dict[int, list[float]] = {b: [] for b in budgets}
        for number, m in enumerate(members):
            rng = np.random.default_rng([seed, number])  # the same seeds for both ways
            pool = np.concatenate([m.positive, m.negative, m.pool])
            liked = set(m.positive.tolist())
            asked = list(rng.choice(m.positive, size=3, replace=False))
            for budget in budgets:
                while len(asked) < budget:
                    pos = np.asarray([i for i in asked if i in liked])
                    neg = np.asarray([i for i in asked if i not in liked])
                    left = pool[~np.isin(pool, asked)]
                    n = min(budget - len(asked), 10)
                    if how == "random":
                        asked += list(rng.choice(left, size=n, replace=False))
                    else:
                        model = recommend.fit(f.dense(pos), f.dense(neg), back, **settings)
                        asked += list(left[model.uncertain(f.dense(left), n)])
                pos = np.asarray([i for i in asked if i in liked])
                neg = np.asarray([i for i in asked if i not in liked])
                model = recommend.fit(f.dense(pos), f.dense(neg), back, **settings)
                own = f.words(pos) if f.stems is not None and words else None
                score = ranker(model, pos, neg) if ranker else None
                for week, rel in m.later.items():
                    cand = proxy.weeks[week]
                    near = closest(f.words(cand), own) if own is not None else None
                    s = score(cand) if score else model.rank(
                        f.dense(cand), words=near, words_weight=0.5)  # the third round's
                    scores[budget].append(ranking_metrics(s, cand, rel)[0])
        rows.append({"ratings asked": how, **{f"ndcg@10 after {b}": round(float(np.mean(v)), 4)
                                              for b, v in scores.items()}})
    return rows


def explore(f: Features, proxy: Proxy, rng: np.random.Generator, before: np.ndarray,
            members: int, words: bool) -> None:
    """Candidates for beating the tf-idf SVM, on dev members only (nothing here is shipped
    until it wins there and then on test); `words` adds the tf-idf ones (~8 min to prepare)."""
    shipped = cached(paperfeed(f, proxy.background, nearest=0.0))  # the logistic model alone
    near = {k: cached(closest_liked(f, k, words=False)) for k in (1, 3)}
    grid: dict[str, Method] = {
        "logistic only": shipped, **{f"nearest vectors k={k}": m for k, m in near.items()},
        **{f"shipped + nearest vectors k=1, {w}": fused(shipped, near[1], w)
           for w in (0.3, 0.5, 0.7)}}
    if words:
        svm_background = rng.choice(before, 5_000, replace=False)
        f.prepare(rng.choice(before, 50_000, replace=False), np.concatenate([
            svm_background, *proxy.weeks,
            *(np.concatenate([m.positive, m.negative]) for m in proxy.dev)]))
        svm = cached(arxiv_sanity(f, 1.0, svm_background))
        knn_words = {k: cached(closest_liked(f, k, words=True)) for k in (1, 3)}
        grid |= {
            "tf-idf SVM C=1 (anchor)": svm,
            **{f"nearest tf-idf k={k}": m for k, m in knn_words.items()},
            "SVM + nearest tf-idf k=3, 0.5": fused(svm, knn_words[3], 0.5),
            "shipped + nearest tf-idf k=3, 0.5": fused(shipped, knn_words[3], 0.5),
            "shipped + SVM 0.5 + nearest k=3": fused(fused(shipped, svm, 0.5), knn_words[3],
                                                      0.33)}
    rows = []
    for label, method in grid.items():
        log(f"explore: {label}")
        rows.append({"method": label, **evaluate(method, proxy.dev[:members], proxy)})
    print_table("Candidates on dev members", rows)
    write_json("recommend-explore" + ("-words" if words else ""), {"dev": rows})


def cold_grid(f: Features, proxy: Proxy, members: int) -> None:
    """How fast C grows with the ratings (`ramp`): every setting on dev members after 3, 10
    and 30 random ratings, the best (mean over budgets) again on test members."""
    base = {"c": recommend.DEFAULT_C, "background_weight": recommend.DEFAULT_BACKGROUND_WEIGHT,
            "prior": recommend.DEFAULT_PRIOR}
    grid = {f"ramp={r} prior={p}": {**base, "ramp": r, "prior": p}
            for r in (0.0, 10.0, 30.0, 100.0) for p in (0.0, 4.0)}
    dev = []
    for label, settings in grid.items():
        log(f"cold dev: {label}")
        dev += [{"setting": label, **row} for row in cold_start(
            f, proxy, proxy.background, settings, proxy.dev[:members], ways=("random",))]
    best = max(dev, key=lambda r: np.mean([v for k, v in r.items() if k.startswith("ndcg")]))
    log(f"cold test: {best['setting']}")
    test = [{"setting": best["setting"], **row} for row in cold_start(
        f, proxy, proxy.background, grid[best["setting"]], proxy.test[:members])]
    print_table("Cold start, dev members (random ratings)", dev)
    print_table("Cold start, test members", test)
    write_json("recommend-cold", {"dev": dev, "test": test, "chosen": best["setting"]})


def speed(f: Features, proxy: Proxy, background: np.ndarray, settings: dict[str, float],
          n_members: int = 10_000, n_papers: int = 2_000) -> dict[str, Any]:
    """A member's fit (as the app fits: one BLAS thread); ranking `n_members` (the test
    members' models, repeated) over a week's first `n_papers` papers, top 50 each: by the
    logit, by `rank` (vectors), by `rank` with the words half as before (pure numpy, bench/
    harness/words_numpy.py) and as now (scipy's CSR product). Load averages beside each."""
    back = f.dense(background)
    load = {"start": _load()}
    fits, models = [], []
    for m in proxy.test:
        pos, neg = f.dense(m.positive), f.dense(m.negative)
        start = time.perf_counter()
        with BLAS.limit(limits=1, user_api="blas"):  # as the app fits (discover/foryou.py)
            models.append(recommend.fit(pos, neg, back, **settings))
        fits.append(1000 * (time.perf_counter() - start))
    weights, biases = recommend.stack([models[i % len(models)] for i in range(n_members)])
    idx = proxy.weeks[0][:n_papers]
    papers = f.dense(idx)
    n = f"{n_members}x{len(papers)}"
    out: dict[str, Any] = {"fit_ms_median": round(float(np.median(fits)), 2),
                           "fit_ms_p95": round(float(np.percentile(fits, 95)), 2)}
    start = time.perf_counter()
    for lo in range(0, n_members, 1000):  # blocks keep the score matrix in cache-sized parts
        recommend.top_per_member(recommend.score_many(weights[lo:lo + 1000],
                                                      biases[lo:lo + 1000], papers), 50)
    out[f"score_{n}_top50_s"] = round(time.perf_counter() - start, 2)
    load["score"] = _load()
    start = time.perf_counter()
    for lo in range(0, n_members, 1000):  # what the app ranks by: logit + closest liked paper
        block = [models[i % len(models)] for i in range(lo, min(lo + 1000, n_members))]
        recommend.top_per_member(recommend.rank_many(block, papers), 50)
    out[f"rank_{n}_top50_s"] = round(time.perf_counter() - start, 2)
    load["rank"] = _load()
    if f.stems is not None:
        liked = [f.words(m.positive) for m in proxy.test]
        for label, many in (("numpy", words_numpy.closest_many), ("scipy", closest_many)):
            start = time.perf_counter()
            cand_words, half = f.stems.rows(idx), 0.0
            for lo in range(0, n_members, 1000):  # + the words half
                members = range(lo, min(lo + 1000, n_members))
                began = time.perf_counter()
                near = many(cand_words, [liked[i % len(liked)] for i in members])
                half += time.perf_counter() - began
                block = [models[i % len(models)] for i in members]
                recommend.top_per_member(recommend.rank_many(block, papers, words=near), 50)
            out[f"rank_words_{label}_{n}_top50_s"] = round(time.perf_counter() - start, 2)
            out[f"words_half_{label}_s"] = round(half, 2)
            load[f"rank_words_{label}"] = _load()
    ratings = [len(m.positive) + len(m.negative) for m in proxy.test]
    return {**out, "ratings_per_member_median": float(np.median(ratings)),
            "background": len(background), "load_avg_1min": load}


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def tune(name: str, grid: dict[str, Method], members: list[Member], proxy: Proxy
         ) -> tuple[str, list[dict[str, Any]]]:
    """The grid entry with the best own-view nDCG@10 on the dev members."""
    rows = []
    for label, method in grid.items():
        log(f"dev: {name} {label}")
        rows.append({"method": name, "setting": label, **evaluate(method, members, proxy)})
    best = max(rows, key=lambda r: r["ndcg"])["setting"]
    return best, rows


def common_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--members", type=int, default=600, help="dev + test members")
    ap.add_argument("--tune-members", type=int, default=150, help="dev members used to tune")
    ap.add_argument("--cutoff", type=dt.date.fromisoformat, default=dt.date(2019, 10, 7))
    ap.add_argument("--weeks", type=int, default=12)
    ap.add_argument("--embedder", default=Settings.embedder, help="static embedder to use")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/paperfeed-bench-similar"),
                    help="where bench/similar.py caches the parsed papers and vectors")


def setup(args: argparse.Namespace) -> tuple[Any, Proxy, np.ndarray, Features]:
    """The papers, the proxy's members and weeks, the papers before the cutoff, features."""
    papers = load_papers("all", args.cache)
    days = load_days(args.cache.parent / "paperfeed-bench-recommend")
    model = vectorcache.load(args.embedder)
    vectors = vectorcache.corpus_vectors(model, len(papers.ids), papers.text, args.cache /
                                         f"vectors-{vectorcache.slug(args.embedder)}.npy")
    proxy = build(papers, days, args.cutoff, args.weeks, args.members)
    before = np.flatnonzero(days < args.cutoff.toordinal())
    stems = Stems(papers, args.cache.parent / "paperfeed-bench-recommend-words")
    stems.fit_idf(before)
    return papers, proxy, before, Features(vectors, papers.text, stems)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(ap)
    ap.add_argument("--speed-only", metavar="SETTINGS",
                    help='only time fit and scoring, e.g. "c=1.0 prior=2.0 background_weight=0"')
    ap.add_argument("--cold-grid", action="store_true",
                    help="only tune recommend.fit's ramp for cold start (dev, then test)")
    ap.add_argument("--explore", choices=("vectors", "words"),
                    help="only compare candidate models on dev members (words: tf-idf too)")
    ap.add_argument("--cold-only", action="store_true",
                    help="only cold start as the app ranks (test members)")
    ap.add_argument("--cold-members", type=int, default=100, help="test members, cold start")
    args = ap.parse_args()
    papers, proxy, before, f = setup(args)
    rng = np.random.default_rng(1)
    if args.speed_only:
        timing = speed(f, proxy, proxy.background, _parse(args.speed_only))
        print_table("Speed", [timing])
        write_json("recommend-speed", {"settings": args.speed_only, "speed": timing})
        return
    if args.cold_grid:
        cold_grid(f, proxy, args.cold_members)
        return
    if args.cold_only:  # the third round's `rank` (recommend_blend.py --cold: what ships)
        shipped = {"c": recommend.DEFAULT_C, "prior": recommend.DEFAULT_PRIOR,
                   "background_weight": recommend.DEFAULT_BACKGROUND_WEIGHT}
        rows = [{"ranking": "third round (vectors + stems)", **row} for row in cold_start(
            f, proxy, proxy.background, shipped, proxy.test[:args.cold_members])]
        print_table("Cold start (test members, own view)", rows)
        write_json("recommend-cold-shipped", {"test": rows, "members": args.cold_members})
        return
    if args.explore:
        explore(f, proxy, rng, before, args.tune_members, words=args.explore == "words")
        return
    svm_background = rng.choice(before, 5_000, replace=False)
    f.prepare(rng.choice(before, 50_000, replace=False), np.concatenate([
        svm_background, *proxy.weeks,
        *(np.concatenate([m.positive, m.negative]) for m in proxy.dev + proxy.test)]))
    dev = proxy.dev[:args.tune_members]
    grids: dict[str, dict[str, Method]] = {
        "centroid cosine": {"-": centroid(f)},
        "Scholar Inbox: LR on embeddings": {f"C={c}": scholar_inbox(f, c)
                                            for c in (0.1, 1.0, 10.0)},
        "arxiv-sanity-lite: SVM on tf-idf": {f"C={c}": arxiv_sanity(f, c, svm_background)
                                             for c in (0.01, 0.1, 1.0)},
        "paperfeed recommend.fit": {
            f"c={c} prior={p} background_weight={b}": paperfeed(f, proxy.background, c=c, prior=p,
                                                         background_weight=b)
            for c in (1.0, 10.0) for p in (0.0, 2.0, 8.0) for b in (0.0, 1.0)},
    }
    grids = {name: {k: cached(m) for k, m in grid.items()} for name, grid in grids.items()}
    chosen: dict[str, Method] = {}
    dev_rows: list[dict[str, Any]] = []
    settings: dict[str, str] = {}
    for name, grid in grids.items():
        settings[name], rows = tune(name, grid, dev, proxy)
        chosen[name] = grid[settings[name]]
        dev_rows += rows
    fit_settings = _parse(settings["paperfeed recommend.fit"])
    svm = chosen["arxiv-sanity-lite: SVM on tf-idf"]
    fusions = {f"w={w}": fused(chosen["paperfeed recommend.fit"], svm, w)
               for w in (0.35, 0.5, 0.65, 0.8)}
    settings["paperfeed + tf-idf SVM fused"], rows = tune(
        "paperfeed + tf-idf SVM fused", fusions, dev, proxy)
    chosen["paperfeed + tf-idf SVM fused"] = fusions[settings["paperfeed + tf-idf SVM fused"]]
    dev_rows += rows
    ablations = {"paperfeed, logistic only (no nearest liked paper)": {**fit_settings,
                                                                        "nearest": 0.0},
                 "paperfeed, no prior": {**fit_settings, "prior": 0.0},
                 "paperfeed, no background": {**fit_settings, "background_weight": 0.0}}
    for name, s in ablations.items():
        chosen[name] = paperfeed(f, proxy.background, **s)
        settings[name] = " ".join(f"{k}={v}" for k, v in s.items())
    test_rows = []
    for name, method in chosen.items():
        log(f"test: {name}")
        test_rows.append({"method": name, "setting": settings[name],
                          **evaluate(method, proxy.test, proxy)})
    log("cold start")
    cold = cold_start(f, proxy, proxy.background, fit_settings, proxy.test[:args.cold_members])
    log("speed")
    timing = speed(f, proxy, proxy.background, fit_settings)
    title = (f"Recommendations, {len(papers.ids)} arXiv papers, {len(proxy.test)} test members"
             f", {args.weeks} weeks after {args.cutoff} ({args.embedder}); own view: ndcg@10, "
             "recall@50, auc; co-author view: co_*")
    print_table("Dev members: every setting tried", dev_rows)
    print_table(title, test_rows)
    print_table("Cold start (test members, own view)", cold)
    print_table("Speed", [timing])
    write_json("recommend", {
        "papers": len(papers.ids), "embedder": args.embedder, "cutoff": str(args.cutoff),
        "weeks": args.weeks, "papers_per_week": round(float(np.mean([len(w) for w in
                                                                      proxy.weeks])), 1),
        "members": {"dev_tuned_on": len(dev), "test": len(proxy.test)},
        "dev": dev_rows, "test": test_rows, "chosen": settings, "cold_start": cold,
        "speed": timing})


def _parse(label: str) -> dict[str, float]:
    return {k: float(v) for k, v in (part.split("=") for part in label.split())}


if __name__ == "__main__":
    main()

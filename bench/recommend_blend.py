"""Can For you beat arxiv-sanity-lite's tf-idf SVM by 10 % nDCG@10? Round four: richer words
(hashed stem bigrams), a linear model on [vectors, tf-idf] together, recency, and blends.

    python bench/recommend_blend.py [--split dev|test] [same data options as recommend.py]

Each member's candidate scores ("parts") are computed once per (member, week) on
bench/recommend.py's proxy, then every blend (z-scores over the week's papers, weighted)
is scored from them. Blend weights are searched on the dev members (150); the test members
(300) are scored once, for the fixed list of candidates written in `TEST_BLENDS` before
the test parts were computed, plus the dev winner.

Parts:
- vec: the shipped vector half (`MemberModel.rank` without words: logit + closest liked);
- w1: the shipped words half (closest liked paper by the app's stem tf-idf rows, k=1);
- ridge: `words.fit_ridge` on those rows (lam 1);
- b1 / bridge: the same two on rows of stems *and* hashed stem bigrams (adjacent stems
  after stop words, as scikit-learn forms bigrams, `words.paper_bigrams`; bigram df from
  50,000 papers before the cutoff, scaled), heaviest 128 entries a row;
- b1c: b1 with the bigrams' df from the week's candidates alone (as the app: no artifact);
  b1cr: from the candidates and the member's rated papers; b1s5k / b1s10k: from 5,000 /
  10,000 of the 50,000 sampled papers (a smaller artifact); b1w: from all 12 weeks'
  candidates (~17,600 recent papers: a window of recent papers instead of a sample);
  b1c64 / b1c256: b1c with rows of 64 / 256 entries; b1cbin: b1c with binary tf;
- cat: the app's `recommend.category_affinity` (liked papers in the candidate's primary
  category, log(0.5 + count)); b1c256r: b1c256 with each liked paper's cosines weighted by
  `words.recency` (the member's papers are newest first);
- crowd: minus the app's `recommend.neighbourhood_crowding` of each candidate: the mean
  cosine of its 10 nearest papers among all papers before the cutoff (exact search here; the
  app asks its HNSW index), the same for every member (cached in
  /tmp/paperfeed-bench-recommend/crowding-*.npy, ~3 min);
- tvec: vec on the transformer tier's vectors (`minilm-l6-v2-int8`, embedded once for the
  papers a run needs and cached in /tmp/paperfeed-bench-recommend/transformer.npz, ~25 min
  for dev and test);
- joint: kernel ridge on [vectors, tf-idf] concatenated (dual form: the kernel is
  `JOINT_DENSE` x the vectors' cosine + the words' cosine, + 1 for the bias), weighted as
  `fit_ridge`: one linear model over both feature sets;
- w1_recent / vnear_recent: closest liked paper among the member's 20 most recent only.
Co-author signals are not a part: on this proxy a member's liked papers all carry the
member's own name and their co-authors', and relevance is the member's own later papers,
so any author feature reads the answer (docs/recommendations.md).
Writes bench/results/recommend-blend-SPLIT.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import recommend as recommend_bench
from harness import vectorcache
from harness.bigrams import Bigrams, Df
from harness.ratings import Member, Proxy, load_days, ranking_metrics
from harness.report import log, print_table, write_json
from recommend import Features, _load, common_arguments, setup

from paperfeed.discover import recommend, words
from paperfeed.discover.foryou import BLAS

JOINT_DENSE = 1.0
RECENT = 20
PARTS = ("vec", "logit", "vnear", "w1", "w3", "ridge", "b1", "b1c", "b1cr", "b1s5k", "b1s10k",
         "b1w", "b1c64", "b1c256", "b1cbin", "bridge", "joint", "w1_recent", "vnear_recent",
         "cat", "b1c256r", "tvec", "crowd")
WEEK_DF: dict[int | str, Df] = {}  # the bigrams' df over each week's candidates (b1c), ...
TRANSFORMER: Callable[[np.ndarray], np.ndarray]  # the transformer's vectors (tvec), if asked
PRIMARY: np.ndarray  # each paper's primary category (str), for `cat`
CROWDING: np.ndarray  # each paper's `neighbourhood_crowding` (NaN if not needed), for `crowd`
# Fixed before the test parts are computed: the shipped blend, last round's best, and the
# new parts each in the blend that was best for them on dev (filled in by `--split dev`).
TEST_BLENDS: dict[str, dict[str, float]] = {
    "shipped: vec 0.5 + w1 0.5": {"vec": 0.5, "w1": 0.5},
    "last round: vec 0.5 + ridge 0.25 + w1 0.25": {"vec": 0.5, "ridge": 0.25, "w1": 0.25},
    "round five, 128 entries: vec 0.5 + ridge 0.25 + b1c 0.25": {"vec": 0.5, "ridge": 0.25,
                                                                 "b1c": 0.25},
    "round five, shipped: vec 0.5 + ridge 0.25 + b1c256 0.25": {"vec": 0.5, "ridge": 0.25,
                                                                "b1c256": 0.25},
    "round six: + cat 0.15": {"vec": 0.5, "ridge": 0.25, "b1c256": 0.25, "cat": 0.15},
    "round six: recency": {"vec": 0.5, "ridge": 0.25, "b1c256r": 0.25},
    "round six, shipped: recency + cat 0.15": {"vec": 0.5, "ridge": 0.25, "b1c256r": 0.25,
                                               "cat": 0.15},
    "round seven, shipped: + crowd 0.5": {"vec": 0.5, "ridge": 0.25, "b1c256r": 0.25,
                                          "cat": 0.15, "crowd": 0.5},
}


def _z(s: np.ndarray) -> np.ndarray:
    return (s - s.mean()) / (s.std() + 1e-9)


def category(candidates: np.ndarray, liked: np.ndarray) -> np.ndarray:
    """The app's category part (`recommend.category_affinity`) of `candidates`."""
    return recommend.category_affinity(PRIMARY[candidates].tolist(), PRIMARY[liked].tolist())


def crowding(f: Features, papers: np.ndarray, reference: np.ndarray, cache: Path
             ) -> np.ndarray:
    """The app's `recommend.neighbourhood_crowding` of `papers` among the `reference`
    papers (exact top k), by paper index (NaN for the others); cached."""
    k = recommend.CROWDING_K
    path = cache / f"crowding-k{k}-{len(papers)}-{len(reference)}.npy"
    if path.exists():
        return np.load(path)
    out = np.full(len(f.vectors), np.nan)
    ref = f.dense(reference)
    for lo in range(0, len(papers), 500):
        idx = papers[lo:lo + 500]
        sims = f.dense(idx) @ ref.T
        sims[idx[:, None] == reference[None, :]] = -np.inf  # a paper is not its own neighbour
        top = -np.partition(-sims, k, axis=1)[:, :k]
        out[idx] = recommend.neighbourhood_crowding(-np.sort(-top, axis=1))
    np.save(path, out)
    return out


def joint_ridge(dense: np.ndarray, rows_: words.WordRows, y: np.ndarray, weight: np.ndarray,
                lam: float = 1.0) -> Callable[[np.ndarray, words.WordRows], np.ndarray]:
    kernel = (JOINT_DENSE * (dense @ dense.T) + words.cosines(rows_, rows_) + 1.0)
    kernel = kernel.astype(np.float64)
    kernel[np.diag_indices_from(kernel)] += lam / weight
    alpha = np.linalg.solve(kernel, y)

    def score(cand_dense: np.ndarray, cand_rows: words.WordRows) -> np.ndarray:
        k = JOINT_DENSE * (cand_dense @ dense.T) + words.cosines(cand_rows, rows_) + 1.0
        return k @ alpha
    return score


def member_parts(f: Features, big: Bigrams, proxy: Proxy, m: Member, back_idx: np.ndarray,
                 wanted: tuple[str, ...] = PARTS) -> dict[int, dict[str, np.ndarray]]:
    """The `wanted` parts of member `m`, per week with a relevant paper."""
    pos, neg = m.positive, m.negative
    back = f.dense(back_idx)
    model = recommend.fit(f.dense(pos), f.dense(neg), back)
    liked = f.words(pos)
    fits: dict[str, Any] = {"pos": pos, "neg": neg, "weeks": proxy.weeks}
    if "tvec" in wanted:
        fits["tvec"] = recommend.fit(TRANSFORMER(pos), TRANSFORMER(neg), TRANSFORMER(back_idx))
    if "ridge" in wanted:
        fits["ridge"] = words.fit_ridge(liked, f.words(neg), f.words(back_idx))
    if {"b1", "bridge"} & set(wanted):
        fits["liked_b"] = big.rows(pos)
    if "bridge" in wanted:
        fits["bridge"] = words.fit_ridge(fits["liked_b"], big.rows(neg), big.rows(back_idx))
    if "joint" in wanted:
        train = np.concatenate([pos, neg, back_idx])
        y = np.concatenate([np.ones(len(pos)), -np.ones(len(neg) + len(back_idx))])
        weight = np.concatenate([np.ones(len(pos) + len(neg)),
                                 np.full(len(back_idx), len(pos) / len(back_idx))])
        fits["joint"] = joint_ridge(f.dense(train), f.words(train), y, weight)
    out = {}
    for week in m.later_coauthor:
        out[week] = _week_parts(f, big, proxy.weeks[week], week, model, liked, fits, wanted)
    return out


def _week_parts(f: Features, big: Bigrams, cand: np.ndarray, week: int,
                model: recommend.MemberModel, liked: words.WordRows, fits: dict[str, Any],
                wanted: tuple[str, ...]) -> dict[str, np.ndarray]:
    dense, rows_ = f.dense(cand), f.words(cand)
    pos = fits["pos"]
    near = dense @ f.dense(pos).T
    recent = pos[:RECENT]

    def b1c() -> np.ndarray:
        if week not in WEEK_DF:
            WEEK_DF[week] = big.df_over(cand)
        df = WEEK_DF[week]
        return words.closest(big.rows(cand, df, f"week {week}"), big.rows(pos, df), 1)

    def b1_df(name: str, make: Callable[[], Df]) -> np.ndarray:
        if name not in WEEK_DF:
            WEEK_DF[name] = make()
        df = WEEK_DF[name]
        return words.closest(big.rows(cand, df, f"{name} {week}"), big.rows(pos, df), 1)

    def b1c_rows(recent: bool = False, **how: Any) -> np.ndarray:
        if week not in WEEK_DF:
            WEEK_DF[week] = big.df_over(cand)
        df = WEEK_DF[week]
        return words.closest(big.rows(cand, df, f"week {week}", **how),
                             big.rows(pos, df, **how), 1,
                             words.recency(len(pos)) if recent else None)

    def b1cr() -> np.ndarray:
        df = big.df_over(np.concatenate([cand, pos, fits["neg"]]))
        return words.closest(big.rows(cand, df), big.rows(pos, df), 1)

    part: dict[str, Callable[[], np.ndarray]] = {
        "vec": lambda: model.rank(dense), "logit": lambda: model.score(dense),
        "vnear": lambda: near.max(1), "w1": lambda: words.closest(rows_, liked, 1),
        "w3": lambda: words.closest(rows_, liked, 3),
        "ridge": lambda: fits["ridge"].score(rows_),
        "b1": lambda: words.closest(big.rows(cand), fits["liked_b"], 1),
        "b1c": b1c, "b1cr": b1cr, "b1c64": lambda: b1c_rows(terms=64),
        "b1c256": lambda: b1c_rows(terms=256), "b1cbin": lambda: b1c_rows(binary=True),
        "b1s5k": lambda: b1_df("5k", lambda: big.sample_of(5_000)),
        "b1s10k": lambda: b1_df("10k", lambda: big.sample_of(10_000)),
        "b1w": lambda: b1_df("weeks", lambda: big.df_over(np.concatenate(fits["weeks"]))),
        "bridge": lambda: fits["bridge"].score(big.rows(cand)),
        "joint": lambda: fits["joint"](dense, rows_),
        "w1_recent": lambda: words.closest(rows_, f.words(recent), 1),
        "vnear_recent": lambda: near[:, :len(recent)].max(1),
        "cat": lambda: category(cand, pos),
        "b1c256r": lambda: b1c_rows(terms=256, recent=True),
        "tvec": lambda: fits["tvec"].rank(TRANSFORMER(cand)), "crowd": lambda: -CROWDING[cand]}
    return {k: np.asarray(part[k](), np.float64) for k in wanted}


def score_blend(blend: dict[str, float], members: list[Member], proxy: Proxy,
                parts: list[dict[int, dict[str, np.ndarray]]],
                ndcg: list[float] | None = None) -> dict[str, float]:
    """Means over the member-weeks (`ndcg`, if given, gets each member-week's nDCG@10)."""
    rows: dict[str, list[float]] = {k: [] for k in ("ndcg", "recall50", "auc", "co_ndcg")}
    for m, weeks in zip(members, parts, strict=True):
        for week, p in weeks.items():
            s = np.sum([w * _z(p[k]) for k, w in blend.items() if w], axis=0)
            cand = proxy.weeks[week]
            rel = m.later.get(week)
            if rel:
                for key, v in zip(("ndcg", "recall50", "auc"), ranking_metrics(s, cand, rel),
                                  strict=True):
                    rows[key].append(v)
            rows["co_ndcg"].append(ranking_metrics(s, cand, m.later_coauthor[week])[0])
    out = {k: round(float(np.mean(v)), 4) for k, v in rows.items()}
    if ndcg is not None:
        ndcg += rows["ndcg"]
    out["ndcg_se"] = round(float(np.std(rows["ndcg"]) / np.sqrt(len(rows["ndcg"]))), 4)
    return out


def paired(blends: dict[str, dict[str, float]], members: list[Member], proxy: Proxy,
           parts: list[dict[int, dict[str, np.ndarray]]]) -> list[dict[str, Any]]:
    """Each blend's nDCG@10 minus the first blend's, per member-week: mean and SE."""
    per = {}
    for name, blend in blends.items():
        ndcg: list[float] = []
        score_blend(blend, members, proxy, parts, ndcg)
        per[name] = np.asarray(ndcg)
    first = next(iter(per.values()))
    return [{"blend": name, "ndcg": round(float(v.mean()), 4),
             "minus_first": round(float((v - first).mean()), 4),
             "paired_se": round(float((v - first).std() / np.sqrt(len(v))), 4)}
            for name, v in per.items()]


def label(blend: dict[str, float]) -> str:
    return " + ".join(f"{k} {w:g}" for k, w in blend.items() if w)


def dev_grid(have: set[str]) -> list[dict[str, float]]:
    """Every part alone, then blends of vec with one, two or three words parts (of the
    parts computed: `have`)."""
    grid = [{p: 1.0} for p in PARTS if p in have]
    words_parts = tuple(p for p in ("w1", "ridge", "b1", "b1c", "b1cr", "b1c256", "bridge",
                                    "joint", "w1_recent") if p in have)
    for a in words_parts:
        grid += [{"vec": 1 - w, a: w} for w in (0.3, 0.5, 0.7)]
    for a, b in itertools.combinations(words_parts, 2):
        grid += [{"vec": v, a: (1 - v) * s, b: (1 - v) * (1 - s)}
                 for v in (0.3, 0.4, 0.5) for s in (0.3, 0.5, 0.7)]
    for a, b, c in itertools.combinations(words_parts, 3):
        grid += [{"vec": v, a: (1 - v) / 3, b: (1 - v) / 3, c: (1 - v) / 3}
                 for v in (0.3, 0.4, 0.5)]
    return grid


def speed(f: Features, big: Bigrams, proxy: Proxy, n_members: int = 10_000,
          n_papers: int = 2_000, terms: int = words.BIGRAM_TERMS) -> dict[str, Any]:
    """What ships, timed as bench/recommend.py `speed` times the vector half: a member's
    refit (vectors + ridge on the stems, one BLAS thread), then a digest of `n_members` (the
    test members' models, repeated) over a week's first `n_papers` papers, top 50 each:
    the candidates' rows (stems; bigram df over the candidates; stems + bigrams), the liked
    papers' rows by that df (300 members' in one go, scaled to `n_members`), `closest_many`,
    `words.score_many` (the ridges) and `rank_many`. Load averages beside each."""
    load = {"start": _load()}
    back, back_rows = f.dense(proxy.background), f.words(proxy.background)
    idx = proxy.weeks[0][:n_papers]
    papers = f.dense(idx)
    out: dict[str, Any] = {}
    fits, models, ridges = [], [], []
    for m in proxy.test:
        pos, neg = f.dense(m.positive), f.dense(m.negative)
        start = time.perf_counter()
        with BLAS.limit(limits=1, user_api="blas"):  # as the app fits (discover/foryou.py)
            models.append(recommend.fit(pos, neg, back))
            ridges.append(words.fit_ridge(f.words(m.positive), f.words(m.negative), back_rows))
        fits.append(1000 * (time.perf_counter() - start))
    out["fit_ms_median"] = round(float(np.median(fits)), 2)
    out["fit_ms_p95"] = round(float(np.percentile(fits, 95)), 2)
    start = time.perf_counter()
    assert f.stems is not None
    cand_stems, df = f.stems.rows(idx), big.df_over(idx)
    cand_grams = big.rows(idx, df, "speed", terms)
    out["candidate_rows_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()  # every member's liked papers' rows by the run's df at once
    sizes = np.cumsum([0] + [len(m.positive) for m in proxy.test])
    every = big.rows(np.concatenate([m.positive for m in proxy.test]), df, terms=terms)
    liked = [every.take(range(a, b)) for a, b in itertools.pairwise(sizes)]
    out[f"liked_rows_{n_members}_s"] = round(
        (time.perf_counter() - start) * n_members / len(proxy.test), 2)
    out["crowding_s"], crowded = _crowding_timed(f, idx, np.arange(0, len(f.vectors), 5))
    parts = {"closest": 0.0, "ridge": 0.0, "category": 0.0, "rank": 0.0}
    for lo in range(0, n_members, 1000):
        members = range(lo, min(lo + 1000, n_members))
        t0 = time.perf_counter()
        near = words.closest_many(cand_grams, [liked[i % len(liked)] for i in members],
                                  weights=[words.recency(len(liked[i % len(liked)]))
                                           for i in members])
        t1 = time.perf_counter()
        ridge = words.score_many(cand_stems, [ridges[i % len(ridges)] for i in members])
        t2 = time.perf_counter()
        taste = np.stack([category(idx, proxy.test[i % len(proxy.test)].positive)
                          for i in members])  # per member, as the app does
        t3 = time.perf_counter()
        block = [models[i % len(models)] for i in members]
        recommend.top_per_member(recommend.rank_many(block, papers, words=near, ridge=ridge,
                                                     category=taste, crowding=crowded), 50)
        parts["closest"] += t1 - t0
        parts["ridge"] += t2 - t1
        parts["category"] += t3 - t2
        parts["rank"] += time.perf_counter() - t3
        load[f"block {lo}"] = _load()
    n = f"{n_members}x{len(idx)}"
    out |= {f"{k}_{n}_s": round(v, 2) for k, v in parts.items()}
    out[f"total_{n}_top50_s"] = round(out["candidate_rows_s"] + out[f"liked_rows_{n_members}_s"]
                                      + out["crowding_s"] + sum(parts.values()), 2)
    return {**out, "load_avg_1min": load}


def _crowding_timed(f: Features, idx: np.ndarray, others: np.ndarray
                    ) -> tuple[float, np.ndarray]:
    """Seconds for the app's crowding of `idx` (`VectorIndex.neighbours`: HNSW, here on an
    index of them and `others`, e.g. every fifth paper), and the crowding."""
    import tempfile

    from paperfeed.index.vectors import VectorIndex

    held = np.unique(np.concatenate([idx, others]))
    with tempfile.TemporaryDirectory() as tmp:
        index = VectorIndex(Path(tmp) / "index.usearch", f.vectors.shape[1])
        index.add(held.tolist(), f.dense(held))
        start = time.perf_counter()
        near = index.neighbours(idx.tolist(), f.dense(idx), recommend.CROWDING_K)
        return round(time.perf_counter() - start, 2), recommend.neighbourhood_crowding(near)


def transformer_vectors(papers: Any, needed: np.ndarray, cache: Path
                        ) -> Callable[[np.ndarray], np.ndarray]:
    """The transformer tier's L2-normalised vectors of `needed` papers, by index."""
    model = vectorcache.load("minilm-l6-v2-int8")
    found = vectorcache.embed_some(model, set(needed.tolist()), papers.text,
                                   cache / "paperfeed-bench-recommend" / "transformer.npz")

    def vectors(idx: np.ndarray) -> np.ndarray:
        m = np.stack([found[int(i)] for i in idx]).astype(np.float32)
        return m / np.linalg.norm(m, axis=1, keepdims=True)
    return vectors


def shipped_ranker(f: Features, big: Bigrams, background: np.ndarray,
                   days: np.ndarray) -> recommend_bench.Ranker:
    """What the app ranks by: `rank` with the closest liked paper by stems + bigrams (df over
    the candidates; liked papers weighted by `words.recency` of their `days`, as the app's
    `Recommender._liked`), the ridge on the stems and the category, at the shipped
    weights."""
    back_rows = f.words(background)

    def ranker(model: recommend.MemberModel, pos: np.ndarray,
               neg: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        ridge = words.fit_ridge(f.words(pos), f.words(neg), back_rows)
        recent = np.empty(len(pos))
        recent[np.argsort(-days[pos], kind="stable")] = words.recency(len(pos))

        def score(cand: np.ndarray) -> np.ndarray:
            df = big.df_over(cand)
            near = words.closest(big.rows(cand, df, f"cold {cand[0]}", words.BIGRAM_TERMS),
                                 big.rows(pos, df, terms=words.BIGRAM_TERMS),
                                 weights=recent)
            return model.rank(f.dense(cand), words=near, ridge=ridge.score(f.words(cand)),
                              category=category(cand, pos), crowding=CROWDING[cand])
        return score
    return ranker


def main() -> None:
    global TRANSFORMER, PRIMARY, CROWDING
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(ap)
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--parts", default="",
                    help='only these parts, e.g. vec,w1,ridge,b1; "+" between groups saved '
                         'apart, e.g. vec,w1,ridge+b1,b1c')
    ap.add_argument("--parts-only", action="store_true",
                    help="only compute and save the split's parts (no blend is scored)")
    ap.add_argument("--cold", action="store_true",
                    help="only cold start as it ships (100 test members)")
    ap.add_argument("--test-members", type=int, default=300,
                    help="test: the first this many (--members 1200: 300 of 600 fresh ones)")
    ap.add_argument("--speed", action="store_true",
                    help="only time what ships: a refit and a digest of 10,000 members")
    ap.add_argument("--speed-terms", type=int, default=words.BIGRAM_TERMS,
                    help="--speed with rows of this many stems and bigrams")
    ap.add_argument("--blend", action="append", default=[],
                    help='test: also score this blend, e.g. "vec=0.4 b1=0.3 bridge=0.3"; dev: '
                         'score these against the first (paired differences)')
    args = ap.parse_args()
    papers, proxy, before, f = setup(args)
    PRIMARY = np.asarray(papers.primary, dtype=object)
    dev = proxy.dev[:args.tune_members]
    needed = np.unique(np.concatenate([
        proxy.background, *proxy.weeks,
        *(np.concatenate([m.positive, m.negative]) for m in dev + proxy.test)]))
    cache = args.cache.parent / "paperfeed-bench-recommend-words"
    assert f.stems is not None
    big = Bigrams(papers, f.stems, before, needed, cache)
    CROWDING = crowding(f, np.unique(np.concatenate(proxy.weeks)), before,
                        args.cache.parent / "paperfeed-bench-recommend")
    if "tvec" in args.parts:
        TRANSFORMER = transformer_vectors(papers, needed, args.cache.parent)
    if args.cold:  # cold start as it ships (bench/recommend.py --cold-only: the third round's)
        shipped = {"c": recommend.DEFAULT_C, "prior": recommend.DEFAULT_PRIOR,
                   "background_weight": recommend.DEFAULT_BACKGROUND_WEIGHT}
        rows = [{"ranking": "shipped (vectors, ridge, bigrams, category, recency)", **row}
                for row in recommend_bench.cold_start(
                    f, proxy, proxy.background, shipped, proxy.test[:100],
                    ranker=shipped_ranker(f, big, proxy.background, load_days(
                        args.cache.parent / "paperfeed-bench-recommend")))]
        print_table("Cold start (test members, own view)", rows)
        write_json("recommend-cold-blend", {"test": rows, "members": 100})
        return
    if args.speed:
        timing = speed(f, big, proxy, terms=args.speed_terms)
        print_table("Speed (what ships)",
                    [{k: v for k, v in timing.items() if k != "load_avg_1min"}])
        log(f"load averages: {timing['load_avg_1min']}")
        write_json("recommend-blend-speed", {"speed": timing, "terms": args.speed_terms})
        return
    members = dev if args.split == "dev" else proxy.test[:args.test_members]
    parts: list[dict[int, dict[str, np.ndarray]]] = [{} for _ in members]
    for group in (args.parts or ",".join(PARTS)).split("+"):  # a file per group of parts
        run = ("" if args.members == 600 else f"-{args.members}") + (  # other members,
            "" if args.test_members == 300 or args.split == "dev" else f"-t{args.test_members}")
        saved = cache / f"parts-{args.split}{run}-{group}.pkl"
        if saved.exists():  # the parts are slow (~30 min on the loaded box), blends are not
            with open(saved, "rb") as fh:
                got = pickle.load(fh)
        else:
            got = []
            for n, m in enumerate(members):
                if n % 25 == 0:
                    log(f"{args.split} parts {group}: member {n} of {len(members)}")
                got.append(member_parts(f, big, proxy, m, proxy.background,
                                        tuple(group.split(","))))
            with open(saved, "wb") as fh:
                pickle.dump(got, fh)
        for mine, theirs in zip(parts, got, strict=True):
            for week, p in theirs.items():
                mine.setdefault(week, {}).update(p)
    if args.parts_only:
        return
    if args.split == "dev":
        grid = dev_grid({k for weeks in parts for p in weeks.values() for k in p})
        log(f"{len(grid)} blends on dev")
        rows = [{"blend": label(b), **score_blend(b, members, proxy, parts)} for b in grid]
        rows.sort(key=lambda r: -float(str(r["ndcg"])))
        print_table("Dev members, best 40 blends", rows[:40])
        alone = [r for r in rows if " + " not in str(r["blend"])]
        print_table("Dev members, each part alone", alone)
        compared = paired({label(b): b for b in map(_blend, args.blend)}, members, proxy,
                          parts) if args.blend else []
        if compared:
            print_table("Dev members, --blend against the first", compared)
        write_json("recommend-blend-dev", {"dev": rows, "paired": compared})
        return
    have = {k for weeks in parts for p in weeks.values() for k in p}
    blends = {name: b for name, b in (TEST_BLENDS | {label(b): b for b in map(_blend, args.blend)}
                                      ).items() if set(b) <= have}  # of the parts computed
    rows = [{"blend": name, **score_blend(b, members, proxy, parts)}
            for name, b in blends.items()]
    print_table("Test members", rows)
    compared = paired(blends, members, proxy, parts)
    print_table("Test members, against the first", compared)
    write_json("recommend-blend-test", {"test": rows, "blends": blends, "paired": compared})


def _blend(text: str) -> dict[str, float]:
    return {k: float(v) for k, v in (p.split("=") for p in text.split())}


if __name__ == "__main__":
    main()

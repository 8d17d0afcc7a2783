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
  after stop words, as scikit-learn forms bigrams; bigram df from 50,000 papers before the
  cutoff, scaled), heaviest `BIGRAM_TERMS` entries a row;
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from harness.ratings import Member, Proxy, ranking_metrics
from harness.report import log, print_table, write_json
from recommend import Features, common_arguments, setup

from paperfeed.discover import recommend, words
from paperfeed.discover.highlight import STOPWORDS
from paperfeed.index.fulltext import TERM, stem

BIGRAM_TERMS = 128
JOINT_DENSE = 1.0
RECENT = 20
PARTS = ("vec", "logit", "vnear", "w1", "w3", "ridge", "b1", "bridge", "joint",
         "w1_recent", "vnear_recent")
# Fixed before the test parts are computed: the shipped blend, last round's best, and the
# new parts each in the blend that was best for them on dev (filled in by `--split dev`).
TEST_BLENDS: dict[str, dict[str, float]] = {
    "shipped: vec 0.5 + w1 0.5": {"vec": 0.5, "w1": 0.5},
    "last round: vec 0.5 + ridge 0.25 + w1 0.25": {"vec": 0.5, "ridge": 0.25, "w1": 0.25},
}


class Bigrams:
    """Stem + hashed stem-bigram tf-idf rows of the papers a run needs, df of the bigrams
    from a sample of papers before the cutoff (cached in /tmp)."""

    def __init__(self, f: Features, before: np.ndarray, needed: np.ndarray, cache: Path):
        path = cache / "bigrams.pkl"
        self.df: dict[int, int]
        if path.exists():
            with open(path, "rb") as fh:
                self.counts, self.df, self.sample = pickle.load(fh)
        else:
            rng = np.random.default_rng(7)
            sample = rng.choice(before, 50_000, replace=False)
            log(f"stem bigrams of {len(np.union1d(sample, needed))} papers")
            self.counts = {int(i): _grams(f, int(i)) for i in np.union1d(sample, needed)}
            self.df = {}
            for i in sample.tolist():
                for g in self.counts[i]:
                    self.df[g] = self.df.get(g, 0) + 1
            self.sample = len(sample)
            with open(path, "wb") as fh:
                pickle.dump((self.counts, self.df, self.sample), fh)
        self.n = len(before)
        assert f.stems is not None
        self.stems = f.stems
        self._cache: dict[bytes, words.WordRows] = {}

    def rows(self, idx: np.ndarray) -> words.WordRows:
        key = np.asarray(idx).tobytes()
        if key in self._cache:
            return self._cache[key]
        st = self.stems
        scale = self.n / self.sample
        sizes, ids, tf, idf = [], [], [], []
        for i in np.asarray(idx).tolist():
            lo, hi = st.indptr[i], st.indptr[i + 1]
            uni = st.ids[lo:hi]
            at = np.minimum(np.searchsorted(st.vocab, uni), len(st.vocab) - 1)
            uni_idf = np.where(st.vocab[at] == uni, st.idf[at], st.unseen)
            grams = self.counts[i]
            kept = [(g, n) for g, n in grams.items()
                    if self.df.get(g, 0) * scale <= words.MAX_DF * self.n]
            sizes.append(hi - lo + len(kept))
            ids += uni.tolist() + [g for g, _ in kept]
            tf += st.counts[lo:hi].astype(float).tolist() + [float(n) for _, n in kept]
            idf += uni_idf.tolist() + [
                float(np.log(self.n / (1 + self.df.get(g, 0) * scale))) for g, _ in kept]
        out = words.rows(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                         np.asarray(ids, np.int64), np.asarray(tf), np.asarray(idf),
                         BIGRAM_TERMS)
        if len(idx) >= 200:  # a week's papers, the background: asked for by every member
            self._cache[key] = out
        return out


def _grams(f: Features, i: int) -> dict[int, int]:
    text = f"{f.text(i)}"
    stems = [stem(w) for w in TERM.findall(text) if w.lower() not in STOPWORDS]
    out: dict[int, int] = {}
    for a, b in itertools.pairwise(stems):
        g = words.stem_id(f"{a} {b}")
        out[g] = out.get(g, 0) + 1
    return out


def _z(s: np.ndarray) -> np.ndarray:
    return (s - s.mean()) / (s.std() + 1e-9)


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
    fits: dict[str, Any] = {}
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
        out[week] = _week_parts(f, big, proxy.weeks[week], model, pos, liked, fits, wanted)
    return out


def _week_parts(f: Features, big: Bigrams, cand: np.ndarray, model: recommend.MemberModel,
                pos: np.ndarray, liked: words.WordRows, fits: dict[str, Any],
                wanted: tuple[str, ...]) -> dict[str, np.ndarray]:
    dense, rows_ = f.dense(cand), f.words(cand)
    rows_b = big.rows(cand) if "liked_b" in fits else words.WordRows.empty()
    near = dense @ f.dense(pos).T
    recent = pos[:RECENT]
    part: dict[str, Callable[[], np.ndarray]] = {
        "vec": lambda: model.rank(dense), "logit": lambda: model.score(dense),
        "vnear": lambda: near.max(1), "w1": lambda: words.closest(rows_, liked, 1),
        "w3": lambda: words.closest(rows_, liked, 3),
        "ridge": lambda: fits["ridge"].score(rows_),
        "b1": lambda: words.closest(rows_b, fits["liked_b"], 1),
        "bridge": lambda: fits["bridge"].score(rows_b),
        "joint": lambda: fits["joint"](dense, rows_),
        "w1_recent": lambda: words.closest(rows_, f.words(recent), 1),
        "vnear_recent": lambda: near[:, :len(recent)].max(1)}
    return {k: np.asarray(part[k](), np.float64) for k in wanted}


def score_blend(blend: dict[str, float], members: list[Member], proxy: Proxy,
                parts: list[dict[int, dict[str, np.ndarray]]]) -> dict[str, float]:
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
    out["ndcg_se"] = round(float(np.std(rows["ndcg"]) / np.sqrt(len(rows["ndcg"]))), 4)
    return out


def label(blend: dict[str, float]) -> str:
    return " + ".join(f"{k} {w:g}" for k, w in blend.items() if w)


def dev_grid() -> list[dict[str, float]]:
    """Every part alone, then blends of vec with one, two or three words parts."""
    grid = [{p: 1.0} for p in PARTS]
    words_parts = ("w1", "ridge", "b1", "bridge", "joint", "w1_recent")
    for a in words_parts:
        grid += [{"vec": 1 - w, a: w} for w in (0.3, 0.5, 0.7)]
    for a, b in itertools.combinations(words_parts, 2):
        grid += [{"vec": v, a: (1 - v) * s, b: (1 - v) * (1 - s)}
                 for v in (0.3, 0.4, 0.5) for s in (0.3, 0.5, 0.7)]
    for a, b, c in itertools.combinations(words_parts, 3):
        grid += [{"vec": v, a: (1 - v) / 3, b: (1 - v) / 3, c: (1 - v) / 3}
                 for v in (0.3, 0.4, 0.5)]
    return grid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common_arguments(ap)
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--parts", default="", help="only these parts, e.g. vec,w1,ridge,b1")
    ap.add_argument("--parts-only", action="store_true",
                    help="only compute and save the split's parts (no blend is scored)")
    ap.add_argument("--blend", action="append", default=[],
                    help='test: also score this blend, e.g. "vec=0.4 b1=0.3 bridge=0.3"')
    args = ap.parse_args()
    _, proxy, before, f = setup(args)
    dev = proxy.dev[:args.tune_members]
    needed = np.unique(np.concatenate([
        proxy.background, *proxy.weeks,
        *(np.concatenate([m.positive, m.negative]) for m in dev + proxy.test)]))
    big = Bigrams(f, before, needed, args.cache.parent / "paperfeed-bench-recommend-words")
    members = dev if args.split == "dev" else proxy.test
    saved = (args.cache.parent / "paperfeed-bench-recommend-words"
             / f"parts-{args.split}-{args.parts or 'all'}.pkl")
    if saved.exists():  # the parts are slow (~30 min on the loaded box), blends are not
        with open(saved, "rb") as fh:
            parts = pickle.load(fh)
    else:
        parts = []
        for n, m in enumerate(members):
            if n % 25 == 0:
                log(f"{args.split} parts: member {n} of {len(members)}")
            parts.append(member_parts(f, big, proxy, m, proxy.background,
                                      tuple(args.parts.split(",")) if args.parts else PARTS))
        with open(saved, "wb") as fh:
            pickle.dump(parts, fh)
    if args.parts_only:
        return
    if args.split == "dev":
        grid = dev_grid()
        log(f"{len(grid)} blends on dev")
        rows = [{"blend": label(b), **score_blend(b, members, proxy, parts)} for b in grid]
        rows.sort(key=lambda r: -float(str(r["ndcg"])))
        print_table("Dev members, best 40 blends", rows[:40])
        alone = [r for r in rows if " + " not in str(r["blend"])]
        print_table("Dev members, each part alone", alone)
        write_json("recommend-blend-dev", {"dev": rows})
        return
    blends = dict(TEST_BLENDS)
    for text in args.blend:
        b = {k: float(v) for k, v in (p.split("=") for p in text.split())}
        blends[label(b)] = b
    rows = [{"blend": name, **score_blend(b, members, proxy, parts)}
            for name, b in blends.items()]
    print_table("Test members", rows)
    write_json("recommend-blend-test", {"test": rows, "blends": blends})


if __name__ == "__main__":
    main()

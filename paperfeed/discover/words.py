"""For you's words half: papers as sparse tf-idf rows of the keyword index's stems (and stem
bigrams), the cosine of a candidate to a member's closest liked papers by those rows, and a
per-member ridge classifier on the stems' rows (`fit_ridge`, `score_many`).

Why words at all: on the authors-as-members proxy (bench/recommend.py) arxiv-sanity-lite's
tf-idf SVM beat every model on the static vectors (test nDCG@10 0.504 against 0.451), and the
mean cosine of a candidate's tf-idf row to its 3 closest liked papers alone reached 0.525 on
dev. Method names, notation and rare terms pin a paper to a line of work better than a
384-float average of word vectors does. `MemberModel.rank` fuses this score with the vector
half (docs/recommendations.md has the measurements).

The rows are the keyword index's own analysis (index/fulltext.py `term_counts`: English
stems of title + abstract), weighted as arxiv-sanity-lite weights its tf-idf: sublinear tf
(1 + ln tf) times idf (ln(N / (1 + df)), df from the keyword index), stems in more than
`MAX_DF` of the papers dropped, rows L2-normalised. A stem is known by its CRC-32, so rows
of papers computed apart (a period's candidates, a member's liked papers) compare without a
shared vocabulary. The sparse products are scipy's CSR products over the columns of the
candidates' stems (`csr`): a digest ranking 10,000 members spends its time there, and a
numpy expansion of matching postings (`np.repeat` / `np.bincount`, kept in bench/harness/
words_numpy.py) was several times slower (docs/recommendations.md has both timings).

Bigrams (`paper_bigrams`: adjacent stems once stop words are out, "graph neural") are what
arxiv-sanity-lite's tf-idf has and the stems lack; the keyword index holds no bigram
frequencies, so `BigramIdf` counts them over the ranking run's own candidate list. On the
bench the closest liked paper by stems + bigrams, fused with the vectors and the ridge, took
test nDCG@10 from 0.502 to 0.531 (docs/recommendations.md, fifth round); weighing the
newest liked papers most (`recency`) and the member's categories (discover/recommend.py)
took it to 0.544 (sixth round).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from ..index.fulltext import analyse, term_counts
from .highlight import STOPWORDS

MAX_DF = 0.1  # stems in more papers than this say nothing about a line of work
MAX_TERMS = 64  # a row keeps its heaviest stems: bounds the products' cost
GROUP_ROWS = 3_000  # liked papers per sparse product in `closest_many`
CLOSEST = 1  # liked papers averaged (dev nDCG@10 fused with the vectors: k=1 0.540, 3 0.527)
# A row of stems and stem bigrams keeps its heaviest entries: 256 (dev nDCG@10 0.574 fused,
# 0.565 at 128, 0.512 at 64; a paper has ~80 bigrams besides its stems, docs/recommendations.md)
BIGRAM_TERMS = 256
# A candidate list shorter than this counts its bigrams as if it were this long (the others
# holding none): a quiet day's 20 papers would otherwise find every bigram in 5 % of papers.
MIN_BIGRAM_PAPERS = 1_000
# `recency`: the newest liked paper weighs 1, the 30th ~0.68, the oldest down to 0.5 (decays
# of 10 / 30 / 60 papers in the shipped blend: dev nDCG@10 0.582 / 0.584 / 0.583)
RECENCY_FLOOR = 0.5
RECENCY_PAPERS = 30.0


@dataclass(frozen=True)
class WordRows:
    """Sparse rows: row i's stems are ids[indptr[i]:indptr[i + 1]], weights alike."""

    indptr: np.ndarray  # (n + 1,) int64
    ids: np.ndarray  # int64 CRC-32 of the stems
    weights: np.ndarray  # float32, each row of unit length (or empty)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def empty(cls, n: int = 0) -> WordRows:
        return cls(np.zeros(n + 1, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    def take(self, rows: Sequence[int] | np.ndarray) -> WordRows:
        rows = np.asarray(rows, dtype=np.int64)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        sizes = ends - starts
        picked = _ranges(starts, sizes)
        return WordRows(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                        self.ids[picked], self.weights[picked])

    @classmethod
    def concat(cls, parts: Sequence[WordRows]) -> WordRows:
        if not parts:
            return cls.empty()
        sizes = np.concatenate([np.diff(p.indptr) for p in parts])
        return cls(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                   np.concatenate([p.ids for p in parts]),
                   np.concatenate([p.weights for p in parts]))


def stem_id(stem: str) -> int:
    return zlib.crc32(stem.encode("utf-8", "surrogatepass"))


def paper_terms(title: str | None, abstract: str | None) -> dict[str, int]:
    """Stem -> occurrences in title + abstract, stop words left out (as `shared_terms`)."""
    counts = term_counts(f"{title or ''} {abstract or ''}")
    return {s: n for s, (n, form) in counts.items() if form.lower() not in STOPWORDS}


def paper_bigrams(title: str | None, abstract: str | None) -> dict[str, int]:
    """Stem bigram ("graph neural") -> occurrences: adjacent stems of title + abstract once
    stop words are left out (as scikit-learn forms the bigrams of arxiv-sanity-lite's tf-idf),
    by the keyword index's own analysis (index/fulltext.py `analyse`)."""
    return paper_terms_and_bigrams(title, abstract)[1]


def paper_terms_and_bigrams(title: str | None, abstract: str | None
                            ) -> tuple[dict[str, int], dict[str, int]]:
    """`paper_terms` and `paper_bigrams` of one paper from one analysis of its text."""
    stems: dict[str, int] = {}
    first: dict[str, str] = {}
    kept: list[str] = []
    for s, word in analyse(f"{title or ''} {abstract or ''}"):
        stems[s] = stems.get(s, 0) + 1
        first.setdefault(s, word)
        if word.lower() not in STOPWORDS:
            kept.append(s)
    bigrams: dict[str, int] = {}
    for a, b in itertools.pairwise(kept):
        bigrams[f"{a} {b}"] = bigrams.get(f"{a} {b}", 0) + 1
    return {s: n for s, n in stems.items() if first[s].lower() not in STOPWORDS}, bigrams


def bigram_forms(title: str | None, abstract: str | None) -> dict[str, str]:
    """Stem bigram -> the two words as first written ("graph neural"), for the why."""
    kept = [(s, w if w.isupper() else w.lower())
            for s, w in analyse(f"{title or ''} {abstract or ''}")
            if w.lower() not in STOPWORDS]
    out: dict[str, str] = {}
    for (a, wa), (b, wb) in itertools.pairwise(kept):
        out.setdefault(f"{a} {b}", f"{wa} {wb}")
    return out


Bigrams = tuple[np.ndarray, np.ndarray]  # a paper's bigrams: CRC-32 ids (int64), counts


def bigram_ids(counts: Mapping[str, int]) -> Bigrams:
    """`paper_bigrams` as arrays (what a row needs: ids and counts)."""
    return (np.fromiter((stem_id(g) for g in counts), np.int64, len(counts)),
            np.fromiter(counts.values(), np.float64, len(counts)))


@dataclass(frozen=True)
class BigramIdf:
    """Bigram weights from the bigrams' document frequencies in `papers` papers (a ranking
    run's candidates: the keyword index holds no bigrams), scaled to a corpus of `total`:
    ln(total / (1 + df * total / n)), n = `papers` or `MIN_BIGRAM_PAPERS` if more, 0 above
    `MAX_DF`; a bigram none of the papers holds weighs ln(total), as rare as a term can be.
    On the bench this measured level with a df from 50,000 papers of the whole corpus
    (docs/recommendations.md)."""

    vocab: np.ndarray  # sorted bigram ids
    df: np.ndarray  # papers holding each
    papers: int
    total: int

    @classmethod
    def of(cls, bigrams: Sequence[Bigrams], total: int) -> BigramIdf:
        ids = [b[0] for b in bigrams]
        vocab, df = np.unique(np.concatenate(ids) if ids else np.zeros(0, np.int64),
                              return_counts=True)  # a paper's ids are distinct
        return cls(vocab, df, len(bigrams), max(total, len(bigrams), 1))

    def weights(self, ids: np.ndarray) -> np.ndarray:
        if len(self.vocab):
            at = np.minimum(np.searchsorted(self.vocab, ids), len(self.vocab) - 1)
            df = np.where(self.vocab[at] == ids, self.df[at], 0)
        else:
            df = np.zeros(len(ids))
        scaled = df * self.total / max(self.papers, MIN_BIGRAM_PAPERS)
        return np.where(scaled <= MAX_DF * self.total, np.log(self.total / (1 + scaled)), 0.0)

    def __call__(self, bigram: str) -> float:
        return float(self.weights(np.asarray([stem_id(bigram)], np.int64))[0])


def weigh(counts: Sequence[Mapping[str, int]], idf: Mapping[str, float],
          bigrams: Sequence[Bigrams] | None = None,
          bigram_idf: BigramIdf | None = None) -> WordRows:
    """Rows from each paper's stem counts; `idf` gives each stem's weight (0 or missing:
    dropped, see `idf_from`). With `bigrams` (each paper's `bigram_ids`) and their
    weights, rows of stems and bigrams together, cut to `BIGRAM_TERMS` entries."""
    sizes, ids, tfs, weights = [], [], [], []
    for paper in counts:
        kept = [(stem_id(s), n, idf[s]) for s, n in paper.items() if idf.get(s, 0.0) > 0]
        sizes.append(len(kept))
        for i, n, w in kept:
            ids.append(i)
            tfs.append(n)
            weights.append(w)
    entries = (np.asarray(ids, np.int64), np.asarray(tfs, np.float64),
               np.asarray(weights, np.float64))
    if bigrams is None or bigram_idf is None:
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return rows(indptr, *entries)
    b_sizes = np.asarray([len(b[0]) for b in bigrams], np.int64)
    b_ids = np.concatenate([b[0] for b in bigrams]) if bigrams else np.zeros(0, np.int64)
    b_tf = np.concatenate([b[1] for b in bigrams]) if bigrams else np.zeros(0)
    papers = np.arange(len(counts))
    order = np.argsort(np.concatenate([np.repeat(papers, sizes), np.repeat(papers, b_sizes)]),
                       kind="stable")  # each paper's stems, then its bigrams
    sizes_ = np.asarray(sizes, np.int64) + b_sizes
    return rows(np.concatenate([[0], np.cumsum(sizes_)]).astype(np.int64),
                np.concatenate([entries[0], b_ids])[order],
                np.concatenate([entries[1], b_tf])[order],
                np.concatenate([entries[2], bigram_idf.weights(b_ids)])[order], BIGRAM_TERMS)


def idf_from(frequencies: Mapping[str, int], papers: int) -> dict[str, float]:
    """ln(N / (1 + df)) per stem, 0 for stems in more than `MAX_DF` of the `papers`."""
    n = max(papers, 1)
    return {s: (math.log(n / (1 + df)) if df <= MAX_DF * n else 0.0)
            for s, df in frequencies.items()}


def rows(indptr: np.ndarray, ids: np.ndarray, tf: np.ndarray, idf: np.ndarray,
         max_terms: int = MAX_TERMS) -> WordRows:
    """Sublinear tf-idf rows from per-entry counts and idf weights (entries with idf <= 0
    dropped), each row cut to its `max_terms` heaviest stems, sorted by id, unit length.
    `ids` are CRC-32s (0 <= id < 2^32): sorting by (row, id) is one sort of row << 32 | id
    (two plain sorts instead of two lexsorts: half the time of a digest's liked rows)."""
    weight = (1.0 + np.log(np.maximum(tf, 1.0))) * idf
    row = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    keep = weight > 0
    row, ids, weight = row[keep], ids[keep], weight[keep]
    if len(row) and np.diff(np.searchsorted(row, np.arange(len(indptr)))).max() > max_terms:
        # heaviest first within each row (the rows are in order: the fraction sorts within)
        order = np.argsort(row + (1.0 - weight / (weight.max() * 1.01)), kind="stable")
        row, ids, weight = row[order], ids[order], weight[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row)
        keep = rank < max_terms
        row, ids, weight = row[keep], ids[keep], weight[keep]
    order = np.argsort((row << 32) | ids, kind="stable")  # by id within each row (CRC-32 ids)
    row, ids, weight = row[order], ids[order], weight[order]
    norms = np.sqrt(np.bincount(row, weight ** 2, minlength=len(indptr) - 1))
    weight = weight / np.maximum(norms[row], 1e-12)
    sizes = np.bincount(row, minlength=len(indptr) - 1)
    return WordRows(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                    ids.astype(np.int64), weight.astype(np.float32))


def cosines(a: WordRows, b: WordRows) -> np.ndarray:
    """(len(a), len(b)) cosines: one sparse product (scipy's CSR, over the stems of `a`)."""
    if not len(a) or not len(b) or not len(a.ids) or not len(b.ids):
        return np.zeros((len(a), len(b)), np.float32)
    columns = np.unique(a.ids)
    return np.asarray((csr(a, columns) @ csr(b, columns).T).toarray(), np.float32)


def csr(rows_: WordRows, columns: np.ndarray) -> sparse.csr_matrix:
    """`rows_` as a CSR matrix over `columns` (sorted stem ids); other stems are left out
    (they meet nothing in a product with papers whose stems are `columns`)."""
    at = np.minimum(np.searchsorted(columns, rows_.ids), max(len(columns) - 1, 0))
    hit = (columns[at] == rows_.ids) if len(columns) else np.zeros(len(rows_.ids), bool)
    row = np.repeat(np.arange(len(rows_)), np.diff(rows_.indptr))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row[hit], minlength=len(rows_)))])
    return sparse.csr_matrix((rows_.weights[hit], at[hit].astype(np.int32), indptr),
                             shape=(len(rows_), len(columns)))


def recency(n: int) -> np.ndarray:
    """Weights of a member's `n` liked papers, newest first: from 1 down towards
    RECENCY_FLOOR over about RECENCY_PAPERS papers. Interests drift: the closest of the
    recent papers says more than the closest of old ones (bench: +0.003 to +0.007
    nDCG@10, docs/recommendations.md, sixth round)."""
    return RECENCY_FLOOR + (1 - RECENCY_FLOOR) * np.exp(-np.arange(n) / RECENCY_PAPERS)


def closest(candidates: WordRows, liked: WordRows, k: int = CLOSEST,
            weights: np.ndarray | None = None) -> np.ndarray:
    """Per candidate, the mean cosine to its `k` closest liked papers (0s without any), each
    liked paper's cosines times its `weights` (e.g. `recency`) if given."""
    if not len(liked):
        return np.zeros(len(candidates), np.float32)
    sims = cosines(candidates, liked)
    return _top_mean(sims if weights is None else sims * np.asarray(weights, np.float32), k)


def closest_many(candidates: WordRows, liked: Sequence[WordRows], k: int = CLOSEST,
                 weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """`closest` for many members (members x candidates): the candidates' CSR matrix is built
    once, then one sparse product per group of members holding up to `GROUP_ROWS` liked
    papers (its dense result is those papers x candidates: ~12 MB at 2,000 candidates).
    `weights`, if given, are each member's liked papers' (as `closest`'s)."""
    out = np.zeros((len(liked), len(candidates)), np.float32)
    if not len(candidates) or not len(candidates.ids):
        return out
    columns = np.unique(candidates.ids)
    cand_t = csr(candidates, columns).T.tocsr()  # stems x candidates: the product's right side
    for first, last in member_groups(liked):
        sizes = np.asarray([len(r) for r in liked[first:last]])
        if sizes.sum():
            sims = np.asarray((csr(WordRows.concat(list(liked[first:last])), columns) @ cand_t
                               ).toarray(), np.float32)  # liked papers x candidates
            if weights is not None:
                sims *= np.concatenate(weights[first:last]).astype(np.float32)[:, None]
            starts = np.cumsum(sizes) - sizes
            members = np.flatnonzero(sizes) + first
            if k == 1:  # the closest of each member's papers, in one pass
                out[members] = np.maximum.reduceat(sims, starts[sizes > 0], axis=0)
            else:
                for member in members:
                    start = starts[member - first]
                    out[member] = _top_mean(sims[start:start + sizes[member - first]].T, k)
    return out


def member_groups(liked: Sequence[WordRows]) -> Iterator[tuple[int, int]]:
    """[first, last) ranges of members holding up to `GROUP_ROWS` liked papers together
    (a member with more is a group of its own): one sparse product per group."""
    first = 0
    while first < len(liked):
        last, rows = first, 0
        while last < len(liked) and (last == first or rows + len(liked[last]) <= GROUP_ROWS):
            rows += len(liked[last])
            last += 1
        yield first, last
        first = last


@dataclass(frozen=True)
class WordModel:
    """A member's linear scorer over tf-idf rows, kept in dual form: the weights are
    `alpha` times the rated papers' rows plus `shared_alpha` times the background's
    (`shared`: the same rows for every member, so a digest computes their cosines once)."""

    rows: WordRows
    alpha: np.ndarray  # (len(rows),)
    bias: float
    shared: WordRows = field(default_factory=WordRows.empty)
    shared_alpha: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def score(self, candidates: WordRows) -> np.ndarray:
        return score_many(candidates, [self])[0]


def score_many(candidates: WordRows, models: Sequence[WordModel]) -> np.ndarray:
    """`WordModel.score` for many members (members x candidates): each member's weights in
    primal form (alpha times their rated papers' rows: a sparse row over the stems) in one
    sparse product with the candidates per group of members, and the background's cosines
    to the candidates once per background (a dense product with the members' alphas)."""
    out = np.tile(np.asarray([m.bias for m in models], np.float32)[:, None],
                  (1, len(candidates)))
    if not len(candidates) or not len(candidates.ids):
        return out
    columns = np.unique(candidates.ids)
    cand_t = csr(candidates, columns).T.tocsr()
    by_shared: dict[int, list[int]] = {}
    for i, m in enumerate(models):
        if len(m.shared):
            by_shared.setdefault(id(m.shared), []).append(i)
    for members in by_shared.values():
        sims = (csr(models[members[0]].shared, columns) @ cand_t).toarray()  # shared x cands
        out[members] += np.stack([models[i].shared_alpha for i in members]) @ sims
    own = [m.rows for m in models]
    for first, last in member_groups(own):
        sizes = np.asarray([len(r) for r in own[first:last]])
        if sizes.sum():
            alpha = np.concatenate([models[i].alpha for i in range(first, last)])
            members = sparse.csr_matrix(
                (alpha.astype(np.float32), np.arange(len(alpha)),
                 np.concatenate([[0], np.cumsum(sizes)])), shape=(last - first, len(alpha)))
            weights = members @ csr(WordRows.concat(own[first:last]), columns)
            out[first:last] += (weights @ cand_t).toarray()
    return out


def fit_ridge(positive: WordRows, negative: WordRows, background: WordRows,
              lam: float = 1.0, background_weight: float = 1.0) -> WordModel:
    """Least-squares classifier (targets 1 / -1) on tf-idf rows, L2 penalty `lam`, solved in
    the n x n kernel of the rated and background papers (n ~ 300-500: a few ms), weighted as
    `recommend.fit` weighs: each rated paper 1, the background as much as the positives."""
    if not len(positive):
        return WordModel(WordRows.empty(), np.zeros(0, np.float32), 0.0)
    rated = WordRows.concat([positive, negative])
    rows_ = WordRows.concat([rated, background])
    y = np.concatenate([np.ones(len(positive)), -np.ones(len(negative) + len(background))])
    weight = np.concatenate([np.ones(len(rated)),
                             np.full(len(background), background_weight * len(positive)
                                     / max(len(background), 1))])
    kernel = cosines(rows_, rows_).astype(np.float64) + 1.0  # + 1: the bias's column
    kernel[np.diag_indices_from(kernel)] += lam / weight
    alpha = np.linalg.solve(kernel, y).astype(np.float32)
    return WordModel(rated, alpha[:len(rated)], float(alpha.sum()), background,
                     alpha[len(rated):])


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    k = min(k, sims.shape[1])
    if k == 1:
        return sims.max(axis=1)
    if k == sims.shape[1]:
        return sims.mean(axis=1)
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], starts[i] + sizes[i])."""
    total = int(sizes.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(starts, sizes) + np.arange(total) - offsets


def terms_of(papers: Iterable[tuple[str | None, str | None]]) -> list[dict[str, int]]:
    return [paper_terms(title, abstract) for title, abstract in papers]

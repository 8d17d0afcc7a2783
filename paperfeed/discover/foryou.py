"""For you: the new papers ranked by a member's own model, each with why.

The model is discover/recommend.py's (logistic regression on the static tier's vectors,
chosen by bench/recommend.py) with its words half (discover/words.py: the candidate's cosine
to the closest liked paper by tf-idf rows of the keyword index's stems and stem bigrams, the
newest liked papers weighing most, and a per-member ridge on the stems' rows; test nDCG@10
0.451 -> 0.502 with stems alone, bench/recommend_words.py, -> 0.531 with this blend,
bench/recommend_blend.py), the member's categories (-> 0.544) and, counted against a
paper, how crowded its neighbourhood in the vector index is (-> 0.555). The bigrams'
document frequencies are counted over each candidate list (the keyword index holds stems
only; docs/recommendations.md measures this against a sample of the whole corpus). This
module feeds it a member's signals (store.ratings:
ratings, upvotes, saved papers), keeps one fitted model per member until their signals
change (a refit costs a few ms; the cache key *is* the signals, so a rating, an upvote or
a save made anywhere invalidates it without anyone telling this cache), and explains each
recommendation by the rated papers it is closest to and the words it shares with them
(discover/similar.py `shared_terms`, as similar papers explain themselves).

A member with no signals gets a useful default instead: trending in the categories they
picked (else the period's newest papers there).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

from ..catalog import Catalog
from ..index.fulltext import analyse
from ..models import Signals, StoredPaper
from . import daily
from .recommend import (
    CROWDING_K,
    MemberModel,
    category_affinity,
    fit,
    neighbourhood_crowding,
)
from .similar import shared_terms
from .trending import ranked
from .visibility import visible
from .words import (
    MAX_DF,
    BigramIdf,
    Bigrams,
    WordModel,
    WordRows,
    bigram_forms,
    bigram_ids,
    closest,
    fit_ridge,
    idf_from,
    paper_terms_and_bigrams,
    recency,
    stem_id,
    weigh,
)

Span = Literal["day", "week", "all"]
SPANS: tuple[Span, ...] = ("day", "week", "all")
CANDIDATE_CAP = 50_000  # papers of a period scored exactly; "all" asks the vector index
BACKGROUND = 256  # random papers as weak negatives (recommend.fit)
CACHED_MEMBERS = 2048
CACHED_PAPER_TERMS = 50_000  # papers' stem and bigram counts kept for the words half (~5 KB)
WHY_PAPERS = 2
WHY_TERMS = 5
WHY_BIGRAMS = 2  # of the terms, at most this many two-word ones ("graph neural")
WHY_PAIR_MAX_DF = 0.25  # a why's pair may hold one word this common beside a rare one
ALL_DAYS = (date(1, 1, 1), date(9999, 12, 31))
# A fit's small matrix products run fastest on one BLAS thread: two threads on a busy 2-core
# machine took a refit from ~35 ms to 130-155 ms (docs/recommendations.md).
BLAS = ThreadpoolController()


@dataclass(frozen=True)
class Why:
    papers: list[StoredPaper]  # the member's liked papers it is closest to, closest first
    terms: list[str]  # key words (and word pairs, "graph neural") it shares with them


@dataclass(frozen=True)
class Recommendation:
    paper: StoredPaper
    score: float
    why: Why | None = None  # None on the default list (no signals yet)


@dataclass(frozen=True)
class ForYou:
    items: list[Recommendation]
    personal: bool  # False: the default for a member without signals
    signals: Signals = field(default_factory=lambda: Signals((), ()))


@dataclass(frozen=True)
class Fitted:
    signals: Signals
    model: MemberModel
    positive_keys: tuple[int, ...]  # rows of model.positive, in order
    ridge: WordModel  # the words half's per-member model on the stems' rows (discover/words.py)
    recency: np.ndarray  # each liked paper's weight by its date (words.recency), in order
    categories: list[str | None]  # the liked papers' primary categories


class Analysed(NamedTuple):
    """What the words half and the category part read of a paper (kept per paper key)."""

    stems: dict[str, int]
    bigrams: Bigrams
    category: str | None  # primary arXiv category
    published: date | None


@dataclass(frozen=True)
class CandidateParts:
    """What every member's ranking reads of a candidate list, the same for all of them: stem
    rows (for the ridge), the bigrams' weights counted over the list, stem + bigram rows by
    them, each candidate's primary category and its crowding
    (`recommend.neighbourhood_crowding`)."""

    stems: WordRows
    idf: BigramIdf
    grams: WordRows
    categories: list[str | None]
    crowding: np.ndarray

    def take(self, rows: list[int]) -> CandidateParts:
        return CandidateParts(self.stems.take(rows), self.idf, self.grams.take(rows),
                              [self.categories[i] for i in rows], self.crowding[rows])


class Recommender:
    """One per process (the app's, the digest job's): fitted models by member."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._models: OrderedDict[int, tuple[tuple, Fitted]] = OrderedDict()
        self._lock = threading.Lock()
        # paper key -> its stem and bigram counts, category and date (`Analysed`)
        self._terms: dict[int, Analysed] = {}
        self._idf: dict[str, float] = {}
        self._idf_papers = -1  # the keyword index's size when the idf table was started
        self._crowded: dict[int, float] = {}  # paper key -> its crowding (`_crowding`)
        self._crowded_size = -1  # the vector index's size when those were started

    def fitted(self, user_id: int) -> Fitted:
        """The member's model, refitted only when their signals (or the index) changed."""
        signals = self.catalog.store.ratings.signals(user_id)
        tier = self.catalog.indexes.semantic.index
        key = (signals.positive, signals.negative, len(tier))
        with self._lock:
            cached = self._models.get(user_id)
            if cached and cached[0] == key:
                self._models.move_to_end(user_id)
                return cached[1]
        vectors = self.vectors(list(signals.positive) + list(signals.negative))
        positive = [k for k in signals.positive if k in vectors]
        negative = [k for k in signals.negative if k in vectors]
        back_keys, back = self._background()
        with BLAS.limit(limits=1, user_api="blas"):
            model = fit(_matrix(vectors, positive), _matrix(vectors, negative), back)
            ridge = fit_ridge(self.words(positive), self.words(negative),
                              self.words(back_keys))
        fitted = Fitted(signals, model, tuple(positive), ridge, *self._liked(positive))
        with self._lock:
            self._models[user_id] = (key, fitted)
            while len(self._models) > CACHED_MEMBERS:
                self._models.popitem(last=False)
        return fitted

    def _liked(self, positive: list[int]) -> tuple[np.ndarray, list[str | None]]:
        """Each liked paper's `recency` weight (by its date, newest first) and primary
        category, in order."""
        liked = self._analysed(positive)
        dates = [liked[k].published if k in liked else None for k in positive]
        newest = sorted(range(len(positive)), key=lambda i: dates[i] or date.min, reverse=True)
        weights = np.empty(len(positive))
        weights[newest] = recency(len(positive))
        return weights, [liked[k].category if k in liked else None for k in positive]

    def recommend(self, user_id: int, span: Span = "day", limit: int = 30) -> ForYou:
        """The latest day's (or week's, or all) papers ranked for the member, with why."""
        fitted = self.fitted(user_id)
        if fitted.model.empty:
            return ForYou(self.default(fitted.signals, span, limit), False, fitted.signals)
        return self._ranked(fitted, self._candidates(span, fitted.model, limit), limit,
                            shared=span != "all")

    def recommend_between(self, user_id: int, start: date, end: date,
                          limit: int) -> ForYou:
        """The papers listed in [start, end] ranked for the member (a digest's period);
        empty and not personal for a member without signals."""
        fitted = self.fitted(user_id)
        if fitted.model.empty:
            return ForYou([], False, fitted.signals)
        keys, _ = self.catalog.store.papers.keys_matching(start, end, [], CANDIDATE_CAP)
        return self._ranked(fitted, keys or [], limit)

    def _ranked(self, fitted: Fitted, candidates: list[int], limit: int,
                shared: bool = True) -> ForYou:
        """The `candidates` the member has not signalled, ranked; the words half of a list
        `shared` by members (a period's papers) is computed once for all of them."""
        vectors = self.vectors(candidates)
        listed = [k for k in candidates if k in vectors]
        seen = set(fitted.signals.positive) | set(fitted.signals.negative)
        kept = [i for i, k in enumerate(listed) if k not in seen]
        keys = [listed[i] for i in kept]
        if not keys:
            return ForYou([], True, fitted.signals)
        cand = self.candidate_parts(listed, shared).take(kept)
        scores = self.scores(fitted, _matrix(vectors, keys), cand)
        order = np.argsort(-scores, kind="stable")
        best = visible(self.catalog, [keys[i] for i in order[:limit * 2]], key=int)[:limit]
        papers = {p.key: p for p in self.catalog.store.papers.get_many(best)}
        score = dict(zip(keys, scores.tolist(), strict=True))
        items = [Recommendation(papers[k], score[k],
                                self.why(fitted, papers[k], vectors[k], cand.idf))
                 for k in best if k in papers]
        return ForYou(items, True, fitted.signals)

    def scores(self, fitted: Fitted, vectors: np.ndarray, cand: CandidateParts) -> np.ndarray:
        """The member's ranking scores of the candidates (their `vectors` and words, in
        order): the vector half, the closest liked paper by stems and bigrams (recent liked
        papers weigh more), the ridge, the member's liked papers in each candidate's
        category and, against it, how crowded its neighbourhood is (`MemberModel.rank`)."""
        liked = self._words(list(fitted.positive_keys), cand.idf)
        return fitted.model.rank(vectors, words=closest(cand.grams, liked,
                                                        weights=fitted.recency),
                                 ridge=fitted.ridge.score(cand.stems),
                                 category=category_affinity(cand.categories,
                                                            fitted.categories),
                                 crowding=cand.crowding)

    def to_rate(self, user_id: int, k: int = 10) -> list[StoredPaper]:
        """The `k` recent papers the member's model is least sure of (active learning);
        unrated ones only. Without signals, the most upvoted recent papers."""
        fitted = self.fitted(user_id)
        seen = set(fitted.signals.positive) | set(fitted.signals.negative)
        keys = [key for key in self._candidates("week", fitted.model, k) if key not in seen]
        if len(keys) < k:
            keys += [key for key in self._candidates("all", fitted.model, k * 5)
                     if key not in seen and key not in keys]
        keys = visible(self.catalog, keys, key=int)
        vectors = self.vectors(keys)
        keys = [key for key in keys if key in vectors]
        if not keys:
            return []
        picked = [keys[i] for i in fitted.model.uncertain(_matrix(vectors, keys), k)]
        papers = {p.key: p for p in self.catalog.store.papers.get_many(picked)}
        return [papers[key] for key in picked if key in papers]

    def why(self, fitted: Fitted, paper: StoredPaper, vector: np.ndarray,
            idf: BigramIdf | None = None) -> Why:
        """The liked papers closest to `paper` and the terms it shares with them: the
        rarest shared word pairs by `idf` (the candidate list's), then single words."""
        closest = [fitted.positive_keys[i] for i, _ in fitted.model.explain(vector, WHY_PAPERS)]
        rated = self.catalog.store.papers.get_many(closest)
        analysed = self._analysed([paper.key] + [p.key for p in rated])
        theirs = [analysed[p.key].bigrams[0] for p in rated if p.key in analysed]
        terms: list[str] = []
        if paper.key in analysed and theirs and np.isin(analysed[paper.key].bigrams[0],
                                                         np.concatenate(theirs)).any():
            mine = bigram_forms(paper.title, paper.abstract)
            ids = {stem_id(g): g for g in mine}
            pairs = self._saying(ids[i] for i in np.intersect1d(analysed[paper.key].bigrams[0],
                                                                 np.concatenate(theirs))
                                 if i in ids)
            weight = {g: idf(g) if idf is not None else 1.0 for g in pairs}
            terms = [mine[g] for g in sorted(pairs, key=lambda g: (-weight[g], g))
                     if weight[g] > 0][:WHY_BIGRAMS]
        # by stem: two liked papers may write one word two ways ("ability", "abilities")
        said = {s for t in terms for s, _ in analyse(t)}
        for words in shared_terms(self.catalog, paper, rated).values():
            for word in words:
                stems = {s for s, _ in analyse(word)}
                if not stems & said:
                    terms.append(word)
                said |= stems
        order = {key: i for i, key in enumerate(closest)}
        return Why(sorted(rated, key=lambda p: order[p.key]), terms[:WHY_TERMS])

    def _saying(self, pairs: Iterable[str]) -> list[str]:
        """The stem pairs that say something: one stem in at most `MAX_DF` of the papers, the
        other in at most `WHY_PAIR_MAX_DF` ("full precision", "graph neural"; not "experiments
        show" nor "between teacher", rare as those pairs may be)."""
        split = [pair.split(" ") for pair in pairs]
        fulltext = self.catalog.indexes.fulltext
        papers = max(fulltext.num_docs(), 1)
        df = fulltext.document_frequencies(sorted({s for pair in split for s in pair}))
        share = {s: df.get(s, 0) / papers for pair in split for s in pair}
        return [" ".join(pair) for pair in split
                if min(share[s] for s in pair) <= MAX_DF
                and max(share[s] for s in pair) <= WHY_PAIR_MAX_DF]

    def default(self, signals: Signals, span: Span, limit: int) -> list[Recommendation]:
        """Trending in the member's picked categories; the newest there if none trend."""
        categories = list(signals.categories)
        keys = [v.paper_key for v in ranked(self.catalog)]
        if categories:
            inside = self.catalog.store.papers.keep_matching(keys, None, None, categories)
            keys = [k for k in keys if k in inside]
        papers = self.catalog.store.papers.get_many(keys[:limit])
        if len(papers) < limit:
            start, end = self._span(span)
            taken = {p.key for p in papers}
            papers += [p for p in self.catalog.store.papers.newest_matching(
                start, end, categories, limit) if p.key not in taken][:limit - len(papers)]
        return [Recommendation(p, 0.0) for p in papers]

    def vectors(self, keys: list[int]) -> dict[int, np.ndarray]:
        """Static-tier vectors by paper key, L2-normalised (the model's input), from the
        memory-mapped matrix (index/dense.py); papers not indexed yet are left out."""
        if not keys:
            return {}
        dense = self.catalog.indexes.semantic.index.dense
        wanted = np.asarray(keys, dtype=np.int64)
        wanted = wanted[dense.held(wanted)]
        if not len(wanted):
            return {}
        found = dense.get(wanted)
        found /= np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12)
        return dict(zip(wanted.tolist(), found, strict=True))

    def words(self, keys: list[int]) -> WordRows:
        """The stems' tf-idf rows of `keys` (in order), from their titles and abstracts and
        the keyword index's document frequencies. A period's candidates and the background
        are the same for every member: kept until the list or the keyword index changes
        (~0.2 ms a paper to compute, docs/recommendations.md)."""
        if len(keys) < 200:
            return self._words(keys)
        return self.catalog.cached("foryou-words", tuple(keys), self.catalog.indexes.version(),
                                   lambda: self._words(keys), size=8)

    def candidate_parts(self, keys: list[int], shared: bool = True) -> CandidateParts:
        """The candidate list's parts (`CandidateParts`) of `keys` (papers with vectors); a
        list `shared` by members (a period's papers, not the nearest papers to one member's
        model) is kept until it or the indexes change."""
        def make() -> CandidateParts:
            analysed = self._analysed(keys)
            idf = BigramIdf.of([analysed[k].bigrams for k in keys if k in analysed],
                               self.catalog.indexes.fulltext.num_docs())
            categories = [analysed[k].category if k in analysed else None for k in keys]
            return CandidateParts(self._words(keys), idf, self._words(keys, idf), categories,
                                  self._crowding(keys))
        if not shared:
            return make()
        return self.catalog.cached("foryou-parts", tuple(keys), self.catalog.indexes.version(),
                                   make, size=8)

    def _crowding(self, keys: list[int]) -> np.ndarray:
        """Each candidate's crowding among the indexed papers (`neighbourhood_crowding`; 0
        for one without a vector). Kept per paper until the index has grown by a tenth: a
        day's papers barely move an older paper's neighbours, and the search costs ~1 ms a
        paper at 588k (a week's 2,000 candidates: ~1.5 s the first time)."""
        index = self.catalog.indexes.semantic.index
        with self._lock:
            if abs(len(index) - self._crowded_size) > 0.1 * max(self._crowded_size, 1):
                self._crowded, self._crowded_size = {}, len(index)
            known = {k: self._crowded[k] for k in keys if k in self._crowded}
        missing = [k for k in keys if k not in known]
        vectors = self.vectors(missing)
        held = [k for k in missing if k in vectors]
        if held:
            near = index.neighbours(held, _matrix(vectors, held), CROWDING_K)
            found = dict(zip(held, neighbourhood_crowding(near).tolist(), strict=True))
            known |= found
            with self._lock:
                self._crowded.update(found)
                while len(self._crowded) > CACHED_PAPER_TERMS:
                    self._crowded.pop(next(iter(self._crowded)))
        return np.asarray([known.get(k, 0.0) for k in keys])

    def _analysed(self, keys: list[int]) -> dict[int, Analysed]:
        """Each paper's stem and bigram counts, primary category and date, kept (its text
        changes only with a new version: rare, and a stale row only blurs one candidate): a
        refit after one rating analyses one new paper, not all the member's (~0.3 ms a
        paper)."""
        with self._lock:
            counts = {k: self._terms[k] for k in keys if k in self._terms}
        missing = [k for k in keys if k not in counts]
        for paper in self.catalog.store.papers.get_many(missing):
            stems, bigrams = paper_terms_and_bigrams(paper.title, paper.abstract)
            counts[paper.key] = Analysed(stems, bigram_ids(bigrams), paper.primary_category,
                                         paper.published)
        with self._lock:
            for k in missing:
                if k in counts:  # a paper not in the store (hidden, gone) is not kept
                    self._terms[k] = counts[k]
            while len(self._terms) > CACHED_PAPER_TERMS:
                self._terms.pop(next(iter(self._terms)))
        return counts

    def _words(self, keys: list[int], bigram_idf: BigramIdf | None = None) -> WordRows:
        """Rows of stems (with `bigram_idf`, of stems and bigrams). Each stem's idf is kept
        until the keyword index has grown by 1 %: the follower indexing a paper does not
        throw the rest away."""
        papers = self.catalog.indexes.fulltext.num_docs()
        with self._lock:
            if abs(papers - self._idf_papers) > 0.01 * max(self._idf_papers, 1):
                self._idf = {}  # a new table: a reader of the old one keeps a whole one
                self._idf_papers = papers
            idf_table = self._idf
        analysed = self._analysed(keys)
        counts = {k: a.stems for k, a in analysed.items()}
        fulltext = self.catalog.indexes.fulltext
        stems = sorted({s for k in keys for s in counts.get(k, {}) if s not in idf_table})
        idf = idf_from(fulltext.document_frequencies(stems), papers)
        with self._lock:
            idf_table.update(idf)
        # Read without the lock: entries are only added (a dict lookup is atomic).
        if bigram_idf is None:
            return weigh([counts.get(k, {}) for k in keys], idf_table)
        none = (np.zeros(0, np.int64), np.zeros(0))
        return weigh([counts.get(k, {}) for k in keys], idf_table,
                     [analysed[k].bigrams if k in analysed else none for k in keys], bigram_idf)

    def _span(self, span: Span) -> tuple[date, date]:
        period = daily.latest_period(self.catalog, "week" if span == "week" else "day")
        if span == "all" or period is None:
            return ALL_DAYS
        return period.start, period.end

    def _candidates(self, span: Span, model: MemberModel, limit: int) -> list[int]:
        """The period's paper keys; for "all", the vector index's nearest to the model's
        direction (a linear score over unit vectors ranks as the cosine to its weights)."""
        if span != "all":
            start, end = self._span(span)
            keys, _ = self.catalog.store.papers.keys_matching(start, end, [], CANDIDATE_CAP)
            if keys is not None:
                return keys
        if model.empty:
            return [p.key for p in self.catalog.store.papers.newest_matching(
                None, None, [], max(limit * 5, 100))]
        hits = self.catalog.indexes.semantic.index.search(model.weights, max(limit * 5, 100))
        return [k for k, _ in hits]

    def _background(self) -> tuple[list[int], np.ndarray]:
        """BACKGROUND random indexed papers (the same for everyone: seeded), their keys and
        vectors, drawn again only when the index changes (7 ms a draw: not on every
        refit)."""
        dense = self.catalog.indexes.semantic.index.dense
        return self.catalog.memo("foryou-background", (dense.rows, dense.count()),
                                 self._draw_background)

    def _draw_background(self) -> tuple[list[int], np.ndarray]:
        dense = self.catalog.indexes.semantic.index.dense
        rows = np.arange(dense.rows, dtype=np.int64)
        held = rows[dense.held(rows)]
        if not len(held):
            return [], np.zeros((0, 0), np.float32)
        picked = np.random.default_rng(0).choice(held, min(BACKGROUND, len(held)),
                                                 replace=False)
        vectors = self.vectors(np.sort(picked).tolist())
        return list(vectors), np.stack(list(vectors.values()))


def _matrix(vectors: dict[int, np.ndarray], keys: list[int]) -> np.ndarray:
    if not keys:
        dim = next(iter(vectors.values())).shape[0] if vectors else 0
        return np.zeros((0, dim), np.float32)
    return np.stack([vectors[k] for k in keys])

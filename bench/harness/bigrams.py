"""Rows of stems *and* stem bigrams (discover/words.py `paper_bigrams`, the app's analysis),
for bench/recommend_blend.py and bench/recommend.py's speed run.

Every paper a run needs has its bigrams counted once (CRC-32 ids, cached in /tmp). Their
document frequencies come from one of two places, compared in docs/recommendations.md:
a random sample of papers before the cutoff (`sample_df`: what an indexer-built artifact of
bigram counts would hold) or the papers of the ranking run itself (`df_over`: a week's
candidates, what the app computes without any new artifact, `words.BigramIdf`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperfeed.discover import words

from .report import log
from .similar import ArxivPapers
from .stems import Stems

Df = tuple[np.ndarray, np.ndarray, int]  # sorted bigram ids, their df, over how many papers


class Bigrams:
    def __init__(self, papers: ArxivPapers, stems: Stems, before: np.ndarray,
                 needed: np.ndarray, cache: Path, sample: int = 50_000) -> None:
        path = cache / "bigrams-v2.npz"
        if not path.exists():
            picked = np.random.default_rng(7).choice(before, sample, replace=False)
            held = np.union1d(picked, needed)
            log(f"stem bigrams of {len(held)} papers (cached in {path})")
            sizes, ids, counts = [], [], []
            for i in held.tolist():
                grams = words.paper_bigrams(papers.titles[i], papers.abstracts[i])
                sizes.append(len(grams))
                ids += [words.stem_id(g) for g in grams]
                counts += [min(n, 65535) for n in grams.values()]
            np.savez(path, held=held, sample=np.sort(picked),
                     indptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                     ids=np.asarray(ids, np.int64), counts=np.asarray(counts, np.uint16))
        with np.load(path) as data:
            data = dict(data)  # read it all: the file may be rewritten below
        self.held, self.indptr = data["held"], data["indptr"]
        self.ids, self.counts = data["ids"], data["counts"]
        missing = np.setdiff1d(needed, self.held)
        if len(missing):  # a run with other members: count theirs too, once
            log(f"stem bigrams of {len(missing)} more papers (cached in {path})")
            self._extend(papers, missing)
            np.savez(path, held=self.held, sample=data["sample"], indptr=self.indptr,
                     ids=self.ids, counts=self.counts)
        self.stems = stems
        self.total = len(before)
        self.sample = data["sample"]
        self.sample_df = self.df_over(self.sample)
        self._cache: dict[tuple[bytes, str], words.WordRows] = {}

    def _extend(self, papers: ArxivPapers, missing: np.ndarray) -> None:
        grams = [words.paper_bigrams(papers.titles[i], papers.abstracts[i])
                 for i in missing.tolist()]
        held = np.concatenate([self.held, missing])
        sizes = np.concatenate([np.diff(self.indptr), [len(g) for g in grams]]).astype(np.int64)
        ids = np.concatenate([self.ids, np.asarray([words.stem_id(k) for g in grams for k in g],
                                                   np.int64)])
        counts = np.concatenate([self.counts, np.asarray(
            [min(n, 65535) for g in grams for n in g.values()], np.uint16)])
        starts = np.cumsum(sizes) - sizes
        order = np.argsort(held, kind="stable")
        picked = words._ranges(starts[order], sizes[order])
        self.held, self.ids, self.counts = held[order], ids[picked], counts[picked]
        self.indptr = np.concatenate([[0], np.cumsum(sizes[order])]).astype(np.int64)

    def _entries(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        at = np.searchsorted(self.held, idx)
        assert np.all(self.held[at] == idx), "a paper whose bigrams were not counted"
        sizes = np.diff(self.indptr)[at]
        picked = words._ranges(self.indptr[at], sizes)
        return sizes, self.ids[picked], self.counts[picked]

    def sample_of(self, n: int) -> Df:
        """The df of `n` papers of the sample (a smaller artifact)."""
        return self.df_over(np.sort(np.random.default_rng(n).choice(self.sample, n,
                                                                     replace=False)))

    def df_over(self, idx: np.ndarray) -> Df:
        _, ids, _ = self._entries(np.asarray(idx, np.int64))
        vocab, df = np.unique(ids, return_counts=True)
        return vocab, df, len(idx)

    def rows(self, idx: np.ndarray, df: Df | None = None, tag: str = "",
             terms: int = 128, binary: bool = False) -> words.WordRows:
        """Rows of `idx` (stems with the keyword index's idf, bigrams weighed by `df` as
        `words.BigramIdf`: default the sample's), `terms` entries each (128 as rounds four
        and five measured b1 / b1c; the app keeps `words.BIGRAM_TERMS`, 256, since). Kept
        when `tag` names the df (or it is the sample's) and there are many rows."""
        idx = np.asarray(idx, np.int64)
        key = (idx.tobytes(), f"{tag if df is not None else 'sample'} {terms} {binary}")
        if key in self._cache:
            return self._cache[key]
        vocab, freq, papers = df or self.sample_df
        st = self.stems
        s_sizes = np.diff(st.indptr)[idx]
        s_pick = words._ranges(st.indptr[idx], s_sizes)
        s_ids = st.ids[s_pick]
        b_sizes, b_ids, b_tf = self._entries(idx)
        at = np.minimum(np.searchsorted(vocab, b_ids), max(len(vocab) - 1, 0))
        found = vocab[at] == b_ids if len(vocab) else np.zeros(len(b_ids), bool)
        scaled = (np.where(found, freq[at] if len(vocab) else 0, 0) * self.total
                  / max(papers, words.MIN_BIGRAM_PAPERS))
        b_idf = np.where(scaled <= words.MAX_DF * self.total,
                         np.log(self.total / (1 + scaled)), 0.0)
        n = np.arange(len(idx))
        order = np.argsort(np.concatenate([np.repeat(n, s_sizes), np.repeat(n, b_sizes)]),
                           kind="stable")
        ids = np.concatenate([s_ids, b_ids])[order]
        tf = np.concatenate([st.counts[s_pick], b_tf]).astype(np.float64)[order]
        if binary:  # every term once: no sublinear tf
            tf = np.ones_like(tf)
        idf = np.concatenate([st.idf_of(s_ids), b_idf])[order]
        sizes = s_sizes + b_sizes
        out = words.rows(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), ids, tf,
                         idf, terms)
        if len(idx) >= 200 and (tag or df is None):  # a week's papers, the background
            self._cache[key] = out
        return out

"""Every paper's stems as the app sees them (discover/words.py: the keyword index's analysis,
CRC-32 ids), counted once for the 588k papers (~2 min) and cached as arrays; idf from the
papers before a cutoff (what the keyword index held then)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from paperfeed.discover import words

from .report import log
from .similar import ArxivPapers


class Stems:
    def __init__(self, papers: ArxivPapers, cache: Path) -> None:
        path = cache / "stems.npz"
        if not path.exists():
            log(f"counting stems of {len(papers.ids)} papers (cached in {path})")
            cache.mkdir(parents=True, exist_ok=True)
            ids: dict[str, int] = {}
            sizes, entries, counts = [], [], []
            for i in range(len(papers.ids)):
                terms = words.paper_terms(papers.titles[i], papers.abstracts[i])
                sizes.append(len(terms))
                for s, n in terms.items():
                    entries.append(ids.setdefault(s, words.stem_id(s)))
                    counts.append(min(n, 65535))
            np.savez(path, indptr=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                     ids=np.asarray(entries, np.int64), counts=np.asarray(counts, np.uint16))
        data = np.load(path)
        self.indptr, self.ids, self.counts = data["indptr"], data["ids"], data["counts"]

    def fit_idf(self, before: np.ndarray) -> None:
        """Document frequencies over the papers `before` (indexes), as `words.idf_from`."""
        picked = words._ranges(self.indptr[before], np.diff(self.indptr)[before])
        self.vocab, df = np.unique(self.ids[picked], return_counts=True)
        n = len(before)
        self.idf = np.where(df <= words.MAX_DF * n, np.log(n / (1 + df)), 0.0)
        self.unseen = np.log(n)

    def idf_of(self, ids: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(self.vocab, ids), len(self.vocab) - 1)
        return np.where(self.vocab[at] == ids, self.idf[at], self.unseen)

    def rows(self, idx: np.ndarray, max_terms: int = words.MAX_TERMS) -> words.WordRows:
        idx = np.asarray(idx, dtype=np.int64)
        sizes = np.diff(self.indptr)[idx]
        picked = words._ranges(self.indptr[idx], sizes)
        ids = self.ids[picked]
        idf = self.idf_of(ids)
        indptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        return words.rows(indptr, ids, self.counts[picked].astype(np.float64), idf, max_terms)


def log_size(stems: Stems) -> None:
    log(f"stems: {len(stems.ids)} entries, {len(np.unique(stems.ids))} distinct")

"""The full-scan baseline: TF-IDF over every paper, as arxiv-sanity-lite ranks search.

arxiv-sanity-lite (Karpathy's) fits scikit-learn's TfidfVectorizer with these
parameters and scores a query against every paper with one sparse product: no index.
It is what "simple" search costs at this corpus size. Needs scikit-learn
(`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from typing import Any

import numpy as np

PARAMS: dict[str, Any] = dict(
    input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode",
    lowercase=True, analyzer="word", stop_words="english",
    token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=20000,
    norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
)


class TfidfScan:
    """Fit on `texts` (their keys in `keys`, filled as the texts are read), then `search`."""

    def __init__(self, texts: Iterable[str], keys: list[int]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(**PARAMS)
        start = time.perf_counter()
        self.matrix = self.vectorizer.fit_transform(texts).tocsr()
        self.fit_seconds = time.perf_counter() - start
        if hasattr(self.vectorizer, "stop_words_"):
            del self.vectorizer.stop_words_  # every pruned term: large, and not needed
        gc.collect()
        self.keys = np.asarray(keys)

    def search(self, query: str, k: int = 10) -> list[int]:
        qv = self.vectorizer.transform([query])
        scores = self.matrix @ qv.toarray().ravel()  # the full scan: matrix times query
        top = np.argpartition(-scores, k)[:k]
        return list(self.keys[top[np.argsort(-scores[top])]].tolist())

    def describe(self) -> dict[str, Any]:
        m = self.matrix
        return {"fit_seconds": round(self.fit_seconds, 1), "docs": m.shape[0],
                "features": m.shape[1], "nnz": int(m.nnz),
                "matrix_mib": round((m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)
                                    / 2**20, 1)}

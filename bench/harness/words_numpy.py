"""The words half's sparse products as they were before scipy (pure numpy: every pair of a
candidate's and a liked paper's shared stem is one element of a `np.repeat` / `np.bincount`
pipeline), kept so bench/recommend.py's speed mode times the old and the new in one run."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from paperfeed.discover.words import WordRows, _ranges, member_groups


def cosines(a: WordRows, b: WordRows) -> np.ndarray:
    out_size = len(a) * len(b)
    if not out_size or not len(a.ids) or not len(b.ids):
        return np.zeros((len(a), len(b)), np.float32)
    order = np.argsort(b.ids, kind="stable")
    b_ids = b.ids[order]
    b_row = np.repeat(np.arange(len(b)), np.diff(b.indptr))[order]
    b_w = b.weights[order]
    lo = np.searchsorted(b_ids, a.ids, "left")
    hits = np.searchsorted(b_ids, a.ids, "right") - lo
    a_entry = np.repeat(np.arange(len(a.ids)), hits)
    b_entry = _ranges(lo, hits)
    a_row = np.repeat(np.arange(len(a)), np.diff(a.indptr))
    pair = a_row[a_entry] * len(b) + b_row[b_entry]
    sums = np.bincount(pair, a.weights[a_entry].astype(np.float64) * b_w[b_entry],
                       minlength=out_size)
    return sums.reshape(len(a), len(b)).astype(np.float32)


def closest_many(candidates: WordRows, liked: Sequence[WordRows]) -> np.ndarray:
    """The closest liked paper's cosine (k=1), members x candidates."""
    out = np.zeros((len(liked), len(candidates)), np.float32)
    for first, last in member_groups(liked):
        sims = cosines(candidates, WordRows.concat(list(liked[first:last])))
        sizes = np.asarray([len(rows) for rows in liked[first:last]])
        starts = np.cumsum(sizes) - sizes
        members = np.flatnonzero(sizes) + first
        if len(members):
            out[members] = np.maximum.reduceat(sims, starts[sizes > 0], axis=1).T
    return out

"""Members and their ratings, judged from arXiv authorship: authors stand in for members.

No public data set of paper ratings is reachable here, so (issue 11) the proxy is: an author
with at least `MIN_PAPERS` papers before a cutoff date is a member who rated those papers
"more like this"; what they would want from each later week's papers is what they wrote
that week (second view: what they or their co-authors before the cutoff wrote). People
write about what they read and work on, so this is the signal a per-member model has to
find, and a ranking of a real week's arXiv papers is exactly the For-you page's job. It
is harder than real use in one way (a member's own later papers may open a new topic) and
easier in another (an author's papers share style and vocabulary, so a model may match the
writer rather than the interest); author names are never features, which would leak it.

"Less like this" ratings: a member's feed shows papers of their categories, so explicit
negatives are random papers sharing the primary category of one of the member's papers,
not theirs (as many as their positives). Background: one random sample of papers before
the cutoff, shared by every member (the implicit negatives of Scholar Inbox and
arxiv-sanity-lite). Names as in harness/similar.py (surname + first initial; common names
on more than `MAX_NAME_PAPERS` papers and large collaborations left out).
"""

from __future__ import annotations

import datetime as dt
import json
import lzma
from collections import defaultdict
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import numpy as np

from .corpora import arxiv_source
from .report import log
from .similar import MAX_NAME_PAPERS, ArxivPapers

MIN_PAPERS = 10
MAX_POSITIVES = 100  # a member's most recent papers before the cutoff


@dataclass
class Member:
    name: str
    positive: np.ndarray  # paper indexes, most recent first
    negative: np.ndarray
    pool: np.ndarray  # unrated papers of their categories, for active learning
    later: dict[int, set[int]] = field(default_factory=dict)  # week -> own papers
    later_coauthor: dict[int, set[int]] = field(default_factory=dict)  # week -> + co-authors'


@dataclass
class Proxy:
    dev: list[Member]
    test: list[Member]
    weeks: list[np.ndarray]  # each later week's papers (indexes)
    background: np.ndarray  # indexes
    cutoff: dt.date


def load_days(cache: Path) -> np.ndarray:
    """Day (proleptic ordinal) each paper's first version was submitted, cached."""
    path = cache / "days.npy"
    if path.exists():
        return np.load(path)
    log(f"reading submission dates from {arxiv_source('all')} (cached in {path})")
    out = []
    with lzma.open(arxiv_source("all"), "rt", encoding="utf-8") as f:
        for line in f:
            created = json.loads(line)["versions"][0]["created"]
            out.append(parsedate_to_datetime(created).date().toordinal())
    days = np.asarray(out, dtype=np.int32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, days)
    return days


def build(papers: ArxivPapers, days: np.ndarray, cutoff: dt.date, n_weeks: int,
          n_members: int, n_background: int = 256, seed: int = 0) -> Proxy:
    """Members (half dev, half test) with a paper in one of the `n_weeks` after `cutoff`."""
    rng = np.random.default_rng(seed)
    start = cutoff.toordinal()
    before = np.flatnonzero(days < start)
    week_of = (days - start) // 7
    weeks = [np.flatnonzero(week_of == w) for w in range(n_weeks)]
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(papers.authors):
        for k in keys:
            by_name[k].append(i)
    by_name = {k: v for k, v in by_name.items() if len(v) <= MAX_NAME_PAPERS}
    in_window = (days >= start) & (week_of < n_weeks)
    names = sorted(k for k, v in by_name.items()
                   if sum(days[i] < start for i in v) >= MIN_PAPERS
                   and any(in_window[i] for i in v))
    chosen = rng.permutation(names)[:n_members]
    by_category: dict[str, list[int]] = defaultdict(list)
    for i in before.tolist():
        by_category[papers.primary[i]].append(i)
    members = [_member(str(n), by_name, papers, days, start, week_of, in_window,
                       by_category, rng) for n in chosen]
    background = rng.choice(before, size=n_background, replace=False)
    log(f"{len(names)} authors qualify; {len(members)} members; "
        f"{np.mean([len(w) for w in weeks]):.0f} papers a week")
    half = len(members) // 2
    return Proxy(members[:half], members[half:], weeks, background, cutoff)


def _member(name: str, by_name: dict[str, list[int]], papers: ArxivPapers, days: np.ndarray,
            start: int, week_of: np.ndarray, in_window: np.ndarray,
            by_category: dict[str, list[int]], rng: np.random.Generator) -> Member:
    own = by_name[name]
    earlier = sorted((i for i in own if days[i] < start), key=lambda i: -days[i])
    positive = np.asarray(earlier[:MAX_POSITIVES])
    mine = set(own)
    coauthors = {k for i in earlier for k in papers.authors[i] if k in by_name}
    circle = {i for k in coauthors for i in by_name[k]} | mine
    categories = sorted({papers.primary[i] for i in positive.tolist()})
    near = np.asarray([i for c in categories for i in by_category[c]])
    near = near[~np.isin(near, positive)]
    picked = rng.choice(near, size=min(len(near), len(positive) + 500), replace=False)
    later: dict[int, set[int]] = defaultdict(set)
    later_co: dict[int, set[int]] = defaultdict(set)
    for i in circle:
        if in_window[i]:
            later_co[int(week_of[i])].add(i)
            if i in mine:
                later[int(week_of[i])].add(i)
    return Member(name, positive, picked[:len(positive)], picked[len(positive):],
                  dict(later), dict(later_co))


def ranking_metrics(scores: np.ndarray, candidates: np.ndarray, relevant: set[int]
                    ) -> tuple[float, float, float]:
    """nDCG@10, recall@50 and AUC of `scores` over `candidates` (paper indexes), binary
    relevance; ties broken by candidate order."""
    order = np.argsort(-scores, kind="stable")
    hit = np.isin(candidates[order], list(relevant))
    n_rel = int(hit.sum())
    if not n_rel:
        return float("nan"), float("nan"), float("nan")
    discounts = 1.0 / np.log2(np.arange(2, 12))
    ndcg = float(hit[:10] @ discounts[:len(hit[:10])] / discounts[:min(n_rel, 10)].sum())
    recall = float(hit[:50].sum() / n_rel)
    ranks = np.flatnonzero(hit)  # 0-based positions of relevant papers
    n_irr = len(hit) - n_rel
    below = n_irr * n_rel - (ranks - np.arange(n_rel)).sum()  # irrelevant papers below each
    auc = float(below / (n_irr * n_rel)) if n_irr else 1.0
    return ndcg, recall, auc

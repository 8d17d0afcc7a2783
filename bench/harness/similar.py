"""What "similar papers" should find, judged from arXiv metadata rather than by hand.

Two views of relevance for a query paper, both read from the 588k arXiv snapshot:

- **co-author** (the main one): the other papers sharing an author with it. People write
  about what they work on, so a researcher's other papers are what "more like this" should
  surface first; it is a proxy used for scientific-document embeddings (SPECTER's SciDocs
  has co-view/co-citation tasks of the same spirit). Names are matched as surname + first
  initial (accents and case folded). Two kinds of author are left out because they connect
  unrelated papers: names on more than `MAX_NAME_PAPERS` papers here (mostly different
  people sharing a common surname and initial, e.g. 2,461 papers for "Zhang, Y.") and
  papers with more than `MAX_AUTHORS` authors (large collaborations).
- **category**: the other papers sharing its primary (first-listed, fine-grained) arXiv
  category, e.g. math.NA or cs.CL. The snapshot holds ~3.4k papers per category, so only
  precision at 10 means something here.

Query papers come from one time slice (first submitted in `QUERY_YEAR`, to be held out of
any model trained on the snapshot), each with at least one co-author paper;
they are split into a dev half (fusion weights are tuned there) and a test half (reported).
"""

from __future__ import annotations

import json
import lzma
import pickle
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paperfeed.index.embed import paper_text

from .corpora import arxiv_source
from .report import log

MAX_AUTHORS = 10
MAX_NAME_PAPERS = 30
QUERY_YEAR = 2019
_WS = re.compile(r"\s+")


@dataclass
class ArxivPapers:
    ids: list[str]
    titles: list[str]
    abstracts: list[str]
    primary: list[str]  # first-listed category
    years: np.ndarray  # year of the first version
    authors: list[tuple[str, ...]]  # name keys ("surname f"), empty for collaborations

    def text(self, i: int) -> str:
        """What the indexer embeds of paper `i`."""
        return paper_text(self.titles[i], self.abstracts[i])


def name_key(surname: str, first: str) -> str:
    fold = unicodedata.normalize("NFKD", f"{surname}|{first}").encode("ascii", "ignore")
    last, given = fold.decode().lower().split("|", 1)
    last = re.sub(r"[^a-z]+", " ", last).strip()
    initial = re.sub(r"[^a-z]", "", given)[:1]
    return f"{last} {initial}".strip()


def load_papers(corpus: str, cache: Path) -> ArxivPapers:
    """The snapshot's papers (parsed once, ~2 min, then read from a pickle in `cache`)."""
    path = cache / f"arxiv-{corpus}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    log(f"parsing {arxiv_source(corpus)} (cached in {path})")
    cols: dict[str, list] = defaultdict(list)
    with lzma.open(arxiv_source(corpus), "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            names = r.get("authors_parsed") or []
            cols["ids"].append(r["id"])
            cols["titles"].append(_WS.sub(" ", r.get("title") or "").strip())
            cols["abstracts"].append(_WS.sub(" ", r.get("abstract") or "").strip())
            cols["primary"].append((r.get("categories") or "").split(" ")[0])
            cols["years"].append(int(r["versions"][0]["created"].split()[3]))
            keys = {name_key(n[0], n[1] if len(n) > 1 else "") for n in names}
            cols["authors"].append(tuple(sorted(keys)) if len(names) <= MAX_AUTHORS else ())
    papers = ArxivPapers(**{**cols, "years": np.asarray(cols["years"], dtype=np.int16)})
    cache.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(papers, f, protocol=pickle.HIGHEST_PROTOCOL)
    return papers


@dataclass
class Judgements:
    dev: list[int]  # query paper indexes
    test: list[int]
    coauthor: dict[int, set[int]]  # query -> its co-author papers
    primary: list[str]  # for the category view

    def category_relevant(self, query: int, found: list[int]) -> dict[int, int]:
        """Grades of the found papers in the category view (the full set is too large)."""
        return {f: 1 for f in found if self.primary[f] == self.primary[query]}


def judgements(papers: ArxivPapers, n_queries: int, seed: int = 0) -> Judgements:
    """A fixed sample of query papers with their co-author papers, split dev/test."""
    name_count = Counter(k for keys in papers.authors for k in keys)
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, keys in enumerate(papers.authors):
        for k in keys:
            if name_count[k] <= MAX_NAME_PAPERS:
                by_name[k].append(i)
    candidates = [i for i in np.flatnonzero(papers.years == QUERY_YEAR).tolist()
                  if any(len(by_name.get(k, ())) > 1 for k in papers.authors[i])]
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(candidates, size=min(n_queries, len(candidates)),
                               replace=False).tolist())
    coauthor = {q: {p for k in papers.authors[q] for p in by_name.get(k, ()) if p != q}
                for q in chosen}
    order = rng.permutation(len(chosen))
    half = len(chosen) // 2
    return Judgements(dev=[chosen[i] for i in order[:half]],
                      test=[chosen[i] for i in order[half:]],
                      coauthor=coauthor, primary=papers.primary)

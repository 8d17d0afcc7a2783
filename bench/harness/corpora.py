"""The shared corpora (read-only, in ../shared or $PAPERFEED_SHARED) and their readers."""

from __future__ import annotations

import json
import lzma
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from paperfeed.index.embed import paper_text
from paperfeed.models import Paper

from .report import REPO

SHARED = Path(os.environ.get("PAPERFEED_SHARED", REPO.parent / "shared"))
SCIFACT = SHARED / "data" / "scifact"


def arxiv_source(corpus: str) -> Path:
    """The arXiv snapshot `cs` (173k papers) or `all` (588k), JSON lines, xz."""
    return SHARED / "data" / "arxiv" / f"{corpus}.jsonl.xz"


def arxiv_texts(n: int, corpus: str = "cs") -> list[str]:
    """What the indexer embeds (title + abstract) of the snapshot's first `n` papers."""
    out = []
    with lzma.open(arxiv_source(corpus), "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            out.append(paper_text(record.get("title") or "", record.get("abstract") or ""))
            if len(out) == n:
                break
    return out


@dataclass
class SciFact:
    """BEIR SciFact: 5,183 abstracts, the 300 test queries and their relevance judgements."""

    papers: list[Paper]
    queries: dict[str, str]  # query id -> text, test queries only
    qrels: dict[str, dict[str, int]]  # query id -> paper id -> grade (all 1 in SciFact)

    def texts(self) -> list[str]:
        """What the indexer embeds of each paper, in `papers` order."""
        return [paper_text(p.title, p.abstract) for p in self.papers]


def load_scifact(data: Path = SCIFACT) -> SciFact:
    papers = []
    with open(data / "corpus.jsonl") as f:
        for line in f:
            doc = json.loads(line)
            papers.append(Paper(id=f"sf-{doc['_id']}", title=doc["title"] or doc["text"][:80],
                                abstract=doc["text"], source="scifact", source_ref=doc["_id"]))
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open(data / "qrels" / "test.tsv") as f:
        next(f)  # header
        for line in f:
            qid, did, score = line.split("\t")
            qrels[qid][f"sf-{did}"] = int(score)
    queries = {}
    with open(data / "queries.jsonl") as f:
        for line in f:
            query = json.loads(line)
            if query["_id"] in qrels:
                queries[query["_id"]] = query["text"]
    return SciFact(papers, queries, dict(qrels))

"""Relevance thresholds for saved-search digests: cosine of relevant vs unrelated pairs.

A saved search must send nothing in a week without relevant papers, so the digest keeps a
hit only above an absolute cosine threshold (paperfeed/digests/content.py). This measures
what a threshold keeps on BEIR SciFact: the share of relevant (query, paper) pairs, and of
random pairs from the same corpus (same field, so harder than a real arXiv mix).

    python bench/relevance.py [--embedder static-arxiv-384]

Writes bench/results/relevance-<embedder>.json: embedder, thresholds (per cosine
threshold: share of relevant and of random pairs kept), relevant_pairs, random_pairs.
"""

from __future__ import annotations

import argparse
import random

import numpy as np
from harness.corpora import load_scifact
from harness.report import print_table, write_json

from paperfeed.index.embedders import load_embedder

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)
RANDOM_PER_QUERY = 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="static-arxiv-384")
    args = parser.parse_args()
    data = load_scifact()
    docs = load_embedder(args.embedder, indexing=True).encode(data.texts())
    position = {p.id: i for i, p in enumerate(data.papers)}
    qids = list(data.qrels)
    query_vectors = load_embedder(args.embedder).encode([data.queries[q] for q in qids])
    rng = random.Random(0)
    relevant, unrelated = [], []
    for i, qid in enumerate(qids):
        sims = docs @ query_vectors[i]
        relevant += [float(sims[position[d]]) for d in data.qrels[qid] if d in position]
        unrelated += [float(s) for s in sims[rng.sample(range(len(data.papers)),
                                                        RANDOM_PER_QUERY)]]
    rel, rnd = np.array(relevant), np.array(unrelated)
    rows = [{"cosine ≥": t, "relevant kept": round(float((rel >= t).mean()), 3),
             "random kept": round(float((rnd >= t).mean()), 3)} for t in THRESHOLDS]
    print_table(f"SciFact, {args.embedder}: {len(rel)} relevant pairs, {len(rnd)} random",
                rows)
    write_json(f"relevance-{args.embedder}",
               {"embedder": args.embedder, "thresholds": rows,
                "relevant_pairs": len(rel), "random_pairs": len(rnd)})


if __name__ == "__main__":
    main()

"""Similar papers on the 588k arXiv papers: which method finds a paper's relatives?

    python bench/similar.py [--queries 800] [--static NAME=DIR ...] [--transformer NAME ...]

Relevance (harness/similar.py): a query paper's co-author papers (main view), and papers
sharing its primary category (second view, precision only). Query papers are drawn from
2019, the slice no trained model here has seen; dev half tunes, test half is reported.

Methods, each giving a query paper's top 100:
- keyword "more like this": tantivy's MoreLikeThisQuery over the paper's own title and
  abstract (harness/bm25.py), the set-up picked on dev among a few;
- each static model: exact cosine neighbours among all 588k papers (exact, so ANN recall
  does not blur the model comparison);
- each transformer: the full corpus would take ~12 h per model on 2 cores, so it
  **re-scores a candidate pool**: the union of the keyword and static methods' top
  `--pool` (as the product would re-score its cheap candidates); it cannot find what none
  of them found, which the "pool recall" row bounds;
- fusion of each vector method with the keyword one (discover/search.py's `fuse`), the
  keyword weight chosen on dev;
- "shipped": what discover/similar.py does for a paper with transformer vectors, the top
  `CANDIDATES` of the transformer (pool re-score) and of the keyword method fused at its
  fixed `KEYWORD_WEIGHT`.
Also the issue's demo example: where the knowledge-distillation papers land among the
similar papers of "Simple Semi-supervised Knowledge Distillation ... Dual-Head Optimization".

Writes bench/results/similar.json (or $BENCH_RESULTS).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from harness import vectorcache
from harness.bm25 import Bm25, MoreLikeThis
from harness.evaluate import ndcg_at_k
from harness.report import log, print_table, write_json
from harness.similar import Judgements, judgements, load_papers

from paperfeed.discover.search import fuse
from paperfeed.discover.similar import CANDIDATES, KEYWORD_WEIGHT

Ranking = dict[int, list[tuple[int, float]]]
DEPTH = 100
MLT_SETUPS = [MoreLikeThis(), MoreLikeThis(title_repeats=2), MoreLikeThis(max_terms=40),
              MoreLikeThis(max_terms=15), MoreLikeThis(fields=("title", "abstract"))]
WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
DEMO_QUERY = "Simple Semi-supervised Knowledge Distillation"
# The six: Dual-Head KD, From KD to Self-KD, BD-KD, TAID, LightGen, Less or More.
DEMO_RELEVANT = re.compile(r"knowledge distillation|\bKD\b|distillation .*knowledge", re.I)


def scores(ranking: Ranking, judged: Judgements, queries: list[int]) -> dict[str, float]:
    """Mean metrics at 10 over `queries` (co-author view, then category view)."""
    rows: dict[str, list[float]] = {k: [] for k in ("ndcg", "recall", "precision",
                                                    "cat_ndcg", "cat_precision")}
    for q in queries:
        top = [key for key, _ in ranking[q][:10]]
        rel = judged.coauthor[q]
        hits = sum(key in rel for key in top)
        rows["ndcg"].append(ndcg_at_k(top, dict.fromkeys(rel, 1)))
        rows["recall"].append(hits / len(rel))
        rows["precision"].append(hits / 10)
        same = judged.category_relevant(q, top)
        rows["cat_ndcg"].append(ndcg_at_k(top, same | {-1 - i: 1 for i in range(10)}))
        rows["cat_precision"].append(len(same) / 10)
    out = {k: round(float(np.mean(v)), 4) for k, v in rows.items()}
    out["ndcg_se"] = round(float(np.std(rows["ndcg"]) / np.sqrt(len(queries))), 4)
    return out


def fused(a: Ranking, b: Ranking, weight: float) -> Ranking:
    """`weight` * keyword (b) + (1 - weight) * vectors (a), as search() fuses."""
    return {q: [(k, s) for k, s, _ in fuse({"vec": a[q], "kw": b[q]},
                                             {"vec": 1 - weight, "kw": weight})][:DEPTH]
            for q in a}


def tune(vec: Ranking, kw: Ranking, judged: Judgements) -> tuple[float, Ranking]:
    """The keyword weight with the best co-author nDCG@10 on the dev queries."""
    dev = {w: scores(fused(vec, kw, w), judged, judged.dev)["ndcg"] for w in WEIGHTS}
    best = max(dev, key=lambda w: (dev[w], -abs(w - 0.5)))
    return best, fused(vec, kw, best)


def rescore(model: Any, pool: dict[int, set[int]], papers: Any, cache: Path) -> Ranking:
    """Each query's pool ranked by the model's cosine (pool papers embedded once, cached)."""
    wanted = set(pool) | {p for ps in pool.values() for p in ps}
    vecs = vectorcache.embed_some(model, wanted, papers.text,
                                  cache / f"pool-{vectorcache.slug(model.name)}.npz")
    return {q: sorted(((p, float(vecs[q] @ vecs[p])) for p in ps), key=lambda x: -x[1])
            for q, ps in pool.items()}


def demo_check(methods: dict[str, tuple[Any, float | None]], mlt: MoreLikeThis
               ) -> list[dict[str, Any]]:
    """Ranks of the demo corpus's knowledge-distillation papers among the similar papers
    of the issue's example, per method (1-based, '-' when not in the top 20)."""
    from paperfeed.catalog import Catalog
    from paperfeed.settings import load_settings

    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(load_settings(home=Path(home), load_demo=True))
        demo = [row for batch in catalog.store.papers.changed_since(0) for row in batch]
    query = next(i for i, p in enumerate(demo) if p.title.startswith(DEMO_QUERY))
    wanted = [i for i, p in enumerate(demo) if i != query and DEMO_RELEVANT.search(p.title)]
    with tempfile.TemporaryDirectory() as tmp:
        bm25 = Bm25(Path(tmp), len(demo), lambda i: (demo[i].title, demo[i].abstract))
        kw = {query: bm25.more_like_this(demo[query].title, demo[query].abstract, 40, mlt,
                                         exclude=query)}
    texts = [f"{p.title}. {p.abstract}" for p in demo]
    rows, vectors = [], {}  # each model embeds the demo corpus once
    for model, _ in methods.values():
        if model.name not in vectors:
            vectors[model.name] = model.encode(texts)
    for name, (model, weight) in {"keyword MLT": (None, None), **methods}.items():
        if model is None:
            ranking = kw
        else:
            v = vectors[model.name]
            order = [int(i) for i in np.argsort(-(v @ v[query])) if i != query][:40]
            ranking = {query: [(i, float(v[i] @ v[query])) for i in order]}
            if weight is not None:
                ranking = fused(ranking, kw, weight)
        top = [k for k, _ in ranking[query][:20]]
        ranks = [top.index(i) + 1 if i in top else "-" for i in wanted]
        rows.append({"method": name, "found in top 10": f"{sum(i in top[:10] for i in wanted)}"
                     f"/{len(wanted)}", "ranks": " ".join(map(str, ranks))})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=int, default=800, help="dev + test query papers")
    ap.add_argument("--static", nargs="*", default=["static-arxiv-384"],
                    help="static embedders: registry names or NAME=DIR")
    ap.add_argument("--transformer", nargs="*", default=["minilm-l6-v2-int8"],
                    help="transformers re-scoring the pool: registry names or NAME=FILE.onnx")
    ap.add_argument("--pool", type=int, default=20, help="top N of each cheap method pooled")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/paperfeed-bench-similar"))
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    papers = load_papers("all", args.cache)
    judged = judgements(papers, args.queries)
    queries = judged.dev + judged.test
    bm25 = Bm25(args.cache / "bm25-all", len(papers.ids),
                lambda i: (papers.titles[i], papers.abstracts[i]))
    log("keyword more-like-this set-ups on dev")
    mlt_dev = {how: {q: bm25.more_like_this(papers.titles[q], papers.abstracts[q], DEPTH, how,
                                            exclude=q) for q in judged.dev}
               for how in MLT_SETUPS}
    mlt_rows = [{"set-up": how.label, **scores(r, judged, judged.dev)}
                for how, r in mlt_dev.items()]
    how = max(mlt_dev, key=lambda h: scores(mlt_dev[h], judged, judged.dev)["ndcg"])
    kw = mlt_dev[how] | {q: bm25.more_like_this(papers.titles[q], papers.abstracts[q], DEPTH,
                                                how, exclude=q) for q in judged.test}
    rankings: dict[str, Ranking] = {"keyword MLT": kw}
    models: dict[str, tuple[Any, float | None]] = {}
    for name in args.static:
        model = vectorcache.load(name)
        matrix = vectorcache.corpus_vectors(model, len(papers.ids), papers.text,
                                            args.cache / f"vectors-{vectorcache.slug(name)}.npy")
        log(f"{model.name}: exact neighbours of {len(queries)} papers")
        rankings[model.name] = vectorcache.neighbours(matrix, queries, DEPTH)
        models[model.name] = (model, None)
    pooled = list(rankings)
    pool = {q: {k for r in rankings.values() for k, _ in r[q][:args.pool]} for q in queries}
    shipped: dict[str, Ranking] = {}
    for name in args.transformer:
        model = vectorcache.load(name)
        rankings[model.name] = rescore(model, pool, papers, args.cache)
        models[model.name] = (model, None)
        shipped[f"shipped: {model.name} + keyword"] = fused(
            {q: r[:CANDIDATES] for q, r in rankings[model.name].items()},
            {q: r[:CANDIDATES] for q, r in kw.items()}, KEYWORD_WEIGHT)
        models[f"shipped: {model.name} + keyword"] = (model, KEYWORD_WEIGHT)
    weights = {}
    for name in [m for m in models if m not in shipped]:
        weights[name], rankings[f"{name} + keyword"] = tune(rankings[name], kw, judged)
        models[f"{name} + keyword"] = (models[name][0], weights[name])
    rows = [{"method": name, **scores(r, judged, judged.test),
             "keyword weight": weights.get(name.removesuffix(" + keyword"))
             if name.endswith(" + keyword") else None} for name, r in rankings.items()]
    rows += [{"method": name, **scores(r, judged, judged.test), "keyword weight": KEYWORD_WEIGHT}
             for name, r in shipped.items()]
    pool_recall = np.mean([len(pool[q] & judged.coauthor[q]) / len(judged.coauthor[q])
                           for q in judged.test])
    demo = demo_check(models, how)
    sizes = [len(judged.coauthor[q]) for q in queries]
    title = (f"Similar papers, {len(papers.ids)} arXiv papers, {len(judged.test)} test queries "
             f"(co-author view: ndcg/recall/precision@10; category view: cat_*)")
    print_table("Keyword more-like-this set-ups (dev queries)", mlt_rows)
    print_table(title, rows)
    per_query = np.mean([len(p) for p in pool.values()])
    print(f"transformer pool: top {args.pool} of {', '.join(pooled)}; {per_query:.0f} papers "
          f"per query; it holds "
          f"{pool_recall:.3f} of the co-author papers (recall@10 of the best method: "
          f"{max(r['recall'] for r in rows):.3f})")
    print_table(f"Demo corpus: similar papers of {DEMO_QUERY!r}", demo)
    write_json("similar", {
        "papers": len(papers.ids), "queries": {"dev": len(judged.dev), "test": len(judged.test)},
        "coauthor_papers_per_query": {"median": float(np.median(sizes)), "mean":
                                      round(float(np.mean(sizes)), 1)},
        "pool": {"top": args.pool, "of": pooled, "papers_per_query": round(float(per_query), 1),
                 "coauthor_recall": round(float(pool_recall), 4)},
        "mlt_setups_dev": mlt_rows, "mlt_chosen": how.label, "results_test": rows,
        "demo": demo})


if __name__ == "__main__":
    main()

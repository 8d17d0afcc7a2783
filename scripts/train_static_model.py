"""Fine-tune the static model's token vectors on arXiv abstracts (contrastive, in-batch negatives).

Makes the shipped `static-arxiv-384`. Its base, `static-minilm-384` (made by
scripts/distill_static_model.py), is MiniLM distilled token by token: each wordpiece's vector
is MiniLM's output for that piece alone. Here those vectors are trained further so that the
mean of a text's token vectors lands near the mean of a related text's: a paper's title near
its abstract, one sentence of an abstract near the rest of it. Each batch of B papers gives
B positive pairs per task and B - 1 in-batch negatives for each (InfoNCE, both directions).
`--add-vocab N` first appends the N most frequent arXiv words that the wordpiece vocabulary
splits (e.g. "distillation" = di ##sti ##llation) as whole tokens, each starting as the mean
of its pieces; WordPiece matches longest-first, so the tokenizer picks them up unchanged.

Held out, so the benchmarks stay fair: every paper first submitted in `--holdout-year` or
later (2019: 69,797 papers, where bench/similar.py draws its query papers) is never trained
on; SciFact (biomedical, not arXiv) is only read for the *train* split's queries, logged as
a progress signal; bench/scifact.py reports the test split.

Runs in a separate venv (torch is for training only; serving is numpy):

    python3 -m venv /tmp/venv-train
    /tmp/venv-train/bin/pip install torch==2.13.0      # the CPU build; pin it first
    /tmp/venv-train/bin/pip install numpy safetensors tokenizers
    nice -n 19 /tmp/venv-train/bin/python scripts/train_static_model.py \
        --base /tmp/static-minilm-384 --stop-at 358 --out paperfeed/index/models/static-arxiv-384

(the shipped model: 358 steps of batch 1024, 0.71 of the one-epoch cosine schedule, where a
time-boxed run stopped; --add-vocab was not tried). It checkpoints every `--checkpoint-steps`
and at every stop into `--work`, and resumes from there when rerun (`--fresh` starts over).
Times on 2 shared cores: docs/embeddings.md. Output: model.safetensors (int8 rows + one
float32 scale per row, as scripts/distill_static_model.py writes), tokenizer.json,
config.json, center.npy.
"""

from __future__ import annotations

import argparse
import json
import lzma
import math
import os
import re
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PAPERFEED_SHARED", REPO.parent / "shared"))
ENDS = (".", "?", "!")  # sentence ends, as wordpieces
_WS = re.compile(r"\s+")


def log(work: Path, **fields: object) -> None:
    line = json.dumps({"time": time.strftime("%H:%M:%S"), **fields})
    print(line, flush=True)
    with open(work / "log.jsonl", "a") as f:
        f.write(line + "\n")


# -- data ---------------------------------------------------------------------------------


def read_arxiv(holdout_year: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(title, abstract) of the papers before `holdout_year`, and of those from it on."""
    train, held = [], []
    with lzma.open(SHARED / "data/arxiv/all.jsonl.xz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            title = _WS.sub(" ", r.get("title") or "").strip()
            abstract = _WS.sub(" ", r.get("abstract") or "").strip()
            if not title or not abstract:
                continue
            year = int(r["versions"][0]["created"].split()[3])
            (held if year >= holdout_year else train).append((title, abstract))
    return train, held


def read_scifact(split: str) -> tuple[list[str], list[str], list[str], dict[str, set[str]]]:
    """(doc ids, doc texts as paperfeed embeds them, query texts, qrels) of one split."""
    root = SHARED / "data/scifact"
    ids, texts = [], []
    for line in (root / "corpus.jsonl").read_text().splitlines():
        d = json.loads(line)
        ids.append(d["_id"])
        title, body = _WS.sub(" ", d["title"]).strip(), _WS.sub(" ", d["text"]).strip()
        texts.append(f"{title} {body}" if title[-1:] in ".?!:" else f"{title}. {body}")
    qrels: dict[str, set[str]] = {}
    for line in (root / f"qrels/{split}.tsv").read_text().splitlines()[1:]:
        q, d, _ = line.split("\t")
        qrels.setdefault(q, set()).add(d)
    lines = (root / "queries.jsonl").read_text().splitlines()
    queries = {q["_id"]: q["text"] for q in map(json.loads, lines)}
    qids = list(qrels)
    return ids, texts, [queries[q] for q in qids], {str(i): qrels[q] for i, q in enumerate(qids)}


class Ragged:
    """Token id lists as one flat int32 array plus offsets (compact, picklable as .npz)."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat, self.offsets = flat, offsets

    @classmethod
    def of(cls, lists: list[list[int]]) -> Ragged:
        lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        offsets = np.zeros(len(lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = np.fromiter((t for x in lists for t in x), dtype=np.int32, count=int(offsets[-1]))
        return cls(flat, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


def tokenize(tok, texts: list[str]) -> Ragged:
    out: list[list[int]] = []
    for start in range(0, len(texts), 20_000):
        out += [e.ids for e in tok.encode_batch(texts[start:start + 20_000],
                                                add_special_tokens=False)]
    return Ragged.of(out)


def frequent_split_words(tok, abstracts: list[str], n: int) -> list[str]:
    """The `n` most frequent words (in >= 20 abstracts) the tokenizer cuts into pieces."""
    norm, pre = tok.normalizer, tok.pre_tokenizer
    df: Counter[str] = Counter()
    for text in abstracts:
        df.update({w for w, _ in pre.pre_tokenize_str(norm.normalize_str(text))})
    vocab = tok.get_vocab()
    words = [w for w, c in df.most_common() if c >= 20 and w not in vocab
             and w.isalpha() and len(tok.encode(w, add_special_tokens=False).ids) > 1]
    return words[:n]


def extend_vocab(tok_json: dict, words: list[str]) -> dict:
    vocab = tok_json["model"]["vocab"]
    for w in words:
        vocab[w] = len(vocab)
    return tok_json


def prepare(args: argparse.Namespace) -> dict[str, object]:
    """Tokenized training and evaluation texts plus the starting vectors, cached in --work."""
    cache = args.work / f"data-v{args.add_vocab}-h{args.holdout_year}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=True)
        return {k: (Ragged(z[k + ".flat"], z[k + ".off"]) if k + ".flat" in z else z[k])
                for k in {n.split(".")[0] for n in z.files}} | {"tokenizer": cache.with_suffix(
                    ".tokenizer.json")}
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    t0 = time.time()
    train, held = read_arxiv(args.holdout_year)
    log(args.work, stage="read", train=len(train), held=len(held), s=round(time.time() - t0))
    base_tok = Tokenizer.from_file(str(args.base / "tokenizer.json"))
    tensors = load_file(str(args.base / "model.safetensors"))
    weights = tensors["embeddings"].astype(np.float32) * tensors["weights"][:, None]
    tok_json = json.loads((args.base / "tokenizer.json").read_text())
    if args.add_vocab:
        words = frequent_split_words(base_tok, [a for _, a in train], args.add_vocab)
        pieces = [base_tok.encode(w, add_special_tokens=False).ids for w in words]
        weights = np.vstack([weights, np.stack([weights[p].mean(0) for p in pieces])])
        tok_json = extend_vocab(tok_json, words)
        log(args.work, stage="vocab", added=len(words), sample=words[:30])
    tok_path = cache.with_suffix(".tokenizer.json")
    tok_path.write_text(json.dumps(tok_json, ensure_ascii=False))
    tok = Tokenizer.from_file(str(tok_path))
    tok.no_padding()
    tok.enable_truncation(max_length=512)
    rng = np.random.default_rng(0)
    held_sample = [held[i] for i in rng.choice(len(held), 2000, replace=False)]
    center_sample = [train[i] for i in rng.choice(len(train), 5000, replace=False)]
    sf_ids, sf_docs, sf_queries, sf_qrels = read_scifact("train")
    data = {
        "title": tokenize(tok, [t for t, _ in train]),
        "abstract": tokenize(tok, [a for _, a in train]),
        "held_title": tokenize(tok, [t for t, _ in held_sample]),
        "held_abstract": tokenize(tok, [a for _, a in held_sample]),
        "center_texts": tokenize(tok, [f"{t}. {a}" for t, a in center_sample]),
        "sf_docs": tokenize(tok, sf_docs), "sf_queries": tokenize(tok, sf_queries),
        "init": weights, "sf_qrels": np.array(json.dumps(
            {q: sorted(d) for q, d in sf_qrels.items()})),
        "sf_doc_ids": np.array(sf_ids),
    }
    arrays = {}
    for k, v in data.items():
        if isinstance(v, Ragged):
            arrays[k + ".flat"], arrays[k + ".off"] = v.flat, v.offsets
        else:
            arrays[k] = v
    np.savez(cache, **arrays)
    log(args.work, stage="tokenized", s=round(time.time() - t0), vocab=len(weights))
    return data | {"tokenizer": tok_path}


# -- model --------------------------------------------------------------------------------


def bag_input(torch, rows: list[np.ndarray]):
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)
    return torch.from_numpy(flat.astype(np.int64)), torch.from_numpy(offsets)


def embed(torch, bag, rows: list[np.ndarray]):
    flat, offsets = bag_input(torch, rows)
    return torch.nn.functional.normalize(bag(flat, offsets), dim=1)


def sentence_pair(ids: np.ndarray, ends: np.ndarray, rng: np.random.Generator
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(one sentence, the rest of the abstract); halves when it has one sentence only."""
    cuts = np.flatnonzero(np.isin(ids, ends)) + 1
    bounds = [0, *[c for c in cuts if c < len(ids)], len(ids)]
    spans = [(s, e) for s, e in zip(bounds, bounds[1:], strict=False) if e - s >= 5]
    if len(spans) < 2:
        half = len(ids) // 2
        return ids[:half], ids[half:]
    s, e = spans[rng.integers(len(spans))]
    return ids[s:e], np.concatenate([ids[:s], ids[e:]])


def info_nce(torch, a, b, temperature: float):
    logits = a @ b.T / temperature
    labels = torch.arange(len(a))
    ce = torch.nn.functional.cross_entropy
    return (ce(logits, labels) + ce(logits.T, labels)) / 2


def encode_all(torch, bag, ragged: Ragged, center: np.ndarray | None) -> np.ndarray:
    """As paperfeed's StaticEmbedder: mean, L2, minus the centre, L2 (float32 here)."""
    out = []
    with torch.no_grad():
        for s in range(0, len(ragged), 2048):
            rows = [ragged[i] for i in range(s, min(s + 2048, len(ragged)))]
            out.append(embed(torch, bag, rows).numpy())
    v = np.concatenate(out)
    if center is not None:
        v = v - center
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return v


def evaluate(torch, bag, data: dict) -> dict[str, float]:
    """SciFact *train* queries dense nDCG@10, and held-out arXiv title -> abstract R@1."""
    center = encode_all(torch, bag, data["center_texts"], None).mean(0)
    docs = encode_all(torch, bag, data["sf_docs"], center)
    queries = encode_all(torch, bag, data["sf_queries"], center)
    qrels = json.loads(str(data["sf_qrels"]))
    doc_ids = list(data["sf_doc_ids"])
    top = np.argsort(-(queries @ docs.T), axis=1)[:, :10]
    ndcgs = []
    for qi, rel in qrels.items():
        gains = [1.0 / math.log2(r + 2) for r, d in enumerate(top[int(qi)]) if doc_ids[d] in rel]
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(10, len(rel))))
        ndcgs.append(sum(gains) / ideal)
    titles = encode_all(torch, bag, data["held_title"], center)
    abstracts = encode_all(torch, bag, data["held_abstract"], center)
    r1 = float(np.mean(np.argmax(titles @ abstracts.T, axis=1) == np.arange(len(titles))))
    return {"scifact_train_ndcg10": round(float(np.mean(ndcgs)), 4), "arxiv_held_r1": round(r1, 4)}


# -- training -----------------------------------------------------------------------------


def train(args: argparse.Namespace, data: dict) -> object:
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    init = torch.from_numpy(np.asarray(data["init"], dtype=np.float32))
    bag = torch.nn.EmbeddingBag.from_pretrained(init.clone(), freeze=False, mode="mean")
    opt = torch.optim.Adam(bag.parameters(), lr=args.lr)
    n, per_epoch = len(data["title"]), len(data["title"]) // args.batch
    total = int(per_epoch * args.epochs)
    ckpt, state = args.work / "checkpoint.pt", {"step": 0}
    if ckpt.exists() and not args.fresh:
        state = torch.load(ckpt, weights_only=False)
        bag.weight.data.copy_(state["weight"])
        opt.load_state_dict(state["opt"])
        log(args.work, stage="resumed", step=state["step"])
    ends = np.array([i for i in (json.loads(Path(data["tokenizer"]).read_text())["model"]
                                 ["vocab"].get(e) for e in ENDS) if i is not None])
    step, started = state["step"], time.time()
    if step == 0:
        log(args.work, stage="eval", step=0, **evaluate(torch, bag, data))
    stop = min(total, args.stop_at or total)
    while step < stop and (time.time() - started) / 60 < args.max_minutes:
        epoch, k = divmod(step, per_epoch)
        perm = np.random.default_rng(args.seed + epoch).permutation(n)
        idx = perm[k * args.batch:(k + 1) * args.batch]
        rng = np.random.default_rng((args.seed, step))
        sentences = [sentence_pair(data["abstract"][i], ends, rng) for i in idx]
        lr = args.lr * min(1.0, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * step / total))
        for group in opt.param_groups:
            group["lr"] = lr
        loss = (info_nce(torch, embed(torch, bag, [data["title"][i] for i in idx]),
                         embed(torch, bag, [data["abstract"][i] for i in idx]), args.temperature)
                + info_nce(torch, embed(torch, bag, [a for a, _ in sentences]),
                           embed(torch, bag, [b for _, b in sentences]), args.temperature))
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 20 == 0:
            log(args.work, step=step, epoch=epoch, loss=round(loss.detach().item(), 4),
                lr=f"{lr:.2e}",
                min=round((time.time() - started) / 60, 1))
        out_of_time = (time.time() - started) / 60 >= args.max_minutes
        if step % args.checkpoint_steps == 0 or step == stop or out_of_time:
            torch.save({"weight": bag.weight.detach(), "opt": opt.state_dict(), "step": step},
                       ckpt.with_suffix(".tmp"))
            ckpt.with_suffix(".tmp").replace(ckpt)
            log(args.work, stage="eval", step=step, **evaluate(torch, bag, data))
    return bag.weight.detach().numpy().copy(), step


# -- export -------------------------------------------------------------------------------


def export(args: argparse.Namespace, data: dict, weights: np.ndarray, step: int) -> None:
    """The model directory paperfeed's StaticEmbedder reads (int8 + per-row scale)."""
    import torch
    from safetensors.numpy import save_file

    bag = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(weights), mode="mean")
    center = encode_all(torch, bag, data["center_texts"], None).mean(0).astype(np.float32)
    scale = np.abs(weights).max(axis=1) / 127.0
    q = np.round(weights / np.maximum(scale, 1e-12)[:, None]).clip(-127, 127).astype(np.int8)
    args.out.mkdir(parents=True, exist_ok=True)
    save_file({"embeddings": q, "weights": scale.astype(np.float32)},
              str(args.out / "model.safetensors"))
    (args.out / "model.safetensors").chmod(0o644)
    shutil.copyfile(data["tokenizer"], args.out / "tokenizer.json")
    np.save(args.out / "center.npy", center)
    cfg = json.loads((args.base / "config.json").read_text())
    cfg["paperfeed_source"] = (f"static-minilm-384 fine-tuned by scripts/train_static_model.py "
                               f"on arXiv papers before {args.holdout_year}")
    cfg["paperfeed_training"] = {k: (str(v) if isinstance(v, Path) else v)
                                 for k, v in vars(args).items() if k not in ("out", "work")}
    cfg["paperfeed_training"]["steps"] = step
    (args.out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    print(f"wrote {args.out} ({len(weights)} tokens)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, required=True,
                    help="the distilled model to start from (scripts/distill_static_model.py)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/paperfeed-train-static"))
    ap.add_argument("--add-vocab", type=int, default=0)
    ap.add_argument("--holdout-year", type=int, default=2019)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--checkpoint-steps", type=int, default=100)
    ap.add_argument("--max-minutes", type=float, default=600)
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop (and export) after this step; the schedule still spans --epochs")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fresh", action="store_true", help="ignore a checkpoint in --work")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = prepare(args)
    weights, step = train(args, data)
    # Exported at every stop, so a time-boxed run still yields a model to measure.
    export(args, data, weights, step)
    total = int(len(data["title"]) // args.batch * args.epochs)
    if step < min(total, args.stop_at or total):
        print(f"stopped at step {step} (--max-minutes); rerun to resume from {args.work}")


if __name__ == "__main__":
    main()

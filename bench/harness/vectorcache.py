"""Embeddings of a large corpus, cached on disk and resumable, and exact neighbours in them.

An embedder is named as the registry names it (`static-arxiv-384`, `minilm-l6-v2-int8`),
or as NAME=DIR for a static model directory, or NAME=FILE.onnx for a transformer graph
with MiniLM's inputs and tokenizer (a fine-tuned candidate): candidates need no registry
entry to be measured.

The whole corpus is embedded into a float16 matrix (588k x 384 = 450 MB) in chunks, each
chunk's completion recorded, so a killed run resumes. For the transformer, too slow for
588k papers (~12 h), `embed_some` embeds only the papers asked for (a candidate pool),
cached by paper position.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from paperfeed.index import embed
from paperfeed.index.embedders import embedder_spec, load_embedder

from .evaluate import exact_top_k
from .report import log

CHUNK = 8192


def load(name: str) -> embed.Embedder:
    """A registry embedder, or NAME=DIR (static model dir) / NAME=FILE.onnx (transformer)."""
    if "=" not in name:
        return load_embedder(name, indexing=True)
    label, path = name.split("=", 1)
    if path.endswith(".onnx"):
        return onnx_transformer(label, Path(path))
    spec = embedder_spec("static-arxiv-384")
    return embed.StaticEmbedder(label, Path(path), spec.max_tokens)


def onnx_transformer(label: str, path: Path, threads: int = 2) -> embed.Embedder:
    """A MiniLM-shaped ONNX graph (input_ids, attention_mask, token_type_ids -> hidden
    states), mean-pooled as paperfeed's `minilm-l6-v2-int8` is."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (hidden,) = sess.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})[:1]
        m = mask[:, :, None].astype(np.float32)
        return (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)

    max_tokens = embedder_spec("minilm-l6-v2-int8").max_tokens
    return embed.TransformerEmbedder(label, embed.MODELS_DIR / "minilm-tokenizer.json",
                                     max_tokens, run)


def slug(name: str) -> str:
    return name.split("=", 1)[0]


def corpus_vectors(model: embed.Embedder, n: int, text: Callable[[int], str], path: Path,
                   batch_size: int = 1024) -> np.ndarray:
    """Vectors of papers 0..n-1 (float16, memory-mapped), embedding the chunks not done."""
    done_path = path.with_suffix(".done.json")
    done = set(json.loads(done_path.read_text())) if done_path.exists() else set()
    mode = "r+" if path.exists() else "w+"
    matrix = np.lib.format.open_memmap(path, mode=mode, dtype=np.float16, shape=(n, model.dim))
    todo = [s for s in range(0, n, CHUNK) if s not in done]
    for number, start in enumerate(todo, 1):
        end = min(n, start + CHUNK)
        matrix[start:end] = model.encode([text(i) for i in range(start, end)],
                                         batch_size=batch_size)
        matrix.flush()
        done.add(start)
        done_path.write_text(json.dumps(sorted(done)))
        if number % 10 == 0 or number == len(todo):
            log(f"{model.name}: {end}/{n} embedded")
    return np.load(path, mmap_mode="r")


def neighbours(matrix: np.ndarray, queries: Sequence[int], k: int
               ) -> dict[int, list[tuple[int, float]]]:
    """Each query paper's exact top `k` by cosine among all papers, itself left out."""
    q = np.asarray(matrix[list(queries)], dtype=np.float32)
    blocks = ((np.arange(s, min(s + 65536, len(matrix)), dtype=np.uint64),
               np.asarray(matrix[s:s + 65536], dtype=np.float32))
              for s in range(0, len(matrix), 65536))
    keys, scores = exact_top_k(q, blocks, k + 1)
    return {query: [(int(key), float(s)) for key, s in zip(keys[i], scores[i], strict=True)
                    if int(key) != query][:k] for i, query in enumerate(queries)}


def embed_some(model: embed.Embedder, wanted: set[int], text: Callable[[int], str],
               path: Path, batch_size: int = 32) -> dict[int, np.ndarray]:
    """Vectors of the papers in `wanted` only, cached in `path` (.npz) across runs."""
    have: dict[int, np.ndarray] = {}
    if path.exists():
        z = np.load(path)
        have = dict(zip(z["keys"].tolist(), z["vectors"], strict=True))
    todo = sorted(wanted - set(have))
    for start in range(0, len(todo), 1024):
        part = todo[start:start + 1024]
        have.update(zip(part, model.encode([text(i) for i in part], batch_size=batch_size),
                        strict=True))
        keys = np.fromiter(have, dtype=np.int64, count=len(have))
        np.savez(path.with_suffix(".tmp.npz"), keys=keys,
                 vectors=np.stack([have[int(k)] for k in keys]).astype(np.float32))
        path.with_suffix(".tmp.npz").replace(path)
        log(f"{model.name}: {min(start + 1024, len(todo))}/{len(todo)} pool papers embedded")
    return {i: have[i] for i in wanted}

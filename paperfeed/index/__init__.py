"""Stage 3: indexes derived from the store (BM25 keyword, dense vectors)."""

from .embed import preload_runtimes

# onnxruntime crashes if first imported after usearch: load it (when installed) before
# anything in this package imports usearch.
preload_runtimes()

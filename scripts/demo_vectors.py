"""Compute the demo corpus's transformer vectors, shipped as paperfeed/demo/<model>.npz.

A new data directory loads the demo corpus (paperfeed/demo/pages); embedding its ~300 papers
with the transformer takes 10-20 s on 2 cores, so its vectors ship with the package (keyed by
`text_key` of title and abstract, float16 as the embedding cache stores them: ~0.25 MB) and
first start embeds none of them (`Indexes.seed`). Rerun after changing the demo pages or the
transformer:

    python scripts/demo_vectors.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from paperfeed.catalog import Catalog
from paperfeed.index.embed import paper_text, text_key
from paperfeed.index.embedders import load_embedder
from paperfeed.index.sync import TRANSFORMER
from paperfeed.settings import load_settings

OUT = Path(__file__).resolve().parents[1] / "paperfeed" / "demo" / f"{TRANSFORMER}.npz"


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        catalog = Catalog(load_settings(environ={}, home=Path(home), load_demo=False))
        catalog.load_demo()
        rows = [row for batch in catalog.store.papers.changed_since(0) for row in batch]
    vectors = load_embedder(TRANSFORMER, indexing=True).encode(
        [paper_text(r.title, r.abstract) for r in rows])
    np.savez_compressed(OUT, hashes=np.array([text_key(r.title, r.abstract) for r in rows]),
                        vectors=vectors.astype(np.float16))
    print(f"{OUT}: {len(rows)} papers")


if __name__ == "__main__":
    main()

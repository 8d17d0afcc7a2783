"""The map of the corpus as an index artifact (directory ``map``, its own stamp).

Derived from the static tier's vectors (every paper has one), it follows the store like the
other artifacts: `add` only notes the changed papers (key and month), and the checkpoint
at the end of an update places them (layout.py) beside their fitted neighbours. A fit is
never made there: when there is no layout yet, or the corpus has doubled since the last
fit, the checkpoint only marks the map as due (`stamp.backfill_below`, so every process
sees it) and `build` fits it later, from every paper the static tier holds: the follower
in the background (a fresh `serve`, the demo, a test opening a data dir never waits for
it; `/map` says it is being built), or `paperfeed index` in the foreground. Intermediate
checkpoints of a bulk ingest skip the map (sync.py).

One file, ``layout.npz``, replaced atomically: per paper (ascending key) its position in
the unit square, cluster and month of first publication; the fitted sample (keys,
positions) new papers are placed against; the cluster centroids and labels; and both
forms of `/api/map` as sent, gzipped: the points the `/map` page loads (`encode_points`)
and the JSON (`encode_json`), so no request computes them (at 588k papers the points had
kept the first request waiting 16 s, the 32 MB of JSON 8 s). Readers load it when the
stamp changes (~30 MB at 588k papers).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson

from ..models import IndexRow
from . import layout
from .artifacts import Artifact, IndexReport, Stamp

if TYPE_CHECKING:
    from ..store import Papers
    from .artifacts import VectorArtifact

log = logging.getLogger("paperfeed.index.map")
PLACE_CHUNK = 65_536
ALL_IDS_ABOVE = 20_000  # more keys than this: read every paper's id rather than a key list
MAGIC = b"PFMAP1\0\0"
SCALE = 65_535  # positions are sent as uint16: 1/65535 of the map, far below a pixel
HEADER = len(MAGIC) + 8


def encode_points(ids: list[str], xy: np.ndarray, cluster: np.ndarray) -> bytes:
    """The points as `/api/map/points.bin` sends them, gzipped: MAGIC, uint32 count, uint32
    byte length of the ids; uint16 x[n], y[n], cluster[n] (little-endian); the ids,
    newline-separated UTF-8 (588k papers: 10.1 MB, 4.3 MB gzipped, ~2 s)."""
    quantised = np.round(xy * SCALE).astype("<u2").reshape(-1, 2)
    joined = "\n".join(ids).encode()
    raw = b"".join([MAGIC, struct.pack("<II", len(ids), len(joined)),
                    np.ascontiguousarray(quantised[:, 0]).tobytes(),
                    np.ascontiguousarray(quantised[:, 1]).tobytes(),
                    cluster.astype("<u2").tobytes(), joined])
    return gzip.compress(raw, compresslevel=6, mtime=0)


def encode_json(version: str, method: str, ids: list[str], xy: np.ndarray, cluster: np.ndarray,
                labels: list[str], centroids: np.ndarray) -> bytes:
    """`/api/map`'s body, gzipped: the points as columns, each region's label, centre and
    size (588k papers: 32 MB, 12 MB gzipped)."""
    sizes = np.bincount(cluster, minlength=len(labels)).tolist()
    body = orjson.dumps({
        "version": version, "method": method, "count": len(ids),
        "clusters": [{"id": c, "label": label, "x": round(float(x), 4),
                      "y": round(float(y), 4), "papers": size}
                     for c, (label, (x, y), size) in enumerate(zip(labels, centroids, sizes,
                                                                   strict=True))],
        "points": {"id": ids, "x": np.round(xy[:, 0].astype(float), 5).tolist(),
                   "y": np.round(xy[:, 1].astype(float), 5).tolist(),
                   "cluster": cluster.tolist()}})
    return gzip.compress(body, compresslevel=6, mtime=0)


def decode_ids(points: bytes) -> list[str]:
    """The ids `encode_points` wrote, in its order."""
    raw = gzip.decompress(points)
    count, _ = struct.unpack("<II", raw[len(MAGIC):HEADER])
    return raw[HEADER + 6 * count:].decode().split("\n") if count else []


@dataclass
class Layout:
    """What the map file holds; arrays by paper, ascending key."""

    keys: np.ndarray  # int64
    xy: np.ndarray  # float32 (n, 2) in [0, 1]
    cluster: np.ndarray  # int16
    month: np.ndarray  # int32: year * 12 + month - 1; -1 when undated
    fit_keys: np.ndarray  # int64: the sample the projection was fitted on
    fit_xy: np.ndarray
    centroids: np.ndarray  # float32 (clusters, 2)
    labels: np.ndarray  # str per cluster: its key terms, " · "-joined
    points: np.ndarray  # uint8: `encode_points` of every paper here, in this order
    json: np.ndarray  # uint8: `encode_json` of the same
    version: np.ndarray  # 0-d str: a digest of `points`, the responses' ETag

    @classmethod
    def empty(cls) -> Layout:
        none = np.zeros(0, dtype=np.int64)
        return encoded(none, [], np.zeros((0, 2), np.float32), np.zeros(0, np.int16),
                       np.zeros(0, np.int32), none, np.zeros((0, 2), np.float32),
                       np.zeros((0, 2), np.float32), np.zeros(0, dtype=str), "")

    def ids(self) -> list[str]:
        """Each paper's public id, in key order (decoded from `points`: 0.1 s at 588k)."""
        return decode_ids(self.points.tobytes())

    def position(self, key: int) -> int | None:
        """The index of `key` in the arrays, or None."""
        at = int(np.searchsorted(self.keys, key))
        return at if at < len(self.keys) and self.keys[at] == key else None


def month_number(row: IndexRow) -> int:
    return row.published.year * 12 + row.published.month - 1 if row.published else -1


class MapArtifact(Artifact):
    """The 2-D layout of every paper with a static vector. Bump FORMAT when the file or
    the method changes; the stamp's model names the embedder and the projection, so
    installing the ``map`` extra re-lays the map with openTSNE. `stamp.backfill_below`
    > 0 means a fit is due (`build`): the layout holds only what could be placed."""

    name = "map"
    FORMAT = 3  # 2: the encoded points in the file; 3: the JSON too, and a version
    FILE = "layout.npz"

    def __init__(self, root: Path, vectors: VectorArtifact, *, read_only: bool) -> None:
        self.vectors = vectors
        self.papers: Papers | None = None  # set by the writer before an update (labels)
        self.layout = Layout.empty()
        self._pending: dict[int, int] = {}  # key -> month, noted by `add`
        super().__init__(root, read_only=read_only)

    def wanted(self) -> Stamp:
        return Stamp(self.FORMAT, f"{self.vectors.configured.name}/{layout.projection_method()}",
                     2)

    def _open(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        try:
            with np.load(self.dir / self.FILE) as stored:
                self.layout = Layout(**{name: stored[name] for name in stored.files})
        except (OSError, ValueError, TypeError, KeyError, EOFError):
            self.layout = Layout.empty()
        self._pending = {}

    def add(self, rows: list[IndexRow], report: IndexReport) -> None:
        for row in rows:
            self._pending[row.key] = month_number(row)

    def __len__(self) -> int:
        return len(self.layout.keys)

    @property
    def method(self) -> str:
        return self.stamp.model.rpartition("/")[2]

    @property
    def building(self) -> bool:
        """A fit is due: no layout yet, or one of less than half the corpus."""
        return self.stamp.backfill_below > 0

    def _save(self, report: IndexReport) -> None:
        """Place the noted papers on the current layout; mark a fit as due when there is
        none yet or the corpus has doubled since (placing them still, if one exists)."""
        if not self._pending:
            return
        fitted = len(self.layout.fit_keys)
        if not fitted or len(self.layout.keys) + len(self._pending) > 2 * fitted \
                and fitted < layout.FIT_SAMPLE:
            self.stamp.backfill_below = self.stamp.last_seq
        if fitted:
            with report.timed("map: place"):
                ids = dict(zip(self.layout.keys.tolist(), self.layout.ids(), strict=True))
                ids.update(self._ids(np.fromiter(self._pending, np.int64, len(self._pending))))
                self.layout = self._place({k: m for k, m in self._pending.items() if k in ids},
                                          ids)
            self._write()
        self._pending = {}

    def build(self, report: IndexReport) -> None:
        """Fit the layout on every paper the static tier holds (a sample of them), place
        the others, cluster, label; write it and clear the due mark. The writer's job,
        under the index's writer lock (sync.py `build_map`)."""
        with report.timed("map: fit"):
            keys = np.asarray(self.vectors.index.dense.keys(), dtype=np.int64)
            ids = self._ids(keys)
            keys = np.fromiter(ids, np.int64, len(ids))
            self.layout = self._refit(keys, ids, self._stored_months(keys))
        self._write()
        self.stamp.backfill_below = 0
        self._pending = {}
        self.checkpoint(report)

    def _ids(self, keys: np.ndarray) -> dict[int, str]:
        """The public ids of the papers `keys` that are still stored, by ascending key."""
        if self.papers is None:
            return {int(k): str(k) for k in np.sort(keys).tolist()}
        if len(keys) > ALL_IDS_ABOVE:
            every = self.papers.ids()
            return {k: every[k] for k in np.sort(keys).tolist() if k in every}
        known = self.papers.ids(keys.tolist())
        return {k: known[k] for k in sorted(known)}

    def _stored_months(self, keys: np.ndarray) -> np.ndarray:
        """Months of `keys` as the store dates them (-1: undated or unknown)."""
        if self.papers is None:
            return np.full(len(keys), -1, dtype=np.int32)
        months = self.papers.months()
        return np.array([months.get(k, -1) for k in keys.tolist()], dtype=np.int32)

    def _refit(self, keys: np.ndarray, ids: dict[int, str], months: np.ndarray) -> Layout:
        """Fit on a sample of `keys` (ascending), place the others, cluster and label."""
        dense = self.vectors.index.dense
        rng = np.random.default_rng(layout.SEED)
        sample = np.sort(rng.choice(keys, layout.FIT_SAMPLE, replace=False)) \
            if len(keys) > layout.FIT_SAMPLE else keys
        fit_vectors = dense.get(sample)
        fit_xy = layout.fit(fit_vectors, self.method)
        xy = np.zeros((len(keys), 2), dtype=np.float32)
        for start in range(0, len(keys), PLACE_CHUNK):
            xy[start:start + PLACE_CHUNK] = layout.place(
                fit_vectors, fit_xy, dense.get(keys[start:start + PLACE_CHUNK]))
        xy[np.searchsorted(keys, sample)] = fit_xy  # the fitted keep their own position
        centroids = layout.kmeans(fit_xy, layout.cluster_count(len(sample)))
        cluster = layout.assign(xy, centroids)
        labels = self._label(keys, cluster, len(centroids))
        log.info("map: fitted %d papers (%s), placed %d", len(sample), self.method, len(keys))
        return encoded(keys, [ids[k] for k in keys.tolist()], xy, cluster, months, sample,
                       fit_xy, centroids, labels, self.method)

    def _place(self, pending: dict[int, int], ids: dict[int, str]) -> Layout:
        """The current layout plus `pending` papers placed by their fitted neighbours."""
        old, dense = self.layout, self.vectors.index.dense
        new = np.array(sorted(pending), dtype=np.int64)
        new = new[dense.held(new)]
        xy = layout.place(dense.get(old.fit_keys), old.fit_xy, dense.get(new))
        keep = ~np.isin(old.keys, new)  # a changed paper moves
        keys = np.concatenate([old.keys[keep], new])
        order = np.argsort(keys, kind="stable")
        months = np.array([pending[k] for k in new.tolist()], dtype=np.int32)
        cluster = np.concatenate([old.cluster[keep], layout.assign(xy, old.centroids)])[order]
        keys, xy = keys[order], np.concatenate([old.xy[keep], xy])[order]
        return encoded(keys, [ids[k] for k in keys.tolist()], xy, cluster,
                       np.concatenate([old.month[keep], months])[order], old.fit_keys,
                       old.fit_xy, old.centroids, old.labels, self.method)

    def _label(self, keys: np.ndarray, cluster: np.ndarray, clusters: int) -> np.ndarray:
        if self.papers is None:
            return np.array([""] * clusters)
        rng = np.random.default_rng(layout.SEED)
        texts: list[list[str]] = []
        for c in range(clusters):
            members = keys[cluster == c]
            if len(members) > layout.LABEL_PAPERS:
                members = rng.choice(members, layout.LABEL_PAPERS, replace=False)
            rows = self.papers.index_rows(members.tolist())
            texts.append([f"{row.title}. {row.abstract}" for row in rows])
        return np.array([" · ".join(terms) for terms in layout.key_terms(texts)])

    def publish(self) -> None:
        """Write the current layout and a new stamp (readers re-open it): `build`'s last
        step, and a benchmark's way to serve a layout made elsewhere."""
        self._write()
        self.checkpoint(IndexReport())

    def _write(self) -> None:
        tmp = self.dir / (self.FILE + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, **vars(self.layout))
        os.replace(tmp, self.dir / self.FILE)


def encoded(keys: np.ndarray, ids: list[str], xy: np.ndarray, cluster: np.ndarray,
            months: np.ndarray, fit_keys: np.ndarray, fit_xy: np.ndarray,
            centroids: np.ndarray, labels: np.ndarray, method: str) -> Layout:
    """A layout with both forms of `/api/map` encoded (588k papers: ~2 s the points, ~4 s
    the JSON), versioned by a digest of the points."""
    points = encode_points(ids, xy, cluster)
    version = hashlib.sha1(points).hexdigest()[:12]
    body = encode_json(version, method, ids, xy, cluster, [str(v) for v in labels.tolist()],
                       centroids)
    return Layout(keys, xy.astype(np.float32), cluster.astype(np.int16), months, fit_keys,
                  fit_xy, centroids, labels, np.frombuffer(points, np.uint8),
                  np.frombuffer(body, np.uint8), np.array(version))

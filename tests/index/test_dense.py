"""The memory-mapped matrix by key (index/dense.py): written by the indexer next to the HNSW
index, it follows adds, changes and removals, readers map it from disk, and a data dir
without it (or with one out of step) gets it rebuilt from the HNSW index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paperfeed.catalog import Catalog
from paperfeed.index import dense
from paperfeed.index.vectors import VectorIndex

from ..conftest import make_settings


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def brute_force(vectors: dict[int, np.ndarray], query: np.ndarray, keys: list[int],
                k: int) -> list[int]:
    held = [key for key in keys if key in vectors]
    scores = np.array([vectors[key] @ query for key in held])
    return [held[i] for i in np.argsort(-scores)[:k]]


def test_exact_search_follows_adds_changes_and_removals(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    rows = unit(rng.normal(size=(300, 24)))
    keys = list(range(1, 301))
    index = VectorIndex(tmp_path / "v.usearch", 24)
    index.add(keys, rows)
    current = dict(zip(keys, rows, strict=True))
    index.add([7], rows[100:101])  # paper 7 changed: its row is replaced
    current[7] = rows[100]
    index.remove([8, 9, 123_456])  # stale vectors dropped (an unknown key is ignored)
    del current[8], current[9]
    query = rows[100]
    subset = keys[::2] + [8, 9]
    assert [k for k, _ in index.search_exact(query, subset, 10)] == \
        brute_force(current, query, subset, 10)
    assert index.search_exact(query, subset, 1)[0][0] == 7
    for run in (keys[:100], keys[100:200]):  # a run with removed keys in it, and a whole run
        assert [k for k, _ in index.search_exact(query, run, 10)] == \
            brute_force(current, query, run, 10)
    assert not index.has([8, 9]).any() and index.has([7, 10]).all()
    assert index.vector(8) is None
    assert np.allclose(index.vector(7), rows[100], atol=1e-3)

    index.save()
    reader = VectorIndex(tmp_path / "v.usearch", 24, view=True)  # a `serve` worker
    assert [k for k, _ in reader.search_exact(query, subset, 10)] == \
        brute_force(current, query, subset, 10)
    assert reader.dense.count() == len(reader) == 298


def test_rows_past_the_end_grow_the_file_and_a_reader_sees_them_after_reopening(
        tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    rows = unit(rng.normal(size=(3, 8)))
    writer = VectorIndex(tmp_path / "v.usearch", 8)
    writer.add([1], rows[:1])
    writer.save()
    reader = VectorIndex(tmp_path / "v.usearch", 8, view=True)
    writer.add([200_000, 5], rows[1:])  # far past the first block of rows
    writer.save()
    assert not reader.has([200_000])[0]  # mapped before the file grew: not known yet
    assert reader.search_exact(rows[1], [1, 200_000], 1)[0][0] == 1
    reopened = VectorIndex(tmp_path / "v.usearch", 8, view=True)
    assert reopened.search_exact(rows[1], [1, 5, 200_000], 1)[0][0] == 200_000
    assert reader.has([5])[0]  # a row inside the old mapping is shared at once


def test_a_missing_or_stale_matrix_is_rebuilt_from_the_hnsw_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(13)
    rows = unit(rng.normal(size=(40, 16)))
    index = VectorIndex(tmp_path / "v.usearch", 16)
    index.add(list(range(40)), rows)
    index.save()
    (tmp_path / "dense.f16").unlink()  # a data dir indexed before the matrix existed
    (tmp_path / "dense.has").unlink()
    upgraded = VectorIndex(tmp_path / "v.usearch", 16)
    assert upgraded.dense.count() == 0 and upgraded.repair()  # as the lock holder does
    assert upgraded.dense.count() == 40 and not upgraded.repair()
    assert upgraded.search_exact(rows[5], list(range(40)), 1)[0][0] == 5
    upgraded.remove([5])  # a writer killed after dropping a row, before saving the index
    again = VectorIndex(tmp_path / "v.usearch", 16)
    assert again.repair() and again.has([5])[0]
    assert again.search_exact(rows[5], [4, 5, 6], 1)[0][0] == 5


def test_a_writer_opening_a_data_dir_from_before_the_matrix_writes_it(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path))  # the demo corpus, indexed
    tiers = [t for t in (catalog.indexes.semantic, catalog.indexes.transformer) if t]
    assert all(len(t.index) and t.index.dense.count() == len(t.index) for t in tiers)
    for tier in tiers:
        for name in ("dense.f16", "dense.has"):
            (tier.dir / name).unlink()
    reader = Catalog(make_settings(tmp_path), read_only=True)
    assert reader.indexes.semantic.index.dense.count() == 0  # readers never write it
    writer = Catalog(make_settings(tmp_path))
    for tier in (writer.indexes.semantic, writer.indexes.transformer):
        assert tier is not None and tier.index.dense.count() == len(tier.index) > 0


def test_exact_search_over_unsorted_duplicate_and_large_key_sets(tmp_path: Path) -> None:
    """Keys come sorted from the filter cache (no re-sort per search), in any order from
    elsewhere; a run of more than PARALLEL_ROWS rows is scanned on two threads."""
    from paperfeed.index.dense import PARALLEL_ROWS

    rng = np.random.default_rng(5)
    n = PARALLEL_ROWS + 5_000
    rows = unit(rng.normal(size=(n, 16)))
    keys = list(range(n))
    index = VectorIndex(tmp_path / "v.usearch", 16)
    index.add(keys, rows)
    current = dict(zip(keys, rows, strict=True))
    query = rows[n - 3]

    def agrees(found: list[tuple[int, float]], among: list[int]) -> bool:
        """Same best paper, and the same top-10 scores up to float16 rounding (near ties
        may swap places)."""
        best = brute_force(current, query, among, 10)
        ours = [current[k] @ query for k, _ in found]
        return found[0][0] == best[0] and np.allclose(
            ours, [current[k] @ query for k in best], atol=3e-3)

    assert agrees(index.search_exact(query, keys, 10), keys)
    shuffled = [int(k) for k in rng.permutation(keys[:3_000])] + [5, 5, 7, 7]
    found = index.search_exact(query, shuffled, 10)
    assert len({k for k, _ in found}) == 10 and agrees(found, sorted(set(shuffled)))


def planted(rng: np.random.Generator, n: int, dim: int, near: int) -> tuple[np.ndarray,
                                                                            np.ndarray]:
    """`n` random unit rows, the last `near` of them close to the returned query."""
    rows = unit(rng.normal(size=(n, dim)))
    query = rows[-1]
    rows[-near:] = unit(query + rng.normal(scale=0.03, size=(near, dim)))
    return rows, query


def smaller_scans(monkeypatch: pytest.MonkeyPatch) -> int:
    """The prefilter's thresholds scaled down 10x (HNSW inserts of 20k rows are slow)."""
    monkeypatch.setattr(dense, "PREFILTER_ROWS", 2_000)
    monkeypatch.setattr(dense, "MIN_SHORTLIST", 100)
    return dense.PREFILTER_ROWS


def test_large_scans_score_only_the_rows_whose_sign_bits_are_closest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above PREFILTER_ROWS rows of a tier's dimension, the sign bits shortlist the rows
    scored: the planted neighbours all come back, with their exact cosines, for a run of
    keys and a scattered set."""
    rng = np.random.default_rng(21)
    n, near = smaller_scans(monkeypatch) + 1_000, 10
    rows, query = planted(rng, n, 384, near)
    keys = list(range(1, n + 1))
    index = VectorIndex(tmp_path / "v.usearch", 384)
    index.add(keys, rows)
    assert index.dense.has_bits
    current = dict(zip(keys, rows, strict=True))
    scattered = sorted(set(keys[::3]) | set(keys[-near:]))
    for among in (keys, scattered):
        found = index.search_exact(query, among, 10)
        assert {k for k, _ in found} == set(keys[-near:])
        assert [k for k, _ in found] == brute_force(current, query, among, 10)
        assert np.allclose([s for _, s in found], [current[k] @ query for k, _ in found],
                           atol=3e-3)
    # The shortlist decides what is scored: a query's sign bits flipped lose its neighbours.
    flipped = index.search_exact(-query, keys, 10)
    assert not {k for k, _ in flipped} & set(keys[-near:])
    assert dense.shortlist(10) < len(scattered)


def test_a_matrix_without_sign_bits_scans_exactly_until_the_writer_writes_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(22)
    n = smaller_scans(monkeypatch) + 1_000
    rows, query = planted(rng, n, 128, 5)
    index = VectorIndex(tmp_path / "v.usearch", 128)
    index.add(list(range(n)), rows)
    index.save()
    bits = (tmp_path / "dense.bits").read_bytes()
    (tmp_path / "dense.bits").unlink()  # a data dir from before the bits
    reader = VectorIndex(tmp_path / "v.usearch", 128, view=True)
    assert not reader.dense.has_bits
    expected = [k for k, _ in reader.search_exact(query, list(range(n)), 5)]
    assert set(expected) == set(range(n - 5, n))
    writer = VectorIndex(tmp_path / "v.usearch", 128)
    writer.add([n + 70_000], rows[:1])  # growing must not invent zero bits for old rows
    assert not writer.dense.has_bits
    assert writer.repair() and writer.dense.has_bits and not writer.repair()
    assert (tmp_path / "dense.bits").read_bytes()[:len(bits)] == bits
    again = VectorIndex(tmp_path / "v.usearch", 128, view=True)
    assert again.dense.has_bits
    assert [k for k, _ in again.search_exact(query, list(range(n)), 5)] == expected

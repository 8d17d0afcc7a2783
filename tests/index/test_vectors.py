"""The HNSW vector index: approximate search, exact filtered search, replacement, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from paperfeed.index import vectors as vectors_module
from paperfeed.index.vectors import VectorIndex


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_subset_search_matches_brute_force(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    vectors = unit(rng.normal(size=(500, 32)))
    keys = list(range(10, 510))
    index = VectorIndex(tmp_path / "v.usearch", 32)
    index.add(keys, vectors)
    query = vectors[3]
    subset = keys[::3] + [99_999]  # an unknown key is ignored
    found = index.search_exact(query, subset, 5)
    scores = vectors[::3] @ query
    expected = [keys[::3][i] for i in np.argsort(-scores)[:5]]
    assert [r for r, _ in found] == expected
    assert found[0] == (13, found[0][1]) and abs(found[0][1] - 1.0) < 1e-2
    assert [r for r, _ in index.search(query, 1)] == [13]


def test_re_adding_replaces_and_invalidates_dense_copy(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    vectors = unit(rng.normal(size=(50, 16)))
    index = VectorIndex(tmp_path / "v.usearch", 16)
    index.add(list(range(1, 51)), vectors)
    assert index.search_exact(vectors[0], [1, 2], 1)[0][0] == 1
    index.add([2], vectors[:1])  # paper 2 changed: now identical to paper 1
    assert len(index) == 50
    top = index.search_exact(vectors[0], [2, 3], 1)
    assert top[0][0] == 2 and abs(top[0][1] - 1.0) < 1e-2
    index.save()
    reopened = VectorIndex(tmp_path / "v.usearch", 16, view=True)
    assert len(reopened) == 50 and reopened.search(vectors[0], 2)[0][0] in (1, 2)


def test_a_writer_maps_the_saved_index_and_copies_it_only_to_change_it(tmp_path: Path) -> None:
    """Between writes the HNSW file is mapped, not held in private memory (0.9 GB at 588k
    papers in the serving writer); a change loads it, a save maps the new file again, and
    a search that started on the old object finishes on it."""
    rng = np.random.default_rng(3)
    rows = rng.normal(size=(50, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    index = VectorIndex(tmp_path / "v.usearch", 8)
    index.add(list(range(1, 41)), rows[:40])
    index.save()
    writer = VectorIndex(tmp_path / "v.usearch", 8)  # a writer opening the data dir
    assert writer._viewing and len(writer) == 40
    before = writer.index
    assert writer.search(rows[3], 1)[0][0] == 4
    writer.add([41, 42], rows[40:42])
    assert not writer._viewing and writer.index is not before
    assert before.search(rows[3], 1).keys[0] == 4  # the old object still answers
    assert writer.search(rows[41], 1)[0][0] == 42
    writer.remove([5])
    writer.save()
    assert writer._viewing and len(writer) == 41
    assert writer.search(rows[41], 1)[0][0] == 42 and 5 not in {k for k, _ in
                                                                writer.search(rows[4], 5)}
    writer.save()  # nothing changed: nothing written
    assert VectorIndex(tmp_path / "v.usearch", 8, view=True).search(rows[40], 1)[0][0] == 41


@pytest.mark.parametrize("exact_below", [10_000, 0])
def test_neighbours_are_the_nearest_other_papers_nearest_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exact_below: int) -> None:
    """`neighbours` (For you's crowding), exact in a small index and by HNSW in a large one:
    each query's k nearest indexed papers but itself, as exact search finds them; a query
    the index does not hold keeps all k; NaN pads a small index; an empty one gives NaN."""
    monkeypatch.setattr(vectors_module, "EXACT_NEIGHBOURS", exact_below)
    rng = np.random.default_rng(3)
    vectors = unit(rng.normal(size=(300, 16)))
    index = VectorIndex(tmp_path / "v.usearch", 16)
    assert np.isnan(index.neighbours([1], vectors[:1], 4)).all()
    index.add(list(range(300)), vectors)
    asked = [5, 17, 250]
    near = index.neighbours(asked + [9_999], np.concatenate([vectors[asked], vectors[:1]]), 4)
    for row, key in enumerate(asked):
        sims = vectors @ vectors[key]
        sims[key] = -np.inf  # not its own neighbour
        np.testing.assert_allclose(near[row], np.sort(sims)[::-1][:4], atol=1e-2)
    assert near[3, 0] == pytest.approx(1.0, abs=1e-2)  # another paper's twin: kept
    (tmp_path / "small").mkdir()
    small = VectorIndex(tmp_path / "small" / "s.usearch", 16)
    small.add([1, 2, 3], vectors[:3])
    got = small.neighbours([1, 7], vectors[[0, 5]], 4)
    assert np.isfinite(got[0]).sum() == 2 and np.isfinite(got[1]).sum() == 3
    assert np.all(np.diff(got[1][:3]) <= 0)
    one = small.neighbours([2], vectors[1:2], 4)  # a single query (usearch: not a batch)
    np.testing.assert_allclose(one[0, :2], np.sort(vectors[[0, 2]] @ vectors[1])[::-1],
                               atol=1e-2)
    assert np.isnan(one[0, 2:]).all()

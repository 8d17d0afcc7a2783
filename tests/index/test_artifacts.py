"""The indexes as separate artifacts: each rebuilt alone, each refreshed alone."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.discover.search import search
from paperfeed.index.artifacts import read_stamps
from paperfeed.models import Paper

from ..conftest import make_settings

PAPERS = [Paper(title=t, abstract=a, arxiv_id=f"2504.{i:05d}", published=date(2025, 4, 1),
                source="t", source_ref=str(i)) for i, (t, a) in enumerate([
                    ("Sparse autoencoders", "Dictionary learning finds interpretable features."),
                    ("Graph kernels", "Counting walks compares graphs."),
                    ("Speculative decoding", "A draft model proposes tokens a large model checks."),
                ])]


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None,
                    reason="the transformer embedder's runtime is not installed")
def test_changing_the_embedder_rebuilds_only_the_vectors(tmp_path: Path) -> None:
    static = Catalog(make_settings(tmp_path, load_demo=False))
    static.ingest(PAPERS)
    static.reindex()
    reader = Catalog(static.settings, read_only=True)
    keyword_before, static_before = reader.indexes.fulltext, reader.indexes.vectors
    keyword_stamp = (tmp_path / "index" / "keyword" / "stamp.json").stat().st_mtime_ns

    Catalog(make_settings(tmp_path, load_demo=False, embedder="minilm-l6-v2-int8"))

    stamps = read_stamps(tmp_path / "index")
    assert stamps["vectors-transformer"].model == "minilm-l6-v2-int8"
    assert stamps["vectors-transformer"].count == stamps["keyword"].count == 3
    assert (tmp_path / "index" / "keyword" / "stamp.json").stat().st_mtime_ns == keyword_stamp, \
        "the keyword index was not touched"
    assert stamps["vectors-static"].model == "static-arxiv-384", "the other tier is kept"
    # The map is laid out from the configured embedder's vectors: it alone follows them.
    assert [a.name for a in reader.indexes.artifacts if a.refresh()] == ["map"], \
        "nothing else this reader serves changed"
    assert reader.indexes.fulltext is keyword_before and reader.indexes.vectors is static_before


def test_a_reader_reopens_only_what_changed_and_never_waits(tmp_path: Path) -> None:
    writer = Catalog(make_settings(tmp_path, load_demo=False))
    reader = Catalog(writer.settings, read_only=True)
    writer.ingest(PAPERS[:2])
    writer.reindex()
    assert reader.refresh() is True
    assert [h.paper.title for h in search(reader, "autoencoders", limit=1)] == \
        ["Sparse autoencoders"]
    keyword = reader.indexes.fulltext
    (tmp_path / "index" / "vectors-static" / "stamp.json").touch()  # a new checkpoint
    with reader.indexes._writing_here:  # this process is writing: refresh returns at once
        assert reader.refresh() is False
    assert reader.refresh() is True
    assert reader.indexes.fulltext is keyword, "only the vectors were re-opened"


def test_the_one_file_layout_is_rebuilt_as_artifacts(tmp_path: Path) -> None:
    index = tmp_path / "index"
    (index / "fulltext").mkdir(parents=True)
    (index / "fulltext" / "meta.json").write_text("{}")
    (index / "meta.json").write_text('{"format": 1, "embedder": "static-minilm-384"}')
    (index / "vectors.usearch").write_bytes(b"old")
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest(PAPERS)
    catalog.reindex()
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith("embeddings")) == \
        ["keyword", "map", "vectors-static", "vectors-transformer", "write.lock"]
    assert {name: s.count for name, s in read_stamps(index).items()} == \
        {"keyword": 3, "vectors-static": 3, "vectors-transformer": 3, "map": 0}
    catalog.indexes.build_map(catalog.store.papers)  # the follower's job, in the background
    assert read_stamps(index)["map"].count == 3

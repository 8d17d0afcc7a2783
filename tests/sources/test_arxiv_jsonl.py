"""arXiv snapshot JSON lines: the 20-line real excerpt (+1 broken line), compressed copies."""

from __future__ import annotations

import bz2
import gzip
import itertools
import lzma
import shutil
from datetime import date
from pathlib import Path

import pytest

from paperfeed.errors import SourceError
from paperfeed.models import Paper, SkippedRecord
from paperfeed.sources import detect_format, read_source
from paperfeed.sources.arxiv_jsonl import parse_record, read_arxiv_jsonl


def _split(records: list[Paper | SkippedRecord]) -> tuple[list[Paper], list[SkippedRecord]]:
    return (
        [r for r in records if isinstance(r, Paper)],
        [r for r in records if isinstance(r, SkippedRecord)],
    )


def test_excerpt_parses_and_reports_the_broken_line(fixtures: Path) -> None:
    papers, skipped = _split(list(read_arxiv_jsonl(fixtures / "arxiv_cs_excerpt.jsonl")))
    assert len(papers) == 20
    assert [(s.source_ref, s.reason[:8]) for s in skipped] == [
        ("arxiv_cs_excerpt.jsonl:11", "bad JSON")
    ]
    first = papers[0]
    assert first.arxiv_id == "1905.07447" and first.id == "1905.07447"
    assert first.title.startswith("REPLAB: A Reproducible Low-Cost Arm Benchmark Platform")
    assert first.authors[:2] == ["Brian Yang", "Jesse Zhang"]
    assert first.published == date(2019, 5, 17) == first.updated
    assert first.version == 1
    assert first.categories == ["cs.RO", "cs.CV", "cs.LG"]
    assert first.source == "arxiv-jsonl" and first.source_ref == "arxiv_cs_excerpt.jsonl:1"
    assert "\n" not in first.abstract and "  " not in first.abstract
    by_id = {p.arxiv_id: p for p in papers}
    assert by_id["1905.07451"].doi == "10.1145/3292500.3330872"
    # the line after the broken one keeps its own line number
    assert by_id["1905.07491"].source_ref == "arxiv_cs_excerpt.jsonl:12"


@pytest.mark.parametrize(
    ("suffix", "opener"),
    [(".xz", lzma.open), (".gz", gzip.open), (".bz2", bz2.open)],
)
def test_compressed_copies_give_the_same_records(
    fixtures: Path, tmp_path: Path, suffix: str, opener: object
) -> None:
    source = fixtures / "arxiv_cs_excerpt.jsonl"
    target = tmp_path / f"excerpt.jsonl{suffix}"
    with source.open("rb") as src, opener(target, "wb") as dst:  # type: ignore[operator]
        shutil.copyfileobj(src, dst)
    assert detect_format(target) == "arxiv-jsonl"
    plain = list(read_arxiv_jsonl(source))
    packed = list(read_source(target))
    assert [getattr(r, "title", r.source_ref.split(":")[-1]) for r in packed] == [
        getattr(r, "title", r.source_ref.split(":")[-1]) for r in plain
    ]
    assert packed[10].source_ref == f"excerpt.jsonl{suffix}:11"


def test_real_snapshot_streams_lazily(shared_data: Path) -> None:
    # islice: never read the whole 50 MB file in a test
    head = list(itertools.islice(read_arxiv_jsonl(shared_data / "data/arxiv/cs.jsonl.xz"), 5))
    assert head[0].title == "Nested satisfiability"  # type: ignore[union-attr]
    assert head[0].authors == ["Donald E. Knuth"]  # type: ignore[union-attr]
    assert head[0].arxiv_id == "cs/9301111"  # type: ignore[union-attr]
    assert head[0].published == date(1989, 12, 31)  # type: ignore[union-attr]


def test_record_mapping_edge_cases() -> None:
    record = {
        "id": "0704.0001",
        "title": "  Calculation of prompt\n  diphoton production  ",
        "abstract": " A fully\n differential calculation ",
        "authors": "C. Bal\\'azs, E. L. Berger and P. M. Nadolsky",
        "authors_parsed": [["Balázs", "C.", ""], ["Berger", "E. L.", ""], ["Smith", "J.", "Jr"]],
        "versions": [
            {"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"},
            {"version": "v2", "created": "Tue, 24 Jul 2007 20:10:27 GMT"},
        ],
        "categories": "hep-ph",
        "doi": "10.1103/PhysRevD.76.013009",
    }
    paper = parse_record(record, "f:1")
    assert isinstance(paper, Paper)
    assert paper.title == "Calculation of prompt diphoton production"
    assert paper.abstract == "A fully differential calculation"
    assert paper.authors == ["C. Balázs", "E. L. Berger", "J. Smith Jr"]
    assert (paper.published, paper.updated, paper.version) == (
        date(2007, 4, 2),
        date(2007, 7, 24),
        2,
    )
    record.pop("authors_parsed")
    assert parse_record(record, "f:1").authors == [  # type: ignore[union-attr]
        "C. Bal\\'azs",
        "E. L. Berger",
        "P. M. Nadolsky",
    ]
    assert parse_record({"title": "x"}, "f:2") == SkippedRecord("f:2", "missing id")
    assert parse_record({"id": "0704.0001", "title": " "}, "f:3").reason.startswith("missing title")  # type: ignore[union-attr]
    assert isinstance(parse_record([1, 2], "f:4"), SkippedRecord)
    assert isinstance(parse_record({"id": "nonsense", "title": "t"}, "f:5"), SkippedRecord)


def test_damaged_archive_is_a_source_error(fixtures: Path, tmp_path: Path) -> None:
    data = lzma.compress((fixtures / "arxiv_cs_excerpt.jsonl").read_bytes())
    broken = tmp_path / "broken.jsonl.xz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceError):
        list(read_arxiv_jsonl(broken))

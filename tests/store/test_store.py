"""The SQLite store: identity, idempotent upserts, merging sources and versions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from paperfeed.models import Paper
from paperfeed.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "pf.sqlite")


def arxiv_paper(**changes: object) -> Paper:
    fields = dict(title="Dual-Head Optimization for Semi-supervised Distillation",
                  abstract="We distil vision-language models into compact models.",
                  authors=["Ada Lovelace", "Alan Turing"], arxiv_id="2505.07675", version=1,
                  published=date(2025, 5, 12), categories=["cs.CV", "cs.LG"],
                  source="arxiv-jsonl", source_ref="cs.jsonl:1")
    fields.update(changes)
    return Paper(**fields)  # type: ignore[arg-type]


def test_same_input_twice_changes_nothing(store: Store) -> None:
    first = store.upsert([arxiv_paper()])
    seq = store.max_seq()
    second = store.upsert([arxiv_paper()])
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (1, 0, 0, 1)
    assert store.max_seq() == seq, "an unchanged paper must not be re-indexed"
    assert store.count() == 1


def test_capture_then_arxiv_is_one_paper(store: Store) -> None:
    capture = Paper(title="Dual-head optimization for semi-supervised distillation!",
                    abstract="Short capture abstract.", published=date(2025, 8, 1),
                    source="capture", source_ref="000.txt", rank=1)
    store.upsert([capture])
    store.upsert([arxiv_paper()])
    assert store.count() == 1
    paper = store.get(capture.id)
    assert paper is not None
    assert paper.arxiv_id == "2505.07675"
    assert paper.abstract.startswith("We distil"), "arXiv metadata is authoritative"
    assert store.get("2505.07675") == paper
    assert {s["source"] for s in store.sources_of(paper.rowid)} == {"capture", "arxiv-jsonl"}
    rank = [s["rank"] for s in store.sources_of(paper.rowid) if s["source"] == "capture"]
    assert rank == [1]


def test_arxiv_then_capture_keeps_arxiv_content(store: Store) -> None:
    store.upsert([arxiv_paper()])
    store.upsert([Paper(title="Dual-Head Optimization for Semi-supervised Distillation",
                        abstract="A damaged capture texttt{abstract}.", source="capture",
                        source_ref="p.txt", rank=4)])
    paper = store.get("2505.07675")
    assert paper is not None and paper.abstract.startswith("We distil")
    assert store.count() == 1


def test_newer_version_updates_older_does_not(store: Store) -> None:
    store.upsert([arxiv_paper()])
    store.upsert([arxiv_paper(version=3, abstract="Revised abstract.",
                              updated=date(2025, 6, 1))])
    store.upsert([arxiv_paper(version=2, abstract="Stale abstract.")])
    paper = store.get("2505.07675v3")
    assert paper is not None
    assert (paper.version, paper.abstract, paper.updated) == (3, "Revised abstract.",
                                                              date(2025, 6, 1))
    assert paper.published == date(2025, 5, 12)


def test_different_arxiv_papers_with_same_title_stay_apart(store: Store) -> None:
    store.upsert([arxiv_paper(), arxiv_paper(arxiv_id="2601.00001")])
    assert store.count() == 2


def test_failed_batch_rolls_back_and_keeps_earlier_data(store: Store) -> None:
    store.upsert([arxiv_paper()])

    def poisoned():
        yield arxiv_paper(arxiv_id="2601.00002", title="A perfectly fine second paper title")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        store.upsert(poisoned())
    assert store.count() == 1
    assert store.get("2601.00002") is None


def test_between_and_navigation(store: Store) -> None:
    store.upsert([arxiv_paper(arxiv_id=f"2501.0000{i}", title=f"Paper number {i} about graphs",
                              published=date(2025, 1, 1 + 2 * i)) for i in range(4)])
    days = [p.published for p in store.between(date(2025, 1, 1), date(2025, 1, 31), 10)]
    assert days == sorted(days, reverse=True) and len(days) == 4
    assert store.nearest_date(date(2025, 1, 5), before=True) == date(2025, 1, 3)
    assert store.nearest_date(date(2025, 1, 5), before=False) == date(2025, 1, 7)
    assert store.latest_date() == date(2025, 1, 7)


def test_filter_candidates_respect_cap(store: Store) -> None:
    store.upsert([arxiv_paper(arxiv_id=f"2501.0001{i}", title=f"Another paper number {i} here",
                              categories=["cs.IR" if i % 2 else "math.CO"]) for i in range(6)])
    matching, count = store.rowids_matching(None, None, ["cs.IR"], cap=10)
    assert count == 3 and matching is not None and len(matching) == 3
    assert store.rowids_matching(None, None, [], cap=2) == (None, 6)
    assert store.rowids_matching(None, None, ["cs.IR", "math.CO"], cap=5) == (None, 6)
    assert len(store.keep_matching(list(range(1, 7)), None, None, ["math.CO"])) == 3
    # categories follow a paper's new version
    store.upsert([arxiv_paper(arxiv_id="2501.00011", version=2, categories=["math.CO"],
                              title="Another paper number 1 here")])
    assert store.rowids_matching(None, None, ["cs.IR"], cap=10)[1] == 2


def test_page_aggregates_follow_changes(store: Store) -> None:
    store.upsert([arxiv_paper(categories=["cs.IR", "cs.LG"])])
    assert (store.count(), store.categories()) == (1, [("cs.IR", 1), ("cs.LG", 1)])
    store.upsert([arxiv_paper(arxiv_id="2601.00003", title="A third paper about ranking items",
                              categories=["cs.IR"])])
    assert (store.count(), store.categories()) == (2, [("cs.IR", 2), ("cs.LG", 1)])

"""Papers: identity, idempotent upserts, merging sources and versions, lists and filters."""

from __future__ import annotations

from datetime import date

import pytest

from paperfeed.models import Paper
from paperfeed.store import Papers, Store


@pytest.fixture
def papers(store: Store) -> Papers:
    return store.papers


def arxiv_paper(**changes: object) -> Paper:
    fields = dict(title="Dual-Head Optimization for Semi-supervised Distillation",
                  abstract="We distil vision-language models into compact models.",
                  authors=["Ada Lovelace", "Alan Turing"], arxiv_id="2505.07675", version=1,
                  published=date(2025, 5, 12), categories=["cs.CV", "cs.LG"],
                  source="arxiv-jsonl", source_ref="cs.jsonl:1")
    fields.update(changes)
    return Paper(**fields)  # type: ignore[arg-type]


def test_same_input_twice_changes_nothing(papers: Papers) -> None:
    first = papers.upsert([arxiv_paper()])
    seq = papers.max_seq()
    second = papers.upsert([arxiv_paper()])
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (1, 0, 0, 1)
    assert papers.max_seq() == seq, "an unchanged paper must not be re-indexed"
    assert papers.count() == 1


def test_capture_then_arxiv_is_one_paper(papers: Papers) -> None:
    capture = Paper(title="Dual-head optimization for semi-supervised distillation!",
                    abstract="Short capture abstract.", published=date(2025, 8, 1),
                    source="capture", source_ref="000.txt", rank=1)
    papers.upsert([capture])
    papers.upsert([arxiv_paper()])
    assert papers.count() == 1
    paper = papers.get(capture.id)
    assert paper is not None
    assert paper.arxiv_id == "2505.07675"
    assert paper.abstract.startswith("We distil"), "arXiv metadata is authoritative"
    assert papers.get("2505.07675") == paper
    assert {s.source for s in papers.sources_of(paper.key)} == {"capture", "arxiv-jsonl"}
    rank = [s.rank for s in papers.sources_of(paper.key) if s.source == "capture"]
    assert rank == [1]


def test_arxiv_then_capture_keeps_arxiv_content(papers: Papers) -> None:
    papers.upsert([arxiv_paper()])
    papers.upsert([Paper(title="Dual-Head Optimization for Semi-supervised Distillation",
                        abstract="A damaged capture texttt{abstract}.", source="capture",
                        source_ref="p.txt", rank=4)])
    paper = papers.get("2505.07675")
    assert paper is not None and paper.abstract.startswith("We distil")
    assert papers.count() == 1


def test_newer_version_updates_older_does_not(papers: Papers) -> None:
    papers.upsert([arxiv_paper()])
    papers.upsert([arxiv_paper(version=3, abstract="Revised abstract.",
                              updated=date(2025, 6, 1))])
    papers.upsert([arxiv_paper(version=2, abstract="Stale abstract.")])
    paper = papers.get("2505.07675v3")
    assert paper is not None
    assert (paper.version, paper.abstract, paper.updated) == (3, "Revised abstract.",
                                                              date(2025, 6, 1))
    assert paper.published == date(2025, 5, 12)


def test_different_arxiv_papers_with_same_title_stay_apart(papers: Papers) -> None:
    papers.upsert([arxiv_paper(), arxiv_paper(arxiv_id="2601.00001")])
    assert papers.count() == 2


def test_failed_batch_rolls_back_and_keeps_earlier_data(papers: Papers) -> None:
    papers.upsert([arxiv_paper()])

    def poisoned():
        yield arxiv_paper(arxiv_id="2601.00002", title="A perfectly fine second paper title")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        papers.upsert(poisoned())
    assert papers.count() == 1
    assert papers.get("2601.00002") is None


def test_between_and_navigation(papers: Papers) -> None:
    papers.upsert([arxiv_paper(arxiv_id=f"2501.0000{i}", title=f"Paper number {i} about graphs",
                              published=date(2025, 1, 1 + 2 * i)) for i in range(4)])
    days = [p.published for p in papers.between(date(2025, 1, 1), date(2025, 1, 31), 10)]
    assert days == sorted(days, reverse=True) and len(days) == 4
    assert papers.nearest_date(date(2025, 1, 5), before=True) == date(2025, 1, 3)
    assert papers.nearest_date(date(2025, 1, 5), before=False) == date(2025, 1, 7)
    assert papers.latest_date() == date(2025, 1, 7)


def test_filter_candidates_respect_cap(papers: Papers) -> None:
    papers.upsert([arxiv_paper(arxiv_id=f"2501.0001{i}", title=f"Another paper number {i} here",
                              categories=["cs.IR" if i % 2 else "math.CO"]) for i in range(6)])
    matching, count = papers.keys_matching(None, None, ["cs.IR"], cap=10)
    assert count == 3 and matching is not None and len(matching) == 3
    assert papers.keys_matching(None, None, [], cap=2) == (None, 6)
    assert papers.keys_matching(None, None, ["cs.IR", "math.CO"], cap=5) == (None, 6)
    assert len(papers.keep_matching(list(range(1, 7)), None, None, ["math.CO"])) == 3
    # categories follow a paper's new version
    papers.upsert([arxiv_paper(arxiv_id="2501.00011", version=2, categories=["math.CO"],
                              title="Another paper number 1 here")])
    assert papers.keys_matching(None, None, ["cs.IR"], cap=10)[1] == 2


def test_page_aggregates_follow_changes(papers: Papers) -> None:
    papers.upsert([arxiv_paper(categories=["cs.IR", "cs.LG"])])
    assert (papers.count(), papers.categories()) == (1, [("cs.IR", 1), ("cs.LG", 1)])
    papers.upsert([arxiv_paper(arxiv_id="2601.00003", title="A third paper about ranking items",
                              categories=["cs.IR"])])
    assert (papers.count(), papers.categories()) == (2, [("cs.IR", 2), ("cs.LG", 1)])


def test_twins_in_one_batch_merge_as_if_upserted_one_by_one(papers: Papers) -> None:
    capture = Paper(title="Dual-head optimization for semi-supervised distillation!",
                    abstract="Short capture abstract.", source="capture", source_ref="c", rank=2)
    stats = papers.upsert([capture, arxiv_paper(), arxiv_paper(version=2, abstract="Second.")])
    assert (stats.inserted, stats.updated, stats.unchanged) == (1, 2, 0)
    assert papers.count() == 1
    paper = papers.get(capture.id)
    assert paper is not None and (paper.arxiv_id, paper.version, paper.abstract) == (
        "2505.07675", 2, "Second.")
    assert paper.categories == ["cs.CV", "cs.LG"]
    assert papers.keys_matching(None, None, ["cs.LG"], cap=5) == ([paper.key], 1)
    assert {s.source for s in papers.sources_of(paper.key)} == {"capture", "arxiv-jsonl"}


def test_same_paper_twice_in_a_batch_is_one_insert_then_unchanged(papers: Papers) -> None:
    stats = papers.upsert([arxiv_paper(), arxiv_paper()])
    assert (stats.inserted, stats.updated, stats.unchanged) == (1, 0, 1)
    assert papers.count() == 1


def test_large_batches_and_one_changed_paper_in_them(papers: Papers) -> None:
    batch = [arxiv_paper(arxiv_id=f"2402.{i:05d}", title=f"Paper number {i} of a large batch",
                         categories=["cs.DL"]) for i in range(2500)]
    assert papers.upsert(batch).inserted == 2500
    again = papers.upsert(batch)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2500)
    batch[2499] = arxiv_paper(arxiv_id="2402.02499", title="Paper number 2499, revised",
                              version=2, categories=["cs.IR"])
    assert papers.upsert(batch).updated == 1
    assert papers.keys_matching(None, None, ["cs.IR"], cap=10)[1] == 1
    assert papers.keys_matching(None, None, ["cs.DL"], cap=10)[1] == 2499


def test_change_feed_follows_seq_in_batches(papers: Papers) -> None:
    papers.upsert([arxiv_paper(arxiv_id=f"2501.0010{i}", title=f"A paper on feeds number {i}")
                   for i in range(5)])
    assert papers.count_changed_since(0) == 5
    batches = list(papers.changed_since(0, batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    rows = [row for batch in batches for row in batch]
    assert [r.seq for r in rows] == sorted(r.seq for r in rows)
    assert rows[0].authors == ["Ada Lovelace", "Alan Turing"] and rows[0].categories == [
        "cs.CV", "cs.LG"]
    last = rows[-1].seq
    assert papers.count_changed_since(last) == 0 and list(papers.changed_since(last)) == []
    papers.upsert([arxiv_paper(arxiv_id="2501.00102", title="A paper on feeds number 2",
                               abstract="A new abstract.", version=2)])
    [[changed]] = list(papers.changed_since(last))
    assert changed.abstract == "A new abstract." and changed.key == rows[2].key


def test_links_are_merged_without_moving_seq(store: Store) -> None:
    store.papers.upsert([arxiv_paper()])
    paper = store.papers.get("2505.07675")
    assert paper is not None
    before = store.state()
    store.papers.add_links(paper.key, {"code": "https://github.com/example/dual-head"})
    after = store.state()
    assert after.seq == before.seq, "links are not indexed"
    assert after.community > before.community, "but lists show them: pages re-render"
    links = store.papers.get("2505.07675").links
    assert links["code"] == "https://github.com/example/dual-head" and "abs" in links


def test_get_many_keeps_order_and_drops_unknown(papers: Papers) -> None:
    papers.upsert([arxiv_paper(arxiv_id=f"2501.0020{i}", title=f"A paper about order {i}")
                   for i in range(3)])
    keys = [papers.get(f"2501.0020{i}").key for i in (2, 0, 1)]
    assert [p.key for p in papers.get_many([*keys, 99_999])] == keys
    assert papers.get_many([]) == []

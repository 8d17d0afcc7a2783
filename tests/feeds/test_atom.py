"""Atom feeds: valid for feedparser and for RFC 4287's structure, text stays text.

No Atom RELAX NG schema is available offline here, so `assert_rfc4287` checks the
rules the schema encodes that matter for what we emit (namespaces, required and
single-valued elements, RFC 3339 dates, links, authors).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from paperfeed.feeds import atom_feed
from paperfeed.models import Paper, StoredPaper
from paperfeed.sources.arxiv_jsonl import read_arxiv_jsonl

ATOM = "http://www.w3.org/2005/Atom"
A = f"{{{ATOM}}}"
SITE = "https://papers.example.org"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
SCRIPT = "<script>alert(1)</script> & <b>bold</b>"


def paper(key: int = 1, **fields: Any) -> StoredPaper:
    values: dict[str, Any] = {
        "key": key,
        "id": f"2401.0{key:04d}",
        "title": f"Paper number {key}",
        "abstract": f"We study problem {key}.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "categories": ["cs.LG", "stat.ML"],
        "arxiv_id": f"2401.0{key:04d}",
        "doi": None,
        "published": date(2024, 1, key),
        "updated": date(2024, 2, key),
        "version": 2,
        "links": {"abs": f"https://arxiv.org/abs/2401.0{key:04d}",
                  "pdf": f"https://arxiv.org/pdf/2401.0{key:04d}"},
        "added_at": "2026-11-20T10:00:00+00:00",
    }
    values.update(fields)
    return StoredPaper(**values)


def build(papers: list[StoredPaper], **kwargs: Any) -> bytes:
    args: dict[str, Any] = {
        "title": "Daily papers", "subtitle": "New papers, every day",
        "feed_path": "/feeds/daily.atom", "html_path": "/", "site_url": SITE,
    }
    args.update(kwargs)
    return atom_feed(papers=papers, **args)


def assert_rfc4287(xml: bytes) -> etree._Element:
    """Structural RFC 4287 checks; returns the parsed <feed>."""
    root = etree.fromstring(xml)
    assert root.tag == A + "feed"
    for element in root.iter():
        assert isinstance(element.tag, str) and element.tag.startswith(A), element.tag

    def one(parent: etree._Element, name: str, required: bool = True) -> None:
        count = len(parent.findall(A + name))
        assert count == 1 if required else count <= 1, (name, count)

    def dates(parent: etree._Element) -> None:
        for name in ("updated", "published"):
            for element in parent.findall(A + name):
                assert RFC3339.match(element.text or ""), element.text

    def links(parent: etree._Element) -> None:
        alternates = set()
        for link in parent.findall(A + "link"):
            assert link.get("href"), etree.tostring(link)
            if link.get("rel", "alternate") == "alternate":
                key = (link.get("type"), link.get("hreflang"))
                assert key not in alternates, "two alternate links of one type"
                alternates.add(key)

    def texts(parent: etree._Element) -> None:
        for name in ("title", "subtitle", "summary"):
            for element in parent.findall(A + name):
                assert element.get("type", "text") == "text"
                assert len(element) == 0  # no child markup

    for name in ("id", "title", "updated"):
        one(root, name)
    for name in ("subtitle", "generator"):
        one(root, name, required=False)
    dates(root)
    links(root)
    texts(root)
    feed_has_author = root.find(A + "author") is not None
    for entry in root.findall(A + "entry"):
        for name in ("id", "title", "updated"):
            one(entry, name)
        for name in ("published", "summary", "content"):
            one(entry, name, required=False)
        dates(entry)
        links(entry)
        texts(entry)
        assert feed_has_author or entry.find(A + "author") is not None
        assert entry.find(A + "content") is not None or any(
            link.get("rel", "alternate") == "alternate" for link in entry.findall(A + "link"))
        for person in entry.findall(A + "author"):
            one(person, "name")
            assert (person.findtext(A + "name") or "").strip()
        for category in entry.findall(A + "category"):
            assert category.get("term")
    return root


def parse(xml: bytes) -> Any:
    parsed = feedparser.parse(xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_feed_round_trips_through_feedparser() -> None:
    papers = [paper(3), paper(1), paper(2)]
    xml = build(papers)
    assert_rfc4287(xml)
    feed = parse(xml)

    assert feed.feed.title == "Daily papers"
    assert feed.feed.subtitle == "New papers, every day"
    assert feed.feed.id == SITE + "/feeds/daily.atom"
    assert feed.feed.generator == "paperfeed"
    feed_links = {link.rel: link for link in feed.feed.links}
    assert feed_links["self"].href == SITE + "/feeds/daily.atom"
    assert feed_links["self"].type == "application/atom+xml"
    assert feed_links["alternate"].href == SITE + "/"
    assert feed.feed.updated_parsed[:3] == (2024, 2, 3)  # the newest entry's update

    assert [e.title for e in feed.entries] == [p.title for p in papers]  # order kept
    for entry, source in zip(feed.entries, papers, strict=True):
        assert entry.id == f"{SITE}/papers/{source.id}"
        links = {link.rel: link for link in entry.links}
        assert links["alternate"].href == f"{SITE}/papers/{source.id}"
        assert links["alternate"].type == "text/html"
        assert links["related"].href == source.links["abs"]
        assert entry.link == f"{SITE}/papers/{source.id}"
        assert [a.name for a in entry.authors] == source.authors
        assert entry.summary == source.abstract
        assert entry.summary_detail.type == "text/plain"
        assert [t.term for t in entry.tags] == source.categories
        assert entry.published == f"{source.published.isoformat()}T00:00:00+00:00"
        assert entry.updated == f"{source.updated.isoformat()}T00:00:00+00:00"
    assert "author" not in feed.feed  # every entry has its own authors


def test_self_link_and_id_keep_the_query() -> None:
    path = "/feeds/search.atom?q=graph+neural&category=cs.LG"
    xml = build([paper()], feed_path=path, html_path="/search?q=graph+neural")
    root = assert_rfc4287(xml)
    self_link = root.find(A + "link[@rel='self']")
    assert self_link is not None and self_link.get("href") == SITE + path
    assert root.findtext(A + "id") == SITE + path
    feed = parse(xml)
    assert {link.rel: link.href for link in feed.feed.links} == {
        "self": SITE + path, "alternate": SITE + "/search?q=graph+neural"}


def test_hostile_text_stays_text() -> None:
    hostile = paper(1, title=SCRIPT, abstract=f"Abstract {SCRIPT}", authors=[SCRIPT])
    xml = build([hostile], title=SCRIPT, subtitle=SCRIPT)
    root = assert_rfc4287(xml)
    assert b"<script" not in xml and b"&lt;script&gt;" in xml
    assert not [e for e in root.iter() if etree.QName(e).localname in ("script", "b", "div")]
    assert root.findtext(A + "title") == SCRIPT
    assert root.findtext(A + "subtitle") == SCRIPT
    entry = root.find(A + "entry")
    assert entry is not None
    assert entry.findtext(A + "title") == SCRIPT
    assert entry.findtext(A + "summary") == f"Abstract {SCRIPT}"
    assert entry.findtext(f"{A}author/{A}name") == SCRIPT
    parsed = parse(xml)
    assert parsed.entries[0].title_detail.type == "text/plain"


def test_empty_feed_is_valid() -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    xml = build([], title="Your upvotes", subtitle="")
    root = assert_rfc4287(xml)
    assert root.find(A + "entry") is None and root.find(A + "subtitle") is None
    updated = datetime.fromisoformat(root.findtext(A + "updated") or "")
    assert updated.tzinfo is not None and updated >= before
    feed = parse(xml)
    assert feed.entries == [] and feed.feed.title == "Your upvotes"


def test_xml_illegal_characters_are_stripped() -> None:
    dirty = paper(
        1,
        title="Deep\x00 lear\x1bning\x0b for \ud800graphs\ufffe",
        abstract="Line one\x0c\nline\x08 two\x85.",
        authors=["Gra\x07ce Hopper", "\x01\x02"],
        categories=["cs.\x1fLG"],
    )
    xml = build([dirty], title="Daily\x00", subtitle="sub\x1btitle")
    root = assert_rfc4287(xml)
    entry = parse(xml).entries[0]
    assert entry.title == "Deep learning for graphs"
    assert entry.summary == "Line one\nline two."
    assert [a.name for a in entry.authors] == ["Grace Hopper"]
    assert [t.term for t in entry.tags] == ["cs.LG"]
    assert root.findtext(A + "title") == "Daily"
    assert root.findtext(A + "subtitle") == "subtitle"


def test_titles_and_names_are_one_line() -> None:
    xml = build([paper(1, title="A title that\n  wraps", authors=["  Ada\n Lovelace "])])
    entry = parse(xml).entries[0]
    assert entry.title == "A title that wraps"
    assert entry.author == "Ada Lovelace"


def test_votes_prefix_the_summary() -> None:
    papers = [paper(1), paper(2), paper(3, abstract="")]
    xml = build(papers, votes={1: 5, 2: 1})
    assert_rfc4287(xml)
    summaries = [e.summary for e in parse(xml).entries]
    assert summaries == ["▲ 5 upvotes\n\nWe study problem 1.",
                         "▲ 1 upvote\n\nWe study problem 2.", "▲ 0 upvotes"]


def test_without_votes_or_abstract_there_is_no_summary() -> None:
    xml = build([paper(1, abstract="")])
    root = assert_rfc4287(xml)
    assert root.find(f"{A}entry/{A}summary") is None


def test_dates_fall_back_to_added_at_and_are_utc() -> None:
    local = paper(1, id="pf-0123456789ab", arxiv_id=None, published=None, updated=None,
                  links={}, added_at="2026-11-20T12:30:00+02:00")
    naive = paper(2, published=None, updated=None, added_at="2026-11-21T08:00:00")
    xml = build([local, naive])
    root = assert_rfc4287(xml)
    entries = parse(xml).entries
    assert entries[0].updated == entries[0].published == "2026-11-20T10:30:00+00:00"
    assert entries[1].updated == "2026-11-21T08:00:00+00:00"
    assert [link.rel for link in entries[0].links] == ["alternate"]  # no arXiv page
    assert entries[0].id == SITE + "/papers/pf-0123456789ab"
    assert root.findtext(A + "updated") == "2026-11-21T08:00:00+00:00"


def test_updated_is_never_before_published() -> None:
    odd = paper(1, published=date(2024, 3, 1), updated=date(2024, 1, 1))
    entry = parse(build([odd])).entries[0]
    assert entry.updated == "2024-03-01T00:00:00+00:00"


def test_explicit_updated_counts_when_newer() -> None:
    newer = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    root = assert_rfc4287(build([paper(1)], updated=newer))
    assert root.findtext(A + "updated") == "2026-11-23T09:15:00+00:00"
    naive_old = datetime(2000, 1, 1)
    root = assert_rfc4287(build([paper(1)], updated=naive_old))
    assert root.findtext(A + "updated") == "2024-02-01T00:00:00+00:00"
    root = assert_rfc4287(build([], updated=naive_old))
    assert root.findtext(A + "updated") == "2000-01-01T00:00:00+00:00"


def test_entry_without_authors_gets_the_feed_author() -> None:
    xml = build([paper(1), paper(2, authors=["", "  "])])
    root = assert_rfc4287(xml)
    assert root.findtext(f"{A}author/{A}name") == "paperfeed"
    assert parse(xml).entries[1].get("authors") in (None, [])


def test_untitled_paper_uses_its_id() -> None:
    entry = parse(build([paper(1, title=" \x00 ")])).entries[0]
    assert entry.title == "2401.00001"


def test_old_style_ids_and_odd_characters_make_valid_urls() -> None:
    xml = build([paper(1, id="cs/9301111", arxiv_id="cs/9301111")],
                feed_path="/feeds/search.atom?q=naïve bayes")
    root = assert_rfc4287(xml)
    assert root.findtext(f"{A}entry/{A}id") == SITE + "/papers/cs/9301111"
    self_href = root.find(A + "link[@rel='self']").get("href")  # type: ignore[union-attr]
    assert self_href == SITE + "/feeds/search.atom?q=na%C3%AFve%20bayes"


def test_real_arxiv_records() -> None:
    records = [p for p in read_arxiv_jsonl(FIXTURES / "arxiv_cs_excerpt.jsonl")
               if isinstance(p, Paper)]
    assert len(records) >= 10
    stored = [StoredPaper(key=n, id=p.id, title=p.title, abstract=p.abstract,
                          authors=p.authors, categories=p.categories, arxiv_id=p.arxiv_id,
                          doi=p.doi, published=p.published, updated=p.updated,
                          version=p.version, links=p.links,
                          added_at="2026-11-24T00:00:00+00:00")
              for n, p in enumerate(records, 1)]
    xml = build(stored, votes={1: 2})
    assert_rfc4287(xml)
    feed = parse(xml)
    assert [e.id for e in feed.entries] == [f"{SITE}/papers/{p.id}" for p in stored]
    assert [e.title for e in feed.entries] == [p.title for p in stored]
    for entry, source in zip(feed.entries, stored, strict=True):
        assert [a.name for a in entry.get("authors", [])] == source.authors
        assert {link.rel: link.href for link in entry.links}["related"] == (
            f"https://arxiv.org/abs/{source.arxiv_id}")


@pytest.mark.parametrize("site", [SITE, SITE + "/"])
def test_site_url_trailing_slash_is_tolerated(site: str) -> None:
    root = assert_rfc4287(build([paper(1)], site_url=site))
    assert root.findtext(A + "id") == SITE + "/feeds/daily.atom"


def test_input_papers_are_not_modified() -> None:
    original = paper(1, title="Dirty\x00 title")
    copy = replace(original, links=dict(original.links))
    build([original], votes={1: 3})
    assert original == copy

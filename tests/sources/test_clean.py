"""The ingest gate (`sources/clean.py`): control characters, links and field sizes, for
records from every source, checked on what the store and the API then hold."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.errors import BadRequest
from paperfeed.members import ManualPaper, Submissions
from paperfeed.members.submit import extra_links
from paperfeed.models import Paper, SkippedRecord, StoredPaper
from paperfeed.sources import read_source
from paperfeed.sources.arxiv_api import parse_feed
from paperfeed.sources.arxiv_oai import parse_list_records
from paperfeed.sources.captured import parse_capture
from paperfeed.sources.clean import LIMITS, admit, clean_link, clean_text
from paperfeed.web import create_app

from ..conftest import make_settings
from .conftest import fixture_bytes

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
DIRTY = "Weak\x00 lensing\x1b[31m shear\x07 with\x85 C1\x9b and\r\nCRLF\ttab"
ABSTRACT = "An abstract long enough to be taken for one by the page-capture parser. " * 6


def test_clean_text_removes_controls_keeps_tab_and_newline() -> None:
    assert clean_text(DIRTY) == "Weak lensing[31m shear with C1 and\nCRLF\ttab"
    assert clean_text("plain ünïcode — text") == "plain ünïcode — text"
    assert clean_text("lone \ud800surrogate") == "lone surrogate"


@pytest.mark.parametrize("url", [
    "javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "//evil.example/x",
    "/relative/path", "http://", "https:///nohost", "ftp://example.org/file",
    "http://exa mple.org/", "https://example.org/\x00", "http://[::1", "",
    "https://example.org/" + "a" * LIMITS.url,
])
def test_only_absolute_http_links_survive(url: str) -> None:
    assert clean_link(url) is None


def test_good_links_are_kept_as_given() -> None:
    for url in ("https://arxiv.org/abs/2401.01234", "http://github.com/google/jax",
                "HTTPS://Example.org/a?b=c#d", "http://[::1]:8000/x"):
        assert clean_link(url) == url


def _stored(catalog: Catalog, paper_id: str) -> StoredPaper:
    stored = catalog.store.papers.get(paper_id)
    assert stored is not None, paper_id
    return stored


def assert_clean(paper: StoredPaper) -> None:
    """What any stored paper must be: no control characters, http(s) links, within limits."""
    texts = [paper.title, paper.abstract, paper.doi or "", *paper.authors, *paper.categories,
             *paper.links, *paper.links.values()]
    for text in texts:
        assert not CONTROL.search(text.replace("\t", "").replace("\n", "")), (paper.id, text)
    assert all(clean_link(url) == url for url in paper.links.values()), paper.links
    assert len(paper.title) <= LIMITS.title and len(paper.abstract) <= LIMITS.abstract
    assert len(paper.authors) <= LIMITS.authors
    assert all(len(name) <= LIMITS.author for name in paper.authors)
    assert paper.version is None or paper.version <= LIMITS.version


def _capture() -> list[Paper | SkippedRecord]:
    text = f"new\n\nAug 1\n\nA {DIRTY} title\n\n{ABSTRACT} {DIRTY}\n"
    return list(parse_capture(text, "capture.txt", year=2025))


def _jsonl(tmp_path: Path) -> list[Paper | SkippedRecord]:
    base = {"title": "A paper", "abstract": ABSTRACT, "authors": "A. Author",
            "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]}
    lines = [
        {**base, "id": "0704.0001", "title": "T" * 5_000_000},  # 5 MB title: skipped
        {**base, "id": "0704.0002", "abstract": "word " * 4_000_000},  # 20 MB: cut
        {**base, "id": "0704.0003", "abstract": DIRTY, "title": f"Dirty {DIRTY}"},
        {**base, "id": "0704.0004", "versions": [  # past SQLite's integers
            {"version": "v99999999999999999999999", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]},
        {**base, "id": "0704.0005", "authors_parsed": [[f"Name{i}", "A."] for i in
                                                       range(LIMITS.authors + 5)]},
        {**base, "id": "0704.0006", "doi": "10.1/" + "d" * 400, "categories": "x" * 100},
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return list(read_source(path))


def _bibtex(tmp_path: Path) -> list[Paper | SkippedRecord]:
    path = tmp_path / "hostile.bib"
    path.write_text("@article{evil,\n  title = {An evil entry},\n"
                    "  url = {javascript:alert(document.cookie)},\n"
                    f"  abstract = {{{DIRTY}}},\n  year = {{2024}}\n}}\n")
    return list(read_source(path))


def _oai() -> list[Paper | SkippedRecord]:
    xml = fixture_bytes("oai_listrecords_page1.xml").decode()
    # XML 1.0 allows C1 controls and carries them as character references too.
    xml = xml.replace("<abstract>", "<abstract>C1 \x85\x9b&#x9b; controls ", 1)
    xml = re.sub(r"<license>[^<]*</license>", "<license>javascript:alert(1)</license>", xml,
                 count=1)
    page = parse_list_records(xml.encode())
    assert page is not None
    return [*page.papers[:1]]


def _arxiv_api() -> list[Paper | SkippedRecord]:
    xml = fixture_bytes("arxiv_api_search_testing_start0.xml").decode()
    xml = xml.replace('href="https://arxiv.org/pdf/2202.12139v1"', 'href="javascript:alert(1)"')
    papers, _ = parse_feed(xml.encode())
    return [papers[0]]


def test_every_source_is_cleaned_and_capped_at_ingest(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    records = [*_capture(), *_jsonl(tmp_path), *_bibtex(tmp_path), *_oai(), *_arxiv_api()]
    report = catalog.ingest(records)

    assert report.stats.inserted == len(records) - 1, "only the 5 MB title is skipped"
    [skipped] = report.skipped
    assert skipped.source_ref == "hostile.jsonl:1" and "title of 5,000,000 characters" in \
        skipped.reason
    amended = {record.source_ref: record.reason for record in report.amended}
    assert "abstract cut from 19,999,999 to 20,000" in amended["hostile.jsonl:2"]
    assert "dropped version" in amended["hostile.jsonl:4"]
    assert "author list cut from 10,005 to 10,000" in amended["hostile.jsonl:5"]
    assert "DOI" in amended["hostile.jsonl:6"] and "category" in amended["hostile.jsonl:6"]
    assert "dropped link 'url'" in amended["hostile.bib:1"]
    assert any("dropped link 'license'" in reason for reason in amended.values())
    assert any("dropped link 'pdf'" in reason for reason in amended.values())

    found = (catalog.store.papers.find(r) for r in records if isinstance(r, Paper))
    papers = [paper for paper in found if paper is not None]
    assert len(papers) == len(records) - 1
    for paper in papers:
        assert_clean(paper)
    assert "0704.0001" not in {p.id for p in papers}
    assert _stored(catalog, "0704.0004").version is None
    bib = next(p for p in papers if p.title == "An evil entry")
    assert "url" not in bib.links and bib.abstract.startswith("Weak lensing[31m shear with C1")

    client = TestClient(create_app(catalog.settings, catalog))
    page = client.get("/papers/0704.0002")
    assert page.status_code == 200 and len(page.content) < 100_000, "no 20 MB page"
    api = client.get("/api/papers/0704.0003").json()
    assert "\x00" not in json.dumps(api) and "\\u0000" not in json.dumps(api)


def test_amended_records_keep_their_place_in_a_batch(tmp_path: Path) -> None:
    """A bad record never costs its neighbours: the rest of the batch is stored."""
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    papers = [Paper(title=f"Paper number {i}", abstract=ABSTRACT, source="t", source_ref=str(i),
                    arxiv_id=f"2401.{i:05d}", version=10**30 if i == 3 else 1)
              for i in range(6)]
    report = catalog.ingest(papers)
    assert report.stats.inserted == 6 and [r.source_ref for r in report.amended] == ["3"]


def test_admit_skips_titles_made_only_of_controls_and_long_ids() -> None:
    empty, _ = admit(Paper(title="\x00\x01\x02", source_ref="f:1"))
    assert isinstance(empty, SkippedRecord) and "no title" in empty.reason
    long_id, _ = admit(Paper(title="A title", arxiv_id="a" * 100, source_ref="f:2"))
    assert isinstance(long_id, SkippedRecord) and "arXiv id of 100" in long_id.reason


def test_manual_submissions_pass_the_same_gate(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    member = catalog.store.members.add_user("ada", "ada@example.org", "hash")
    submissions = Submissions(catalog, "http://127.0.0.1:9/unreachable")
    typed = submissions.manual(member, ManualPaper(
        title=f"Typed {DIRTY}", abstract=DIRTY, authors=["Ada\x00 Lovelace\x1b"]))
    assert_clean(typed.paper)
    assert typed.paper.authors == ["Ada Lovelace"]
    with pytest.raises(BadRequest, match="no title"):
        submissions.manual(member, ManualPaper(title="\x00\x07", abstract="", authors=[]))
    with pytest.raises(BadRequest, match="http"):  # links added on submission, same rule
        extra_links(code="https://example.org/\x00<script>")

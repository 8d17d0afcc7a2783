"""arXiv query API against a loopback server serving recorded Atom responses."""

from __future__ import annotations

from datetime import date

import pytest

from paperfeed.errors import HarvestError, SourceError
from paperfeed.sources.arxiv_api import fetch_by_ids, parse_feed, search

from .conftest import LocalServer, Reply, SleepRecorder, fixture_bytes

ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}


def api(params: dict[str, str]) -> Reply:
    ids = params.get("id_list", "")
    if ids == "0808.05394,1707.08567":
        return 200, ATOM, fixture_bytes("arxiv_api_id_list_0808.05394_1707.08567.xml")
    if ids == "astro-ph/0601001":
        return 200, ATOM, fixture_bytes("arxiv_api_id_list_astro-ph_0601001.xml")
    if params.get("search_query") == "all:testing":
        start = params.get("start")
        name = {"0": "start0", "10": "start10"}.get(start or "")
        if name:
            return 200, ATOM, fixture_bytes(f"arxiv_api_search_testing_{name}.xml")
    # what arXiv really does for a malformed id: HTTP 400 + an Atom error entry
    return 400, ATOM, fixture_bytes("arxiv_api_error_bad_id.xml")


def test_fetch_by_ids_omits_unknown_ids(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = api
    papers = fetch_by_ids(
        ["0808.05394", "arXiv:1707.08567"], base_url=local_server.url, sleep=sleeps
    )
    assert [p.arxiv_id for p in papers] == ["1707.08567"]
    (paper,) = papers
    assert paper.title == (
        "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    )
    assert paper.version == 1 and paper.published == date(2017, 7, 27)
    assert paper.authors[0] == "Kees A. Schouhamer Immink" and len(paper.authors) == 34
    assert paper.categories == ["cs.IT"]
    assert paper.links["pdf"] == "https://arxiv.org/pdf/1707.08567v1"
    assert local_server.requests == [{"id_list": "0808.05394,1707.08567", "max_results": "2"}]


def test_old_style_id(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = api
    (paper,) = fetch_by_ids(
        ["https://arxiv.org/abs/astro-ph/0601001"], base_url=local_server.url, sleep=sleeps
    )
    assert paper.arxiv_id == "astro-ph/0601001" and paper.id == "astro-ph/0601001"
    assert paper.authors[:2] == ["Andrew Gould", "Susan Dorsher"]
    assert paper.categories == ["astro-ph"]
    assert paper.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")


def test_search_pages_through_results(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = api
    papers = list(
        search("all:testing", max_results=20, page_size=10, base_url=local_server.url, sleep=sleeps)
    )
    assert len(papers) == 20
    assert papers[0].arxiv_id == "2202.12139"
    assert papers[0].title == (
        "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert papers[0].authors == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"]
    assert papers[0].categories == ["cs.SE", "cs.LG"]
    assert papers[0].doi == "10.1109/ICSTW55395.2022.00035"
    assert [r["start"] for r in local_server.requests] == ["0", "10"]
    assert len(sleeps.calls) == 1  # one polite pause between the two pages


def test_error_entry_raises_with_arxiv_message(
    local_server: LocalServer, sleeps: SleepRecorder
) -> None:
    local_server.route = api
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        list(search("ti:abc", base_url=local_server.url, sleep=sleeps))
    with pytest.raises(SourceError, match="incorrect id format for abc"):
        parse_feed(fixture_bytes("arxiv_api_error_bad_id.xml"))


def test_bad_ids_fail_before_any_request(local_server: LocalServer) -> None:
    local_server.route = api
    with pytest.raises(SourceError, match="not an arXiv id: 'abc'"):
        fetch_by_ids(["1707.08567", "abc"], base_url=local_server.url)
    assert local_server.requests == []


def test_server_errors_use_the_shared_retry_rules(
    local_server: LocalServer, sleeps: SleepRecorder
) -> None:
    local_server.route = lambda params: (502, {}, b"bad gateway")
    with pytest.raises(HarvestError, match="HTTP 502"):
        fetch_by_ids(
            ["1707.08567"], base_url=local_server.url, max_retries=1, sleep=sleeps, delay_s=0
        )
    assert len(local_server.requests) == 2

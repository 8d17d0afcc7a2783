"""OAI-PMH harvest against a real loopback HTTP server serving recorded arXiv responses."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from paperfeed.errors import HarvestError
from paperfeed.sources.arxiv_oai import OaiHarvester, parse_list_records
from paperfeed.sources.http import parse_retry_after

from .conftest import LocalServer, Reply, SleepRecorder, fixture_bytes

XML = {"Content-Type": "text/xml; charset=utf-8"}
TOKEN = "4230296|1001"


def two_pages(params: dict[str, str]) -> Reply:
    if params.get("verb") != "ListRecords":
        return 400, XML, fixture_bytes("oai_error_badresumptiontoken.xml")
    token = params.get("resumptionToken")
    if token is None:
        return 200, XML, fixture_bytes("oai_listrecords_page1.xml")
    if token == TOKEN:
        return 200, XML, fixture_bytes("oai_listrecords_page2_last.xml")
    return 200, XML, fixture_bytes("oai_error_badresumptiontoken.xml")


def harvester(server: LocalServer, sleeps: SleepRecorder, **kw: object) -> OaiHarvester:
    options: dict[str, object] = {"delay_s": 3.0, "max_retries": 5, "sleep": sleeps}
    options.update(kw)
    return OaiHarvester(
        server.url,
        set_spec="physics:hep-ex",
        from_date=date(2017, 12, 14),
        **options,  # type: ignore[arg-type]
    )


def test_full_two_page_harvest(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = two_pages
    with harvester(local_server, sleeps) as h:
        pages = list(h.iter_pages())
    assert len(pages) == 2
    first, last = pages
    assert first.next_token == TOKEN and first.complete_list_size == 7
    assert last.next_token is None and last.complete_list_size == 7
    assert [p.arxiv_id for p in first.papers] == ["1706.05371", "1706.09418", "1707.00874"]
    assert [p.arxiv_id for p in last.papers] == ["1412.8323", "1507.07790", "1607.01710"]
    assert last.deleted == ["oai:arXiv.org:hep-th/9901007"]  # no Paper for it
    assert first.skipped == [] == last.skipped

    silicon = first.papers[0]
    assert silicon.title == (
        "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"
    )
    assert silicon.authors[:2] == ["Tyler Anderson", "Jacob Cutter"] and len(silicon.authors) == 13
    assert silicon.published == date(2017, 6, 16) and silicon.updated == date(2017, 12, 12)
    assert silicon.categories == ["physics.ins-det", "hep-ex"]
    assert silicon.abstract.startswith("Silicon photomultipliers (SiPMs) are potential")
    assert silicon.source == "arxiv-oai" and silicon.source_ref == "oai:arXiv.org:1706.05371"
    rpv = first.papers[1]
    assert rpv.title == "R-Parity Violation at the LHC"
    assert rpv.doi == "10.1140/epjc/s10052-017-5414-4"

    # first request carries the selective-harvest arguments, the second only the token
    assert local_server.requests == [
        {
            "verb": "ListRecords",
            "metadataPrefix": "arXiv",
            "set": "physics:hep-ex",
            "from": "2017-12-14",
        },
        {"verb": "ListRecords", "resumptionToken": TOKEN},
    ]
    assert len(sleeps.calls) == 1 and 0 < sleeps.calls[0] <= 3.0  # polite gap between pages


def test_resume_from_saved_token(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = two_pages
    pages = list(harvester(local_server, sleeps).iter_pages(resumption_token=TOKEN))
    assert len(pages) == 1 and pages[0].papers[0].arxiv_id == "1412.8323"
    assert local_server.requests == [{"verb": "ListRecords", "resumptionToken": TOKEN}]


def test_503_with_retry_after_is_honoured(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    calls = {"n": 0}

    def busy_then_ok(params: dict[str, str]) -> Reply:
        calls["n"] += 1
        if calls["n"] == 1:
            return 503, {"Retry-After": "7"}, b"busy"
        return two_pages(params)

    local_server.route = busy_then_ok
    pages = list(harvester(local_server, sleeps, delay_s=0).iter_pages())
    assert len(pages) == 2
    assert sleeps.calls == [7.0]
    assert len(local_server.requests) == 3


def test_persistent_500_raises_after_max_retries(
    local_server: LocalServer, sleeps: SleepRecorder
) -> None:
    local_server.route = lambda params: (500, {}, b"boom")
    with pytest.raises(HarvestError, match=r"no answer after 3 attempts \(last: HTTP 500\)"):
        list(harvester(local_server, sleeps, delay_s=0, max_retries=2).iter_pages())
    assert len(local_server.requests) == 3
    # exponential backoff with jitter in [0.5, 1) of 2 s, 4 s
    assert len(sleeps.calls) == 2
    assert 1.0 <= sleeps.calls[0] < 2.0 and 2.0 <= sleeps.calls[1] < 4.0


def test_connection_errors_are_retried_then_reported(sleeps: SleepRecorder) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    h = OaiHarvester(
        "http://oai.invalid/oai", client=client, delay_s=0, max_retries=1, sleep=sleeps
    )
    with pytest.raises(HarvestError, match="ConnectError"):
        list(h.iter_pages())
    assert len(sleeps.calls) == 1


def test_no_records_match_is_an_empty_harvest(
    local_server: LocalServer, sleeps: SleepRecorder
) -> None:
    local_server.route = lambda params: (200, XML, fixture_bytes("oai_error_norecordsmatch.xml"))
    assert list(harvester(local_server, sleeps).iter_pages()) == []
    assert len(local_server.requests) == 1


def test_bad_resumption_token_is_an_error(local_server: LocalServer, sleeps: SleepRecorder) -> None:
    local_server.route = two_pages
    with pytest.raises(HarvestError, match="badResumptionToken"):
        list(harvester(local_server, sleeps).iter_pages(resumption_token="expired|1"))


def test_garbage_and_non_oai_bodies(sleeps: SleepRecorder) -> None:
    with pytest.raises(HarvestError, match="not XML"):
        parse_list_records(b"<html><body>oops", "u")
    with pytest.raises(HarvestError, match="not an OAI-PMH response"):
        parse_list_records(b"<html/>", "u")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0

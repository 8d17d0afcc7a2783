"""Every template, with papers from every source: digests (bytes on the wire), pages, feeds.

A paper from a page capture, BibTeX or a manual submission has no PDF link; some have no
authors, no categories or no abstract; a few have huge fields. None of that may stop a
digest run or break a page. And one digest that cannot be rendered fails alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.digests import DigestSender
from paperfeed.members import ManualPaper, Submissions
from paperfeed.models import OutboxItem, Paper, SkippedRecord
from paperfeed.sources import read_source
from paperfeed.sources.arxiv_api import parse_feed
from paperfeed.sources.arxiv_oai import parse_list_records
from paperfeed.sources.captured import parse_capture
from paperfeed.web import create_app

from ..conftest import FIXTURES, REPO, make_settings
from ..smtp_server import SmtpSink

TODAY = datetime.now(UTC).date()
HOSTILE = '<script>alert("x")</script>'


def _first(records: list[Paper | SkippedRecord]) -> Paper:
    return next(r for r in records if isinstance(r, Paper))


def papers_from_every_source() -> dict[str, Paper]:
    demo = sorted((REPO / "paperfeed/demo/pages").glob("*.txt"))[0].read_text()
    capture = demo.replace("\nAug 1\n", f"\n{TODAY.strftime('%b')} {TODAY.day}\n", 1)
    oai = parse_list_records((FIXTURES / "oai_listrecords_page1.xml").read_bytes())
    assert oai is not None
    api, _ = parse_feed((FIXTURES / "arxiv_api_search_testing_start0.xml").read_bytes())
    return {
        "capture": _first(list(parse_capture(capture, "capture.txt:1"))),
        "bibtex": _first(list(read_source(FIXTURES / "references.bib"))),
        "arxiv-jsonl": _first(list(read_source(FIXTURES / "arxiv_cs_excerpt.jsonl"))),
        "arxiv-oai": _first(oai.papers),
        "arxiv-api": api[0],
        "bare": Paper(title="A paper with nothing but a title", source="test", source_ref="1"),
        "huge": Paper(title="Huge " + "title " * 300, abstract="word " * 40_000,
                      authors=[f"Author {i}" for i in range(400)], source="test",
                      source_ref="2", categories=[f"cat.{i}" for i in range(50)]),
        "hostile": Paper(title=f"Hostile {HOSTILE}", abstract=f"Abstract {HOSTILE}",
                         authors=[HOSTILE], source="test", source_ref="3",
                         links={"code": "https://example.org/?a=<b>"}),
    }


@pytest.fixture
def every_source(tmp_path: Path, smtp_sink: SmtpSink) -> tuple[Catalog, dict[str, str]]:
    """A catalog holding one paper per source, each featured on today's list."""
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url="http://testserver", **smtp_sink.overrides))
    member = catalog.store.members.add_user("member", "member@example.org", "hash")
    ids = {}
    for name, paper in papers_from_every_source().items():
        catalog.ingest([paper])
        stored = catalog.store.papers.find(paper)
        assert stored is not None, name
        catalog.store.community.submit(stored.key, member.id, TODAY)
        ids[name] = stored.id
    manual = Submissions(catalog, "http://127.0.0.1:9/none").manual(member, ManualPaper(
        title="A hand-entered paper without any link", abstract="Typed in by a member.",
        authors=[]))
    ids["manual"] = manual.paper.id
    catalog.reindex()
    return catalog, ids


def test_a_digest_with_papers_from_every_source_goes_out(
        every_source: tuple[Catalog, dict[str, str]], smtp_sink: SmtpSink) -> None:
    catalog, ids = every_source
    subscriptions = catalog.store.subscriptions
    subscriptions.set_status(subscriptions.add("reader@example.org", "daily", True, None).id,
                             "active")
    report = DigestSender(catalog, catalog.settings.with_overrides(digest_size=20)).send(
        "daily", max_wait_s=0)
    assert (report.sent, report.failed) == (1, 0), report.summary()
    [delivered] = smtp_sink.deliveries
    raw = delivered.raw
    for name, paper_id in ids.items():
        assert f"/papers/{paper_id}".encode() in raw, name
    html_part = raw[raw.index(b"Content-Type: text/html"):]
    assert b"</table>" in html_part and b"<script>" not in html_part, \
        "hostile text is escaped in the HTML part"


def test_every_page_and_feed_renders_papers_from_every_source(
        every_source: tuple[Catalog, dict[str, str]]) -> None:
    catalog, ids = every_source
    client = TestClient(create_app(catalog.settings, catalog))
    pages = ["/", "/papers/week", "/papers/month", "/search?q=paper", "/feeds/daily.atom",
             "/feeds/search.atom?q=paper", "/api/daily_papers?limit=20",
             "/api/papers/search?q=paper"]
    store = catalog.store
    subscription = store.subscriptions.add("reader@example.org", "daily", True, None)
    token = DigestSender(catalog, catalog.settings).subscriptions.link_token(subscription)
    pages.append(f"/digest/preview?token={token}")
    for paper_id in ids.values():
        pages += [f"/papers/{quote(paper_id)}", f"/api/papers/{quote(paper_id)}",
                  f"/api/papers/{quote(paper_id)}/similar"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        assert HOSTILE not in response.text, path


class BrokenForOne(DigestSender):
    """A sender whose message for one address cannot be built (as a template bug would)."""

    def build(self, item: OutboxItem):  # type: ignore[no-untyped-def]
        if item.email == "broken@example.org":
            raise KeyError("pdf")
        return super().build(item)


def test_a_digest_that_cannot_be_rendered_fails_alone(
        every_source: tuple[Catalog, dict[str, str]], smtp_sink: SmtpSink) -> None:
    catalog, _ = every_source
    store = catalog.store
    for address in ("a@example.org", "broken@example.org", "z@example.org"):
        subscription = store.subscriptions.add(address, "daily", True, None)
        store.subscriptions.set_status(subscription.id, "active")
    report = BrokenForOne(catalog, catalog.settings).send("daily", max_wait_s=0)
    assert (report.sent, report.failed, report.unrenderable) == (2, 1, 1)
    assert "could not be rendered" in report.summary()
    assert sorted(m["To"] for m in smtp_sink.messages) == ["a@example.org", "z@example.org"]
    [broken] = [item for item in store.outbox.items() if item.email == "broken@example.org"]
    assert broken.status == "failed" and "could not render" in (broken.last_error or "")
    assert store.outbox.already_sent("broken@example.org", [1, 2, 3, 4, 5, 6, 7, 8, 9]) == set(), \
        "its papers are released for a later digest"
    rerun = BrokenForOne(catalog, catalog.settings).send("daily", max_wait_s=0)
    assert rerun.sent == 0 and rerun.failed == 0, "nothing is stuck in 'sending'"

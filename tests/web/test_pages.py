"""The web site through real HTTP requests against the app, on the demo corpus."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings

HOSTILE_TITLE = '<script>alert("pwned")</script><img src=x onerror=alert(1)> Hostile graphs'


def test_home_lists_latest_day_of_demo_corpus(client: TestClient, demo_catalog: Catalog) -> None:
    response = client.get("/")
    assert response.status_code == 200
    latest = demo_catalog.store.papers.latest_date()
    assert latest is not None
    assert latest.strftime("%B %-d, %Y") in response.text
    total = demo_catalog.store.papers.count_between(latest, latest)
    assert f"{total} papers" in response.text
    assert response.text.count('<article class="paper"') == min(total, 30)
    assert "Get trending papers in your email inbox!" in response.text


def test_week_and_month_views_and_bad_dates(client: TestClient) -> None:
    assert client.get("/papers/week").status_code == 200
    month = client.get("/papers/month")
    assert month.status_code == 200 and 'aria-current="page">Month<' in month.text
    newest = client.get("/papers/month?sort=newest")
    assert '<h2 class="day">' in newest.text, "newest-first week/month lists group by day"
    assert client.get("/papers/month?sort=bogus").status_code == 400
    bad = client.get("/papers/date/2025-13-45")
    assert bad.status_code == 400 and "not valid" in bad.text
    assert client.get("/papers/week/2025-W99").status_code == 400
    empty = client.get("/papers/date/1999-01-01")
    assert empty.status_code == 200 and "No papers in this period" in empty.text


def test_search_page_highlights_and_ranks(client: TestClient) -> None:
    response = client.get("/search", params={"q": "dual head distillation"})
    assert response.status_code == 200
    first = response.text.split('<article class="paper"', 2)[1]
    assert "<mark>Dual</mark>" in first or "<mark>dual</mark>" in first.lower()
    assert re.search(r"keyword #\d+", response.text)
    assert re.search(r"transformer #\d+", response.text)  # the demo is fully backfilled


def test_search_modes_and_errors(client: TestClient) -> None:
    # the demo is fully backfilled: semantic search ranks by the transformer's vectors alone
    for mode, retriever in (("keyword", "keyword"), ("semantic", "transformer")):
        response = client.get("/search", params={"q": "pairwise ranking loss", "mode": mode})
        assert response.status_code == 200 and f"{retriever} #1" in response.text
    too_long = client.get("/search", params={"q": "x" * 600})
    assert too_long.status_code == 400 and "too long" in too_long.text
    bad_date = client.get("/search", params={"q": "graphs", "from": "yesterday"})
    assert bad_date.status_code == 400 and "is not a date" in bad_date.text


def test_category_without_query_lists_newest(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest([Paper(arxiv_id=f"2501.0000{i}", title=f"Paper {i} on some topic or other",
                          published=date(2025, 1, 1 + i), categories=[cat], source="t",
                          source_ref=str(i)) for i, cat in enumerate(["cs.IR", "cs.LG", "cs.IR"])])
    catalog.reindex()
    client = TestClient(create_app(catalog.settings, catalog))
    html = client.get("/search", params={"q": "", "category": "cs.IR"}).text
    assert "Newest papers in cs.IR" in html
    assert html.index("Paper 2 on") < html.index("Paper 0 on") and "Paper 1 on" not in html


def test_paper_page_has_details_and_similar(client: TestClient, demo_catalog: Catalog) -> None:
    paper = demo_catalog.store.papers.between(date(1900, 1, 1), date(2100, 1, 1), 1)[0]
    response = client.get(f"/papers/{paper.id}")
    assert response.status_code == 200
    assert f"<h1>{paper.title}</h1>" in response.text.replace("&#39;", "'").replace(
        "&amp;", "&") or paper.title[:30] in response.text
    similar = response.text.split("Similar papers", 1)[1]
    assert similar.count('class="paper compact"') == 10
    assert client.get("/papers/does-not-exist").status_code == 404


def test_oversized_url_is_refused(client: TestClient) -> None:
    response = client.get("/search?q=" + "a" * 5000)
    assert response.status_code == 414


def test_hostile_text_renders_inert(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest([Paper(title=HOSTILE_TITLE,
                          abstract='Graphs <b onmouseover="alert(2)">bold</b> & "quotes"',
                          published=date(2025, 1, 2), source="test", source_ref="t")])
    catalog.reindex()
    client = TestClient(create_app(catalog.settings, catalog))
    paper_id = catalog.store.papers.latest_date() and catalog.store.papers.between(
        date(2025, 1, 2), date(2025, 1, 2), 1)[0].id
    for url in ("/", f"/papers/{paper_id}", "/search?q=hostile+graphs"):
        html = client.get(url).text
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and "<b onmouseover" not in html, url
        assert "&lt;script&gt;" in html, url
    api = client.get("/api/papers/search", params={"q": "hostile graphs"}).json()
    assert api[0]["title"] == HOSTILE_TITLE  # JSON carries the text as is
    assert "<script>" not in api[0]["highlights"]["title"]

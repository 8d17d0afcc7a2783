"""The daily lists (issue 9, item 18): pages past the end, the "new" badge, what the
latest pages are called, empty days, the not-found page, the favicon."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings

LATEST = date(2025, 8, 1)  # a Friday


def _client(tmp_path: Path) -> TestClient:
    """A fresh install that bulk-loaded 3 days of papers at once: all stored just now."""
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    catalog.ingest([Paper(title=f"Paper {i} about sparse attention", abstract="Attention.",
                          arxiv_id=f"2508.{i:05d}", published=LATEST - timedelta(days=i % 3),
                          categories=["cs.LG"], source="test", source_ref=str(i))
                    for i in range(9)])
    catalog.reindex()
    return TestClient(create_app(catalog.settings, catalog))


def _cards(html: str) -> dict[str, bool]:
    """Each card's paper id -> whether it carries the "new" badge."""
    cards = html.split('<article class="paper" data-id="')[1:]
    return {card.split('"', 1)[0]: 'class="badge new"' in card.split("</article>", 1)[0]
            for card in cards}


def test_a_page_past_the_last_is_not_found(client: TestClient) -> None:
    assert client.get("/?p=1").status_code == 200
    for url in ("/?p=99", "/papers/month?p=99", "/papers/date/2025-08-01?p=99", "/trending?p=99"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "there is no page" in response.text and "Page 99 of" not in response.text


def test_new_means_the_latest_listing_day_not_the_moment_of_ingest(tmp_path: Path) -> None:
    client = _client(tmp_path)
    week = _cards(client.get("/papers/week/2025-W31").text)  # Jul 28 - Aug 3
    assert len(week) == 9
    new = {paper_id for paper_id, marked in week.items() if marked}
    assert new == {f"2508.{i:05d}" for i in range(9) if i % 3 == 0}, "only Aug 1's papers"
    search = _cards(client.get("/search", params={"q": "sparse attention"}).text)
    assert sum(search.values()) == 3
    # On the latest day's own list every paper shares the day: no badge says anything there.
    assert not any(_cards(client.get("/").text).values())


def test_latest_pages_say_latest_not_today(tmp_path: Path) -> None:
    client = _client(tmp_path)
    home = client.get("/").text
    assert "<h1>Latest: Friday, August 1, 2025</h1>" in home
    assert ">Today<" not in home and 'aria-current="page">Latest</a>' in home
    assert "<h1>Latest: August 2025</h1>" in client.get("/papers/month").text
    # A day asked for by date is that day, not "latest".
    assert "<h1>Friday, August 1, 2025</h1>" in client.get("/papers/date/2025-08-01").text


def test_an_empty_day_links_to_an_older_one(tmp_path: Path) -> None:
    client = _client(tmp_path)
    empty = client.get("/papers/date/2025-08-05")
    assert empty.status_code == 200 and "No papers in this period" in empty.text
    message = empty.text.split('<p class="empty">', 1)[1].split("</p>", 1)[0]
    assert 'Try an older one: <a href="/papers/date/2025-08-01">' in message
    before = client.get("/papers/date/2025-07-01?sort=newest").text
    assert 'Try a newer one: <a href="/papers/date/2025-07-30?sort=newest">' in before


def test_not_found_page_says_it_once_and_clearly(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    main = response.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert re.search(r"<h1>Not found</h1>\s*<p>There is nothing at /no/such/page\.</p>", main)
    assert "Not Found" not in response.text
    api = client.get("/api/no/such/thing")
    assert api.json() == {"error": {"status": 404,
                                    "message": "There is nothing at /api/no/such/thing."}}


def test_favicon_is_linked_and_served(client: TestClient) -> None:
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in client.get(
        "/").text
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.text.startswith("<svg")
    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"].startswith("image/svg+xml")
    assert ico.content == svg.content

"""A paper entered by hand keeps its own publication date apart from the day it was
listed (issue 9.20): a 2017 paper submitted today used to show "Published <today>",
on its page, its card, in the API and in the daily lists."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import PASSWORD, csrf


@pytest.fixture
def ada(tmp_path: Path) -> tuple[TestClient, Catalog]:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    client = TestClient(create_app(catalog.settings, catalog))
    answer = client.post("/signup", data={"username": "ada", "email": "ada@example.org",
                                          "password": PASSWORD, "csrf_token": csrf(client)},
                         follow_redirects=False)
    assert answer.status_code == 303
    return client, catalog


def _submit(client: TestClient, title: str, published: str) -> str:
    answer = client.post("/submit/manual", data={
        "title": title, "authors": "Ashish Vaswani", "abstract": "Transformers.",
        "published": published, "csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("?")[0]


def test_hand_entered_paper_keeps_its_publication_date(ada: tuple[TestClient, Catalog]) -> None:
    client, catalog = ada
    today = datetime.now(UTC).date()
    url = _submit(client, "Attention is all you need", "2017-06-12")
    stored = catalog.store.papers.get(url.removeprefix("/papers/"))
    assert stored is not None and stored.published == date(2017, 6, 12)

    page = client.get(url).text
    assert "Published June 12, 2017" in page
    assert f"listed on <a href=\"/papers/date/{today.isoformat()}\">" in page
    assert f"Published {today.strftime('%B %-d, %Y')}" not in page

    paper = client.get(f"/api{url}").json()
    assert paper["publishedAt"] == "2017-06-12T00:00:00.000Z"
    assert paper["submittedOnDailyAt"].startswith(today.isoformat())
    assert paper["listedOn"] == today.isoformat()
    [item] = client.get("/api/daily_papers").json()  # today's list
    assert item["publishedAt"].startswith(today.isoformat())  # listed (the public meaning)
    assert item["paper"]["publishedAt"] == "2017-06-12T00:00:00.000Z"

    card = client.get(f"/papers/date/{today.isoformat()}").text
    assert "Jun 12, 2017" in card
    week = client.get(f"/papers/week/{today.strftime('%G-W%V')}", params={"sort": "newest"})
    assert week.status_code == 200
    assert f'<a href="/papers/date/{today.isoformat()}">' in week.text  # grouped by listing
    assert "/papers/date/2017-06-12" not in week.text


def test_unknown_publication_date_stays_unknown(ada: tuple[TestClient, Catalog]) -> None:
    client, catalog = ada
    today = datetime.now(UTC).date()
    url = _submit(client, "A paper of unknown date", "")
    stored = catalog.store.papers.get(url.removeprefix("/papers/"))
    assert stored is not None and stored.published is None
    assert "Published" not in client.get(url).text
    paper = client.get(f"/api{url}").json()
    assert paper["publishedAt"] is None and paper["listedOn"] == today.isoformat()
    week = client.get(f"/papers/week/{today.strftime('%G-W%V')}", params={"sort": "newest"})
    assert week.status_code == 200 and "A paper of unknown date" in week.text
    for bad in ("2017-13-01", "June 2017", (today + timedelta(days=1)).isoformat()):
        refused = client.post("/submit/manual", data={"title": "x", "published": bad,
                                                      "csrf_token": csrf(client)})
        assert refused.status_code == 400 and "publication date" in refused.text, bad

"""Search input the site cannot answer (issue 9, item 19): an empty query, a reversed
date range. The rule is in discover/, so the page, the API and the feed say the same."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from paperfeed.discover.search import parse_filters
from paperfeed.errors import BadRequest


def test_an_empty_query_shows_the_search_page_with_a_prompt(client: TestClient) -> None:
    home = client.get("/").text
    assert re.search(r'<input type="search" name="q"[^>]* required>', home), \
        "the header's button cannot submit an empty query"
    for blank in ("", "   "):
        page = client.get("/search", params={"q": blank})
        assert page.status_code == 200
        assert "<h1>Search papers</h1>" in page.text
        assert "Type what you are looking for" in page.text
        assert "Results for" not in page.text and 'class="error"' not in page.text
    assert client.get("/api/papers/search", params={"q": " "}).status_code == 400


def test_a_reversed_date_range_is_an_error_everywhere(client: TestClient) -> None:
    with pytest.raises(BadRequest, match="from=2025-08-02 is after to=2025-08-01"):
        parse_filters("2025-08-02", "2025-08-01", None)
    assert parse_filters("2025-08-01", "2025-08-01", None).date_from is not None  # one day
    reversed_range = {"q": "ranking", "from": "2025-08-02", "to": "2025-08-01"}
    page = client.get("/search", params=reversed_range)
    assert page.status_code == 400
    assert re.search(r'<p class="error" role="alert">from=2025-08-02 is after to=2025-08-01',
                     page.text)
    api = client.get("/api/papers/search", params=reversed_range)
    assert api.status_code == 400
    assert api.json()["error"]["message"].startswith("from=2025-08-02 is after to=2025-08-01")
    feed = client.get("/feeds/search.atom", params=reversed_range)
    assert feed.status_code == 400 and "is after" in feed.text

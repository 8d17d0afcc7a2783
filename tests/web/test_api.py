"""The JSON API: shapes, paging, errors, OpenAPI."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.web import create_app


def test_daily_papers_latest_and_paging(client: TestClient, demo_catalog: Catalog) -> None:
    items = client.get("/api/daily_papers", params={"limit": 5}).json()
    assert len(items) == 5
    assert {"id", "title", "publishedAt", "paper"} <= items[0].keys()
    assert items[0]["paper"]["summary"]
    page2 = client.get("/api/daily_papers", params={"limit": 5, "p": 1}).json()
    assert not {i["id"] for i in items} & {i["id"] for i in page2}
    latest = demo_catalog.store.papers.latest_date()
    assert latest is not None
    by_date = client.get("/api/daily_papers", params={"date": latest.isoformat(), "limit": 100})
    assert len(by_date.json()) == min(100, demo_catalog.store.papers.count_between(latest, latest))
    month = client.get("/api/daily_papers", params={"month": latest.strftime("%Y-%m")})
    assert month.status_code == 200 and month.json()


def test_search_api_is_ranked(client: TestClient) -> None:
    items = client.get("/api/papers/search", params={"q": "self-supervised learning",
                                                     "limit": 7}).json()
    assert len(items) == 7
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    assert "<mark>" in items[0]["highlights"]["title"] + items[0]["highlights"]["summary"]


def test_paper_and_similar(client: TestClient) -> None:
    first = client.get("/api/daily_papers", params={"limit": 1}).json()[0]
    paper = client.get(f"/api/papers/{first['id']}").json()
    assert paper["title"] == first["title"]
    similar = client.get(f"/api/papers/{first['id']}/similar", params={"limit": 5}).json()
    assert len(similar) == 5 and first["id"] not in {s["id"] for s in similar}
    assert all(-1.0 <= s["score"] <= 1.0 for s in similar)


def test_error_envelope(client: TestClient) -> None:
    missing = client.get("/api/papers/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "message": "no paper with id 'nope'"}}
    for params in ({"limit": 1000}, {"date": "2025-02-30"}, {"week": "x"},
                   {"date": "2025-01-01", "month": "2025-01"}):
        response = client.get("/api/daily_papers", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["status"] == 400
    assert client.get("/api/papers/search", params={"q": ""}).status_code == 400
    assert client.get("/api/papers/search", params={"q": "a", "mode": "magic"}).status_code == 400


def test_openapi_describes_the_api(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}",
            "/api/papers/{paper_id}/similar"} <= paths


def test_openapi_names_enums_and_every_status(client: TestClient) -> None:
    """Issue 9.13/9.19: a 422 was documented where the API answers 400, 413 and 414 were
    not, and choices were raw regexes (`^(trending|newest)$`) in the description, the
    /api page and the error messages."""
    spec = client.get("/api/openapi.json").json()
    text = json.dumps(spec)
    assert "422" not in text and "HTTPValidationError" not in text and "pattern" not in text
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            statuses = set(op["responses"])
            assert {"400", "404", "413", "414"} <= statuses, (method, path)
            assert any(status.startswith("2") for status in statuses), (method, path)
            if method == "post":
                assert {"401", "403"} <= statuses, path
    params = {p["name"]: p["schema"] for p in
              spec["paths"]["/api/daily_papers"]["get"]["parameters"]}
    assert params["sort"]["enum"] == ["trending", "newest", "publishedAt"]
    mode = {p["name"]: p["schema"] for p in
            spec["paths"]["/api/papers/search"]["get"]["parameters"]}["mode"]
    assert mode["enum"] == ["hybrid", "keyword", "semantic"]
    page = client.get("/api").text
    assert "one of <code>trending</code>, <code>newest</code>" in page
    assert "<code>414</code> URL longer than the limit" in page and "^(" not in page
    wrong = client.get("/api/daily_papers", params={"sort": "best"}).json()
    assert wrong == {"error": {"status": 400, "message": "sort: Input should be 'trending', "
                                                         "'newest' or 'publishedAt'"}}


def test_api_page_lists_every_endpoint_offline(client: TestClient) -> None:
    page = client.get("/api")
    assert page.status_code == 200
    for path in ("/api/daily_papers", "/api/papers/search", "/api/papers/{paper_id}/similar"):
        assert f"GET {path}" in page.text
    assert "cdn" not in page.text.lower()


def test_limit_bound_is_the_max_limit_setting(demo_catalog: Catalog) -> None:
    """PAPERFEED_MAX_LIMIT was never read: the API hard-coded 100."""
    settings = demo_catalog.settings.with_overrides(max_limit=5)
    client = TestClient(create_app(settings, demo_catalog))
    assert len(client.get("/api/daily_papers", params={"limit": 5}).json()) == 5
    for path in ("/api/daily_papers", "/api/trending", "/api/papers/search?q=learning",
                 "/api/authors?q=a"):
        refused = client.get(path, params={"limit": 6})
        assert refused.status_code == 400, path
        assert refused.json() == {"error": {"status": 400, "message": "limit: Input should be "
                                            "less than or equal to 5"}}
    spec = client.get("/api/openapi.json").json()
    limits = [param["schema"] for route in spec["paths"].values() for op in route.values()
              for param in op.get("parameters", []) if param["name"] == "limit"]
    assert len(limits) == 8 and all(s["maximum"] == 5 and s["minimum"] == 1 for s in limits)
    assert "max 5" in client.get("/api").text
    assert client.get("/api/daily_papers", params={"limit": 0}).status_code == 400
    wide = TestClient(create_app(demo_catalog.settings.with_overrides(max_limit=200),
                                 demo_catalog))
    assert wide.get("/api/daily_papers", params={"limit": 150}).status_code == 200

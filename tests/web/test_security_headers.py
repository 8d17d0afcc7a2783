"""Security headers on every response of every route: pages, API JSON, feeds, static
files, errors, redirects, the body-limit 413 and Starlette's bare 500 (issue 9.7)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from paperfeed.catalog import Catalog
from paperfeed.http.guards import MAX_BODY_BYTES
from paperfeed.http.headers import CSP, HSTS
from paperfeed.web import create_app
from paperfeed.web.map_views import MAP_CSP

from ..conftest import make_settings
from .routes import walk


def assert_secured(response: Response, *, hsts: bool = False) -> None:
    headers = response.headers
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    # The map page alone may eval: regl compiles its draw calls (web/map_views.py).
    wanted = MAP_CSP if response.request.url.path == "/map" else CSP
    assert headers.get("content-security-policy") == wanted, where
    assert CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'") == MAP_CSP
    assert "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "same-origin", where
    assert headers.get("strict-transport-security") == (HSTS if hsts else None), where


def _visit_everything(client: TestClient, app: FastAPI) -> list[Response]:
    paper_id = client.get("/api/daily_papers").json()[0]["id"]
    answers = []
    for route in walk(app):
        values = {name: paper_id if name == "paper_id" else "1" for name in route.path_params}
        answers.append(client.request(route.method, route.url(**values),
                                      follow_redirects=False))
    extra = ["/static/app.js", "/static/style.css", "/static/nope.css", "/api/openapi.json",
             "/no/such/page", "/api/no/such/route", "/papers/week/not-a-week"]
    answers += [client.get(url, follow_redirects=False) for url in extra]
    answers.append(client.delete("/api/papers/search"))  # 405
    answers.append(client.post("/login", content=b"x" * (MAX_BODY_BYTES + 1),
                               headers={"content-type": "application/x-www-form-urlencoded"}))
    return answers


def test_every_route_and_response_type_carries_the_headers(demo_catalog: Catalog) -> None:
    app = create_app(demo_catalog.settings, demo_catalog)
    client = TestClient(app)
    answers = _visit_everything(client, app)
    for answer in answers:
        assert_secured(answer)
    kinds = {a.headers.get("content-type", "").split(";")[0] for a in answers}
    assert {"text/html", "application/json", "application/atom+xml", "text/css",
            "text/javascript"} <= kinds, kinds
    statuses = {a.status_code for a in answers}
    assert {200, 303, 400, 403, 404, 405, 413} <= statuses, statuses


def test_an_unhandled_error_carries_them_too(demo_catalog: Catalog) -> None:
    app = create_app(demo_catalog.settings, demo_catalog)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    answer = TestClient(app, raise_server_exceptions=False).get("/broken")
    assert answer.status_code == 500
    assert_secured(answer)


def test_hsts_only_when_cookies_are_https_only(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data", cookie_secure=True))
    app = create_app(catalog.settings, catalog)
    client = TestClient(app)
    for answer in _visit_everything(client, app):
        assert_secured(answer, hsts=True)

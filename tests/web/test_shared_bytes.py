"""No shared or cached byte depends on a request header or cookie (Host, pf_csrf)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.web import create_app

from ..conftest import make_settings

CACHED_PAGES = ["/", "/papers/week", "/papers/month", "/trending", "/feeds/daily.atom"]


def _client(tmp_path: Path, **overrides: object) -> TestClient:
    catalog = Catalog(make_settings(tmp_path / "data", **overrides))
    return TestClient(create_app(catalog.settings, catalog))


def test_a_forged_host_is_refused_in_the_error_shape(tmp_path: Path) -> None:
    client = _client(tmp_path)
    page = client.get("/papers/month", headers={"host": "evil.example"})
    assert page.status_code == 400 and "evil.example" not in page.text
    assert "PAPERFEED_TRUSTED_HOSTS" in page.text
    api = client.get("/api/daily_papers", headers={"host": "evil.example:80"})
    assert api.status_code == 400 and api.json()["error"]["status"] == 400
    assert client.get("/papers/month", headers={"host": "localhost:8000"}).status_code == 200


def test_the_base_url_host_is_trusted_and_others_only_when_listed(tmp_path: Path) -> None:
    client = _client(tmp_path, trusted_hosts="papers.example.org",
                     base_url="https://feed.example.org")
    assert client.get("/", headers={"host": "feed.example.org"}).status_code == 200
    assert client.get("/", headers={"host": "papers.example.org:443"}).status_code == 200
    assert client.get("/", headers={"host": "localhost"}).status_code == 400
    assert client.get("/", headers={"host": "[::1"}).status_code == 400  # malformed


def test_cached_pages_are_the_same_bytes_whatever_the_host(tmp_path: Path) -> None:
    # With every host allowed (as behind a proxy that checks Host itself), a request with a
    # forged Host still cannot put its host into a page that the next visitor is served.
    client = _client(tmp_path, trusted_hosts="*")
    for path in CACHED_PAGES:
        poisoned = client.get(path, headers={"host": "evil.example"})
        normal = client.get(path, headers={"host": "localhost"})
        assert poisoned.status_code == normal.status_code == 200, path
        assert b"evil.example" not in normal.content, path
        assert b"evil.example" not in poisoned.content, path
    home = client.get("/", headers={"host": "localhost"}).text
    assert 'src="/static/app.js"' in home and 'href="/static/style.css"' in home


def test_a_planted_csrf_cookie_is_never_pasted_into_a_page(tmp_path: Path) -> None:
    planted = '"><script>alert(1)</script><input value="0123456789abcdefghij'
    for path in ("/", "/papers/week", "/papers/month"):
        client = _client(tmp_path / path.strip("/").replace("/", "-"))
        page = client.get(path, headers={"cookie": f"pf_csrf={planted}"})
        assert "alert(1)" not in page.text, path
        issued = page.cookies.get("pf_csrf")
        assert issued and re.fullmatch(r"[A-Za-z0-9_-]{32}", issued), \
            "a cookie of the wrong shape is replaced by a token we issue"


def test_a_planted_csrf_cookie_does_not_pass_the_check(tmp_path: Path) -> None:
    client = _client(tmp_path)
    odd = "x" * 40  # long enough for the old length check, not shaped like our tokens
    client.cookies.set("pf_csrf", odd)
    response = client.post("/logout", data={"csrf_token": odd})
    assert response.status_code == 403

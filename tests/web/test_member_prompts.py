"""What a visitor or API client is told when a member action goes wrong (issue 9,
item 21): why the login form appears, a GET of a POST-only address, the API's CSRF
wording."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import PASSWORD, csrf


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    catalog.ingest([Paper(title="Learning to rank", abstract="Ranking.", arxiv_id="2501.00001",
                          published=date(2025, 1, 2), source="test", source_ref="1")])
    catalog.reindex()
    return catalog


def _client(catalog: Catalog) -> TestClient:
    return TestClient(create_app(catalog.settings, catalog))


def test_logged_out_upvote_says_why_and_comes_back(catalog: Catalog) -> None:
    member = _client(catalog)
    member.post("/signup", data={"username": "ada", "email": "ada@example.org",
                                 "password": PASSWORD, "csrf_token": csrf(member)})
    member.post("/logout", data={"csrf_token": csrf(member)})
    key = catalog.store.papers.get("2501.00001").key
    visitor = _client(catalog)
    vote = visitor.post("/papers/2501.00001/vote", data={"csrf_token": csrf(visitor)},
                        headers={"referer": "http://testserver/"}, follow_redirects=False)
    assert vote.status_code == 303
    login_url = vote.headers["location"]
    query = parse_qs(urlsplit(login_url).query)
    assert query == {"next": [f"/#paper-{key}"], "why": ["upvote"]}
    form = visitor.get(login_url).text
    assert "Log in to upvote." in form
    assert f'name="next" value="/#paper-{key}"' in form
    wrong = visitor.post("/login", data={"login": "ada", "password": "not it", "why": "upvote",
                                         "next": query["next"][0], "csrf_token": csrf(visitor)})
    assert wrong.status_code == 400 and "Log in to upvote." in wrong.text, "still says why"
    back = visitor.post("/login", data={"login": "ada", "password": PASSWORD,
                                        "next": query["next"][0], "csrf_token": csrf(visitor)},
                        follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/#paper-{key}"
    # Only known reasons are said; `next` stays on this site.
    odd = _client(catalog).get("/login", params={"why": "<b>pay us</b>",
                                                  "next": "//evil.example/"}).text
    assert "pay us" not in odd and 'name="next" value="/"' in odd
    away = _client(catalog)
    offsite = away.post("/login", data={"login": "ada", "password": PASSWORD,
                                        "next": "https://evil.example/", "csrf_token": csrf(away)},
                        follow_redirects=False)
    assert offsite.headers["location"] == "/"


def test_get_of_a_post_only_address_is_405_with_allow(catalog: Catalog) -> None:
    client = _client(catalog)
    api = client.get("/api/papers/2501.00001/vote")
    assert api.status_code == 405 and api.headers["allow"] == "POST"
    assert api.json() == {"error": {"status": 405, "message": (
        "/api/papers/2501.00001/vote does not take GET; it takes POST")}}
    assert client.get("/api/papers/2501.00001").status_code == 200  # the paper still is
    page = client.get("/papers/2501.00001/vote")
    assert page.status_code == 405 and page.headers["allow"] == "POST"
    assert "<h1>Method not allowed</h1>" in page.text
    logout = client.get("/logout")  # Starlette's own 405 keeps its Allow header too
    assert logout.status_code == 405 and logout.headers["allow"] == "POST"
    assert client.get("/papers/2501.00001").status_code == 200


def test_api_csrf_refusal_speaks_to_api_clients(catalog: Catalog) -> None:
    client = _client(catalog)
    client.post("/signup", data={"username": "ada", "email": "ada@example.org",
                                 "password": PASSWORD, "csrf_token": csrf(client)})
    refused = client.post("/api/papers/2501.00001/vote")
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert message.startswith("missing or wrong X-CSRF-Token header")
    assert "bearer token" in message and "form" not in message
    form = client.post("/papers/2501.00001/vote", data={"csrf_token": "wrong"})
    assert form.status_code == 403 and "This form has expired" in form.text
    assert catalog.store.community.vote_counts([catalog.store.papers.get("2501.00001").key]) \
        == {}

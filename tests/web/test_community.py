"""Accounts, CSRF, submissions, votes, trending and feeds over HTTP (real SQLite, SMTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.members import Accounts
from paperfeed.members.accounts import ACCOUNT_FAILURES
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import FIXTURES, LiveServer, LocalServer, make_settings
from ..smtp_server import SmtpSink
from .members import sign_up_and_verify

PASSWORD = "correct horse battery"
DAY = date.today() - timedelta(days=2)
OFFLINE_ARXIV = "http://127.0.0.1:9/api"  # nothing listens on port 9


def _corpus() -> list[Paper]:
    return [Paper(title=f"Paper number {i} on learning to rank things", abstract=f"Ranking {i}.",
                  arxiv_id=f"2501.{i:05d}", published=DAY - timedelta(days=i % 3),
                  categories=["cs.IR"], source="test", source_ref=str(i)) for i in range(8)]


def _catalog(tmp_path: Path, **overrides: object) -> Catalog:
    overrides.setdefault("arxiv_api_url", OFFLINE_ARXIV)
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False, **overrides))
    catalog.ingest(_corpus())
    catalog.reindex()
    return catalog


@pytest.fixture
def catalog(tmp_path: Path, store_backend: dict[str, str]) -> Catalog:
    """On each backend: the community pages are where votes, hiding and links meet SQL."""
    return _catalog(tmp_path, **store_backend)


@pytest.fixture
def app_client(catalog: Catalog) -> TestClient:
    return TestClient(create_app(catalog.settings, catalog))


def _csrf(client: TestClient) -> str:
    if not client.cookies.get("pf_csrf"):
        client.get("/login")
    return client.cookies["pf_csrf"]


def sign_up(client: TestClient, name: str) -> None:
    response = client.post("/signup", data={
        "username": name, "email": f"{name}@example.org", "password": PASSWORD,
        "csrf_token": _csrf(client)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert client.cookies.get("pf_session")


def member_client(catalog: Catalog, name: str) -> TestClient:
    client = TestClient(create_app(catalog.settings, catalog))
    sign_up(client, name)
    return client


def _api_routes(routes: list) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps included routers
        if included is not None:                            # whole, not in app.routes
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def test_every_state_changing_route_checks_csrf(app_client: TestClient) -> None:
    """Pages take the CSRF check; API member routes take `member_credentials`, which
    checks CSRF unless a bearer token (no ambient credential) is sent instead."""
    checks = {"verify_csrf", "member_credentials"}
    changing = [route for route in _api_routes(app_client.app.routes)
                if route.methods - {"GET", "HEAD"}]
    assert any(route.path == "/papers/{paper_id:path}/vote" and any(
        dep.call.__name__ == "member_credentials" for dep in route.dependant.dependencies)
        for route in changing), "the API is seen"
    unguarded = [(route.path, sorted(route.methods)) for route in changing
                 if not any(dep.call.__name__ in checks for dep in route.dependant.dependencies)]
    # RFC 8058 one-click unsubscribe: the signed token in the URL is the authority.
    assert unguarded == [("/unsubscribe", ["POST"])]


def test_posts_without_the_token_are_refused_and_change_nothing(catalog: Catalog) -> None:
    client = member_client(catalog, "ada")
    paper = catalog.store.papers.get("2501.00001")
    assert client.post("/api/papers/2501.00001/vote").status_code == 403
    assert client.post("/api/papers/2501.00001/vote",
                       headers={"X-CSRF-Token": "x" * 32}).status_code == 403
    response = client.post("/papers/2501.00001/vote", data={"csrf_token": "wrong"})
    assert response.status_code == 403 and "did not come from this site" in response.text
    stranger = TestClient(create_app(catalog.settings, catalog))
    refused = stranger.post("/signup", data={"username": "eve", "email": "e@example.org",
                                             "password": PASSWORD})
    assert refused.status_code == 403
    assert catalog.store.community.vote_counts([paper.key]) == {}
    assert catalog.store.members.user_by_name("eve") is None


def test_logged_out_vote_redirects_to_login_and_api_says_401(app_client: TestClient) -> None:
    token = _csrf(app_client)
    response = app_client.post("/papers/2501.00001/vote", data={"csrf_token": token},
                               headers={"referer": "http://testserver/trending"},
                               follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/trending%23paper-")
    api = app_client.post("/api/papers/2501.00001/vote", headers={"X-CSRF-Token": token})
    assert api.status_code == 401 and api.json()["error"]["status"] == 401


def test_sign_up_log_out_log_in(app_client: TestClient, catalog: Catalog) -> None:
    sign_up(app_client, "ada")
    assert catalog.store.members.user_by_name("ada").is_admin, "the first member is an admin"
    page = app_client.get("/")
    assert "Log out" in page.text and ">ada</a>" in page.text
    app_client.post("/logout", data={"csrf_token": _csrf(app_client)})
    assert "Log in" in app_client.get("/").text
    duplicate = app_client.post("/signup", data={
        "username": "ADA", "email": "other@example.org", "password": PASSWORD,
        "csrf_token": _csrf(app_client)})
    assert duplicate.status_code == 400 and "already registered" in duplicate.text
    short = app_client.post("/signup", data={
        "username": "bob", "email": "bob@example.org", "password": "short",
        "csrf_token": _csrf(app_client)})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    wrong = app_client.post("/login", data={"login": "ada", "password": "nope nope nope",
                                            "csrf_token": _csrf(app_client)})
    assert wrong.status_code == 400 and "Wrong username or password" in wrong.text
    back = app_client.post("/login", data={"login": "ada@example.org", "password": PASSWORD,
                                           "next": "/trending", "csrf_token": _csrf(app_client)},
                           follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/trending"
    evil = app_client.post("/login", data={"login": "ada", "password": PASSWORD,
                                           "next": "//evil.example/", "csrf_token":
                                           _csrf(app_client)}, follow_redirects=False)
    assert evil.headers["location"] == "/", "no open redirect after login"


def test_login_is_rate_limited_per_account(app_client: TestClient, catalog: Catalog) -> None:
    sign_up(app_client, "ada")
    attacker = TestClient(create_app(catalog.settings, catalog))
    for _ in range(ACCOUNT_FAILURES):
        response = attacker.post("/login", data={"login": "ada", "password": "guess guess 1",
                                                 "csrf_token": _csrf(attacker)})
        assert response.status_code == 400
    blocked = attacker.post("/login", data={"login": "ada", "password": PASSWORD,
                                            "csrf_token": _csrf(attacker)})
    assert blocked.status_code == 429 and "Too many failed logins" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert not attacker.cookies.get("pf_session"), "even the right password waits"


def test_password_reset_by_email(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, **smtp_sink.overrides, base_url="http://testserver")
    client = TestClient(create_app(catalog.settings, catalog))
    sign_up_and_verify(client, smtp_sink, "ada")
    client.post("/logout", data={"csrf_token": _csrf(client)})
    unknown = client.post("/forgot", data={"login": "nobody", "csrf_token": _csrf(client)})
    sent = client.post("/forgot", data={"login": "ada@example.org", "csrf_token": _csrf(client)})
    assert unknown.text.count("If an account matches") == sent.text.count("If an account") == 1
    [message] = smtp_sink.wait_for(1)
    assert message["To"] == "ada@example.org" and "reset" in message["Subject"].lower()
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://testserver(/reset\?token=\S+)", text)
    assert link, text
    form = client.get(link.group(1))
    assert form.status_code == 200 and "Choose a new password for ada" in form.text
    token = parse_qs(urlsplit(link.group(1)).query)["token"][0]
    done = client.post("/reset", data={"token": token, "password": "a new long password",
                                       "csrf_token": _csrf(client)}, follow_redirects=False)
    assert done.status_code == 303 and client.cookies.get("pf_session")
    reused = client.get(link.group(1))
    assert reused.status_code == 400 and "already been used" in reused.text
    for _ in range(3):  # 1 sent above; the limit is 3 an hour
        client.post("/forgot", data={"login": "ada", "csrf_token": _csrf(client)})
    assert client.app.state.mail.wait_idle(10)
    assert len(smtp_sink.messages) == 3, \
        "reset emails to one account are rate limited"
    fresh = TestClient(create_app(catalog.settings, catalog))
    ok = fresh.post("/login", data={"login": "ada", "password": "a new long password",
                                    "csrf_token": _csrf(fresh)}, follow_redirects=False)
    assert ok.status_code == 303


def test_forgot_password_without_smtp_says_so(app_client: TestClient) -> None:
    sign_up(app_client, "ada")
    response = app_client.post("/forgot", data={"login": "ada", "csrf_token": _csrf(app_client)})
    assert response.status_code == 503 and "cannot send email" in response.text


def test_submit_existing_paper_features_it_today_once(catalog: Catalog) -> None:
    old = Paper(title="Pointer networks, an older paper", arxiv_id="1506.03134",
                published=date(2015, 6, 9), source="test", source_ref="old")
    catalog.ingest([old])
    ada = member_client(catalog, "ada")
    response = ada.post("/submit", data={"ref": "https://arxiv.org/abs/1506.03134v2",
                                         "code": "https://github.com/example/ptr",
                                         "csrf_token": _csrf(ada)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/papers/1506.03134?notice=submitted"
    page = ada.get(response.headers["location"])
    assert "Thanks!" in page.text and 'href="https://github.com/example/ptr"' in page.text
    assert "Submitted by <a" in page.text
    today = datetime.now(UTC).date().isoformat()
    listed = ada.get("/api/daily_papers", params={"date": today}).json()
    assert [item["id"] for item in listed] == ["1506.03134"]
    assert ada.get("/").text.count('data-id="1506.03134"') == 1
    bob = member_client(catalog, "bob")
    again = bob.post("/submit", data={"ref": "1506.03134", "csrf_token": _csrf(bob)},
                     follow_redirects=False)
    assert again.headers["location"] == "/papers/1506.03134?notice=already-submitted"
    submitted = catalog.store.papers.get("1506.03134")
    assert catalog.store.community.submission(submitted.key).username == "ada"


def test_submit_asks_arxiv_for_unknown_papers(tmp_path: Path, local_server: LocalServer) -> None:
    body = (FIXTURES / "arxiv_api_id_list_astro-ph_0601001.xml").read_bytes()
    local_server.route = lambda params: (
        (200, {"Content-Type": "application/atom+xml"}, body)
        if params.get("id_list") == "astro-ph/0601001" else (404, {}, b""))
    catalog = _catalog(tmp_path, arxiv_api_url=local_server.url)
    ada = member_client(catalog, "ada")
    response = ada.post("/submit", data={"ref": "astro-ph/0601001", "csrf_token": _csrf(ada)},
                        follow_redirects=False)
    assert response.headers["location"] == "/papers/astro-ph/0601001?notice=submitted"
    stored = catalog.store.papers.get("astro-ph/0601001")
    assert stored is not None and stored.abstract
    found = ada.get("/api/papers/search", params={"q": stored.title}).json()
    assert found[0]["id"] == "astro-ph/0601001", "a submitted paper is searchable at once"


def test_submit_offline_offers_the_manual_form(catalog: Catalog) -> None:
    ada = member_client(catalog, "ada")
    response = ada.post("/submit", data={"ref": "2409.99999", "csrf_token": _csrf(ada)})
    assert response.status_code == 503
    assert "arXiv could not be reached" in response.text and 'id="manual"' in response.text
    assert 'value="2409.99999"' in response.text, "what was typed is kept"
    manual = ada.post("/submit/manual", data={
        "ref": "2409.99999", "title": "A hand-entered paper about ranking losses",
        "authors": "Ada Lovelace, Charles Babbage", "abstract": "We rank.",
        "project": "javascript:alert(1)", "csrf_token": _csrf(ada)})
    assert manual.status_code == 400 and "must be an http(s) URL" in manual.text
    manual = ada.post("/submit/manual", data={
        "ref": "2409.99999", "title": "A hand-entered paper about ranking losses",
        "authors": "Ada Lovelace, Charles Babbage", "abstract": "We rank.",
        "csrf_token": _csrf(ada)}, follow_redirects=False)
    assert manual.headers["location"] == "/papers/2409.99999?notice=submitted"
    paper = catalog.store.papers.get("2409.99999")
    assert paper.authors == ["Ada Lovelace", "Charles Babbage"]
    bad = ada.post("/submit", data={"ref": "not an id", "csrf_token": _csrf(ada)})
    assert bad.status_code == 400 and "is not an arXiv id" in bad.text


def test_hostile_submission_is_escaped_everywhere(catalog: Catalog) -> None:
    ada = member_client(catalog, "ada")
    title = '<script>alert("t")</script><img src=x onerror=alert(1)> Hostile ranking'
    response = ada.post("/submit/manual", data={
        "title": title, "abstract": "<iframe src=javascript:alert(2)></iframe> ranking",
        "authors": "<b>Mallory</b>", "csrf_token": _csrf(ada)}, follow_redirects=False)
    url = response.headers["location"]
    ada.post(f"/api{url.split('?')[0]}/vote", headers={"X-CSRF-Token": _csrf(ada)})
    for path in (url, "/", "/trending", "/search?q=hostile", "/members/ada"):
        text = ada.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert "<iframe" not in text and "<b>Mallory" not in text, path
        assert "&lt;script&gt;alert" in text, path
    feed = ada.get("/feeds/trending.atom").text
    assert "<script>" not in feed and feedparser.parse(feed).entries[0].title == title


def test_votes_show_everywhere_and_trending_ranks_them(catalog: Catalog) -> None:
    ada, bob = member_client(catalog, "ada"), member_client(catalog, "bob")
    for client in (ada, bob):
        state = client.post("/api/papers/2501.00004/vote", params={"up": "true"},
                            headers={"X-CSRF-Token": _csrf(client)}).json()
    assert state == {"id": "2501.00004", "upvotes": 2, "voted": True}
    ada.post("/api/papers/2501.00001/vote", headers={"X-CSRF-Token": _csrf(ada)})
    trending = ada.get("/api/trending").json()
    assert [t["id"] for t in trending] == ["2501.00004", "2501.00001"]
    assert [t["upvotes"] for t in trending] == [2, 1]
    day = (DAY - timedelta(days=1)).isoformat()
    ranked = ada.get("/api/daily_papers", params={"date": day, "sort": "trending"}).json()
    assert ranked[0]["id"] == "2501.00004" and ranked[0]["upvotes"] == 2
    newest = ada.get("/api/daily_papers", params={"date": day, "sort": "newest"}).json()
    assert [p["id"] for p in newest] == sorted(p["id"] for p in newest)
    html = ada.get("/trending").text
    assert html.index("Paper number 4 ") < html.index("Paper number 1 ")
    assert 'aria-pressed="true"' in html
    search = ada.get("/api/papers/search", params={"q": "paper number 4 ranking"}).json()
    assert {h["id"]: h["upvotes"] for h in search}["2501.00004"] == 2
    page = ada.get("/papers/2501.00004").text
    assert re.search(r'class="count">2<', page)
    form_vote = bob.post("/papers/2501.00004/vote", data={"csrf_token": _csrf(bob)},
                         headers={"referer": "http://testserver/trending"},
                         follow_redirects=False)
    assert form_vote.status_code == 303 and form_vote.headers["location"].startswith("/trending")
    assert catalog.store.community.vote_counts([catalog.store.papers.get("2501.00004").key]) == {
        catalog.store.papers.get("2501.00004").key: 1}


def test_fifty_concurrent_http_voters_are_counted_exactly(catalog: Catalog) -> None:
    """50 members vote at once through a real server (uvicorn, thread pool, each store).
    Votes queue on one row's lock: under a loaded machine one may wait past httpx's
    default 5 s, which is not what this test is about."""
    accounts = Accounts(catalog.store.members, catalog.settings)
    sessions = [accounts.start_session(catalog.store.members.add_user(
        f"v{i}", f"v{i}@example.org", "unused-hash")) for i in range(50)]
    with LiveServer(catalog) as server:
        def vote(token: str) -> int:
            cookies = {"pf_session": token, "pf_csrf": "t" * 32}
            with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as http:
                return http.post("/api/papers/2501.00002/vote", params={"up": "true"},
                                 headers={"X-CSRF-Token": "t" * 32}).status_code

        with ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(vote, sessions))
    assert statuses == [200] * 50
    key = catalog.store.papers.get("2501.00002").key
    assert catalog.store.community.vote_counts([key]) == {key: 50}


def test_admin_hides_a_submission(catalog: Catalog) -> None:
    admin = member_client(catalog, "ada")
    bob = member_client(catalog, "bob")
    bob.post("/submit", data={"ref": "2501.00003", "csrf_token": _csrf(bob)})
    bob.post("/api/papers/2501.00003/vote", headers={"X-CSRF-Token": _csrf(bob)})
    refused = bob.post("/papers/2501.00003/hide", data={"csrf_token": _csrf(bob)})
    assert refused.status_code == 403
    hidden = admin.post("/papers/2501.00003/hide", data={"csrf_token": _csrf(admin)},
                        follow_redirects=False)
    assert hidden.headers["location"] == "/papers/2501.00003?notice=hidden"
    assert "An admin hid this submission" in admin.get("/papers/2501.00003").text
    assert bob.get("/papers/2501.00003").status_code == 404
    assert "2501.00003" not in [t["id"] for t in bob.get("/api/trending").json()]
    assert "Paper number 3 " not in bob.get("/search?q=paper+number+3").text
    admin.post("/papers/2501.00003/hide", data={"hidden": "0", "csrf_token": _csrf(admin)})
    assert bob.get("/papers/2501.00003").status_code == 200


def test_atom_feeds_are_valid(catalog: Catalog) -> None:
    ada = member_client(catalog, "ada")
    ada.post("/api/papers/2501.00005/vote", headers={"X-CSRF-Token": _csrf(ada)})
    for path, expected in (("/feeds/daily.atom", None), ("/feeds/trending.atom", "2501.00005"),
                           ("/feeds/search.atom?q=learning+to+rank", None),
                           ("/feeds/members/ada/upvotes.atom", "2501.00005")):
        response = ada.get(path)
        assert response.headers["content-type"].startswith("application/atom+xml")
        feed = feedparser.parse(response.content)
        assert not feed.bozo and feed.version == "atom10", path
        assert feed.entries, path
        if expected:
            assert feed.entries[0].link.endswith(f"/papers/{expected}"), path
    assert ada.get("/feeds/search.atom").status_code == 400
    assert ada.get("/feeds/members/nobody/upvotes.atom").status_code == 404


def test_oversized_and_malformed_requests(catalog: Catalog) -> None:
    ada = member_client(catalog, "ada")
    huge = ada.post("/submit/manual", data={"title": "x", "abstract": "a" * 300_000,
                                            "csrf_token": _csrf(ada)})
    assert huge.status_code == 413
    assert ada.post("/api/papers/nope/vote", headers={"X-CSRF-Token": _csrf(ada)}
                    ).status_code == 404
    assert ada.get("/members/nobody").status_code == 404
    assert ada.get("/reset?token=garbage").status_code == 400
    assert catalog.store.papers.count() == 8, "nothing stored by refused requests"


def test_cached_pages_for_visitors_show_new_votes_and_their_own_token(
        catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from paperfeed.web import page_cache

    monkeypatch.setattr(page_cache, "MAX_STALE_S", 0.0)  # no grace period: see the vote now
    app = create_app(catalog.settings, catalog)
    first, second = TestClient(app), TestClient(app)
    day = (DAY - timedelta(days=1)).isoformat()
    path = f"/papers/date/{day}"
    pages = [client.get(path) for client in (first, second, first)]
    cache = app.state.page_cache
    assert (cache.misses, cache.hits) == (1, 2)
    for client, page in zip((first, second), pages, strict=False):
        token = client.cookies["pf_csrf"]
        assert f'name="csrf_token" value="{token}"' in page.text
        assert "__PAPERFEED_CSRF_TOKEN__" not in page.text
    assert first.cookies["pf_csrf"] != second.cookies["pf_csrf"]
    voter = TestClient(app)
    sign_up(voter, "ada")
    mine = voter.get(path)
    assert (cache.misses, cache.hits) == (1, 3), "members share the rendered page too"
    assert ">ada</a>" in mine.text and ">ada</a>" not in pages[0].text
    assert "pf:voted:" not in mine.text and "<!--pf:account-->" not in mine.text
    voter.post("/api/papers/2501.00004/vote", headers={"X-CSRF-Token": _csrf(voter)})
    after = first.get(path)
    assert cache.misses == 2, "a vote changes the page: rendered again"
    assert after.text.index('data-id="2501.00004"') < after.text.index('data-id="2501.00001"')
    pressed = re.compile(r'data-api="/api/papers/2501.00004/vote">\s*<input[^>]*>\s*'
                         r'<button[^>]*aria-pressed="(\w+)"')
    assert pressed.search(voter.get(path).text)[1] == "true", "the voter sees their vote"
    assert pressed.search(after.text)[1] == "false", "nobody else does"
    assert re.search(r'class="count">1<', after.text)

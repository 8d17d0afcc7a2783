"""A submission an admin hid is gone from every surface: the one visibility rule.

One data directory, one hidden paper (`HIDDEN`) and its near twin (`TWIN`), walked
through every surface: the JSON API (paper, similar, vote, search, lists), the pages,
the Atom feeds, the CLI and the digests. Only admins still open the hidden paper's
page, which says it is hidden.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.cli import cli
from paperfeed.digests import DigestSender
from paperfeed.models import Paper
from paperfeed.web import create_app

from .conftest import make_settings
from .smtp_server import SmtpSink
from .web.members import sign_up_and_verify

PASSWORD = "correct horse battery"
TODAY = datetime.now(UTC).date()
HIDDEN, TWIN = "2612.00001", "2612.00002"
QUERY = "quantum annealing protein folding"
TOPICS = [
    ("Quantum annealing for protein folding", "We fold small proteins on a quantum annealer "
     "and compare the energies with classical protein folding solvers."),
    ("Protein folding on quantum annealers, revisited", "Quantum annealing finds low-energy "
     "protein folds; we revisit protein folding benchmarks on annealers."),
    ("Galaxy cluster lensing with weak shear", "We measure weak gravitational lensing shear "
     "around galaxy clusters with a new telescope survey."),
    ("Graph neural networks for molecules", "Message passing networks predict molecular "
     "properties."),
    ("Efficient transformers with linear attention", "Linear attention approximates softmax "
     "attention in transformers at lower cost."),
    ("Pairwise ranking losses for learning to rank", "A pairwise hinge loss over document "
     "pairs improves learning to rank."),
]


def _corpus() -> list[Paper]:
    return [Paper(title=title, abstract=abstract, arxiv_id=f"2612.{i:05d}",
                  published=TODAY - timedelta(days=1), categories=["q-bio.BM"],
                  authors=["Ada Lovelace"], source="test", source_ref=str(i))
            for i, (title, abstract) in enumerate(TOPICS, start=1)]


def _csrf(client: TestClient) -> str:
    if not client.cookies.get("pf_csrf"):
        client.get("/login")
    return client.cookies["pf_csrf"]


def _member(catalog: Catalog, name: str, sink: SmtpSink | None = None) -> TestClient:
    """A logged-in member (on a site that sends mail, with a verified address)."""
    client = TestClient(create_app(catalog.settings, catalog))
    if sink is not None:
        sign_up_and_verify(client, sink, name)
        return client
    signed_up = client.post("/signup", data={
        "username": name, "email": f"{name}@example.org", "password": PASSWORD,
        "csrf_token": _csrf(client)}, follow_redirects=False)
    assert signed_up.status_code == 303, signed_up.text
    return client


def _open(home: Path, **overrides: object) -> Catalog:
    catalog = Catalog(make_settings(home, load_demo=False, base_url="http://testserver",
                                    **overrides))
    catalog.ingest(_corpus())
    catalog.reindex()
    return catalog


def _submit_vote_and_hide(admin: TestClient, bob: TestClient, *, hide: bool = True) -> None:
    """Bob submits and upvotes HIDDEN (so it is featured, voted, in his upvotes); the admin
    hides it."""
    assert bob.post("/submit", data={"ref": HIDDEN, "csrf_token": _csrf(bob)},
                    follow_redirects=False).status_code == 303
    assert bob.post(f"/api/papers/{HIDDEN}/vote?up=true",
                    headers={"X-CSRF-Token": _csrf(bob)}).json()["upvotes"] == 1
    if hide:
        hidden = admin.post(f"/papers/{HIDDEN}/hide", data={"csrf_token": _csrf(admin)},
                            follow_redirects=False)
        assert hidden.headers["location"] == f"/papers/{HIDDEN}?notice=hidden"


class Site:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.admin = _member(catalog, "ada")  # the first member is an admin
        self.bob = _member(catalog, "bob")
        self.visitor = TestClient(create_app(catalog.settings, catalog))
        _submit_vote_and_hide(self.admin, self.bob)

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(cli, ["--data-dir", str(self.catalog.settings.home),
                                          *args], catch_exceptions=False)
        return result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(_open(tmp_path_factory.mktemp("visibility")))


@pytest.fixture(params=["visitor", "bob"])
def reader(request: pytest.FixtureRequest, site: Site) -> Iterator[TestClient]:
    yield getattr(site, request.param)


def _ids(items: list[dict[str, object]]) -> list[object]:
    return [item["id"] for item in items]


def test_api_paper_is_not_found(site: Site, reader: TestClient) -> None:
    for path in (f"/api/papers/{HIDDEN}", f"/api/papers/{HIDDEN}/similar"):
        response = reader.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": {"status": 404,
                                             "message": f"no paper with id {HIDDEN!r}"}}
    assert site.admin.get(f"/api/papers/{HIDDEN}").json()["id"] == HIDDEN, \
        "admins see a hidden paper, as on its page"


def test_pages_only_admins_open_it(site: Site, reader: TestClient) -> None:
    assert reader.get(f"/papers/{HIDDEN}").status_code == 404
    page = site.admin.get(f"/papers/{HIDDEN}")
    assert page.status_code == 200 and "An admin hid this submission" in page.text


def test_no_vote_on_it(site: Site) -> None:
    key = site.catalog.store.papers.get(HIDDEN).key
    api = site.bob.post(f"/api/papers/{HIDDEN}/vote", headers={"X-CSRF-Token": _csrf(site.bob)})
    assert api.status_code == 404 and api.json()["error"]["status"] == 404
    form = site.bob.post(f"/papers/{HIDDEN}/vote", data={"csrf_token": _csrf(site.bob)},
                         follow_redirects=False)
    assert form.status_code == 404
    assert site.catalog.store.community.vote_counts([key]) == {key: 1}, "Bob's vote stays"


def test_in_no_similar_list(site: Site, reader: TestClient) -> None:
    similar = reader.get(f"/api/papers/{TWIN}/similar?limit=4").json()
    assert len(similar) == 4 and HIDDEN not in _ids(similar)
    assert f"/papers/{HIDDEN}" not in reader.get(f"/papers/{TWIN}").text
    cli = json.loads(site.cli("similar", TWIN, "--limit", "4", "--json"))
    assert len(cli) == 4 and HIDDEN not in _ids(cli)


def test_search_never_finds_it(site: Site, reader: TestClient) -> None:
    api = reader.get("/api/papers/search", params={"q": QUERY})
    assert TWIN in _ids(api.json()) and HIDDEN not in _ids(api.json())
    for params in ({"q": QUERY}, {"category": "q-bio.BM"}):  # a filter without a query too
        page = reader.get("/search", params=params).text
        assert f"/papers/{TWIN}" in page and f"/papers/{HIDDEN}" not in page, params
    cli = json.loads(site.cli("search", QUERY, "--json"))
    assert TWIN in _ids(cli) and HIDDEN not in _ids(cli)


def test_in_no_list(site: Site, reader: TestClient) -> None:
    day = (TODAY - timedelta(days=1)).isoformat()
    for path in ("/", f"/papers/date/{TODAY.isoformat()}", f"/papers/date/{day}",
                 "/trending", "/members/bob"):
        assert f"/papers/{HIDDEN}" not in reader.get(path).text, path
    for path in ("/api/trending", f"/api/daily_papers?date={day}",
                 f"/api/daily_papers?date={TODAY.isoformat()}"):
        assert HIDDEN not in _ids(reader.get(path).json()), path
    assert TWIN in _ids(reader.get(f"/api/daily_papers?date={day}").json())


def test_in_no_feed(site: Site, reader: TestClient) -> None:
    for path in ("/feeds/daily.atom", f"/feeds/daily.atom?date={TODAY.isoformat()}",
                 "/feeds/trending.atom", f"/feeds/search.atom?q={QUERY}",
                 "/feeds/members/bob/upvotes.atom"):
        feed = feedparser.parse(reader.get(path).content)
        assert not feed.bozo, path
        assert not any(e.link.endswith(f"/papers/{HIDDEN}") for e in feed.entries), path
    search = feedparser.parse(reader.get(f"/feeds/search.atom?q={QUERY}").content)
    assert any(e.link.endswith(f"/papers/{TWIN}") for e in search.entries)


def _digest_papers(sink: SmtpSink) -> set[str]:
    found: set[str] = set()
    for message in sink.messages:
        found |= set(re.findall(r"/papers/(\S+)", message.get_body(("plain",)).get_content()))
    return found


def test_in_no_digest(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    """Hidden before the digest is planned, or between planning and sending."""
    catalog = _open(tmp_path / "data", digest_retry_base_s=0.02, **smtp_sink.overrides)
    admin, bob = _member(catalog, "ada", smtp_sink), _member(catalog, "bob", smtp_sink)
    _submit_vote_and_hide(admin, bob, hide=False)
    for email in ("early@example.org", "late@example.org"):
        subscription = catalog.store.subscriptions.add(email, "daily", True, QUERY)
        catalog.store.subscriptions.set_status(subscription.id, "active")
    sender = DigestSender(catalog, catalog.settings)
    sender.plan("daily")  # planned while HIDDEN is visible: it is in both digests' papers
    planned = {key for item in catalog.store.outbox.items() for keys in item.sections.values()
               for key in keys}
    assert catalog.store.papers.get(HIDDEN).key in planned
    admin.post(f"/papers/{HIDDEN}/hide", data={"csrf_token": _csrf(admin)})
    assert sender.deliver().sent == 2
    received = _digest_papers(smtp_sink)
    assert TWIN in received and HIDDEN not in received

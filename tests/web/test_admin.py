"""The admin page (/admin) and /api/admin/status: admins only, and numbers that are the
store's and the indexes' own, mid-way through a real transformer backfill."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.cli import cli
from paperfeed.index.sync import AT_ONCE_ROWS, TRANSFORMER
from paperfeed.members import Accounts
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from .test_community import _csrf, member_client

BULK = AT_ONCE_ROWS + 100  # more than the transformer embeds at once: left to the backfill
HOSTILE = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"


def _papers() -> list[Paper]:
    papers = [Paper(title=f"Note {i} on subject {i % 37}", abstract=f"Observation number {i}.",
                    arxiv_id=f"2001.{i:05d}", published=date(2020, 1, 1) + timedelta(days=i),
                    source="t", source_ref=str(i)) for i in range(BULK - 1)]
    return [*papers, Paper(title=HOSTILE, abstract="Hostile.", arxiv_id="2001.99999",
                           published=date(2020, 1, 1), source="t", source_ref="hostile")]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """BULK papers, keyword and static vectors built, the transformer one batch in."""
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("admin"), load_demo=False))
    catalog.ingest(_papers())
    catalog.reindex()
    catalog.indexes.backfill(catalog.store.papers, seconds=0)  # one batch, then stop
    catalog.store.harvests.save("arxiv-oai:cs:2026-11-27:", resumption_token="tok|2",
                                from_date="2026-11-27", pages=2, records=150)
    return catalog


@pytest.fixture(scope="module")
def clients(catalog: Catalog) -> dict[str, TestClient]:
    """ada (the first member: an admin) has hidden bob's submission of the hostile paper."""
    ada, bob = member_client(catalog, "ada"), member_client(catalog, "bob")
    assert bob.post("/submit", data={"ref": "2001.99999", "csrf_token": _csrf(bob)},
                    follow_redirects=False).status_code == 303
    assert ada.post("/papers/2001.99999/hide", data={"csrf_token": _csrf(ada)},
                    follow_redirects=False).status_code == 303
    return {"ada": ada, "bob": bob, "anonymous": TestClient(create_app(catalog.settings,
                                                                       catalog))}


def _token(catalog: Catalog, name: str) -> dict[str, str]:
    accounts = Accounts(catalog.store.members, catalog.settings)
    user = catalog.store.members.user_by_name(name)
    assert user is not None
    token, _ = accounts.tokens.create(user, "monitoring")
    return {"Authorization": f"Bearer {token}"}


def test_a_visitor_is_sent_to_log_in_and_a_member_is_refused(
        catalog: Catalog, clients: dict[str, TestClient]) -> None:
    anonymous, bob = clients["anonymous"], clients["bob"]
    answer = anonymous.get("/admin", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/admin"
    refused = bob.get("/admin")
    assert refused.status_code == 403 and "Only an admin can do that." in refused.text
    assert 'href="/admin"' not in bob.get("/account").text, "no admin link for a member"
    for client, headers, status in ((anonymous, {}, 401), (bob, {}, 403),
                                    (anonymous, _token(catalog, "bob"), 403),
                                    (anonymous, {"Authorization": "Bearer pf_unknown"}, 401)):
        api = client.get("/api/admin/status", headers=headers)
        assert api.status_code == status
        assert api.json()["error"]["status"] == status, api.json()


def test_the_admin_sees_the_numbers_of_the_store_and_the_indexes(
        catalog: Catalog, clients: dict[str, TestClient]) -> None:
    store, indexes = catalog.store, catalog.indexes
    status = clients["anonymous"].get("/api/admin/status", headers=_token(catalog, "ada"))
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["papers"] == store.papers.count() == BULK
    assert body["store_change"] == store.papers.max_seq()
    tiers = {tier["name"]: tier for tier in body["indexes"]}
    assert set(tiers) == {"keyword", "vectors-static", "vectors-transformer", "map"}
    keyword, static, transformer = (tiers[n] for n in ("keyword", "vectors-static",
                                                         "vectors-transformer"))
    assert (keyword["done"], keyword["up_to_change"]) == (BULK, store.papers.max_seq())
    assert (static["done"], static["eta_s"]) == (len(indexes.semantic.index), 0)
    held = len(indexes.transformer.index)
    assert 0 < held < BULK, "the backfill stopped part way"
    assert transformer["model"] == TRANSFORMER and transformer["done"] == held
    assert transformer["total"] == BULK and transformer["rate"] > 0
    assert transformer["eta_s"] == pytest.approx((BULK - held) / transformer["rate"])
    assert body["last_harvest"]["name"] == "arxiv-oai:cs:2026-11-27:"
    assert body["last_harvest"]["unfinished"] and body["last_harvest"]["records"] == 150
    assert body["outbox_queued"] == sum(store.outbox.counts().get(s, 0)
                                        for s in ("queued", "sending"))
    assert body["members"] == len(store.members.users()) == 2
    assert body["hidden_submissions"] == 1
    assert body["hidden"] == [{"id": "2001.99999", "title": HOSTILE}]

    cache = clients["ada"].app.state.page_cache  # type: ignore[attr-defined]
    seen = (cache.hits, cache.misses)
    page = clients["ada"].get("/admin")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert (cache.hits, cache.misses) == seen, "the admin page is not a shared page"
    html = page.text
    assert '<a href="/admin" aria-current="page">Admin</a>' in html
    row = re.search(r'<tr data-index="vectors-transformer">(.*?)</tr>', html, re.S)
    assert row and f"{held}/{BULK}" in row[1]
    # The ETA is the one `paperfeed index status` prints: one computation, two surfaces.
    cli_rows = CliRunner().invoke(cli, ["--data-dir", str(catalog.settings.home), "index",
                                        "status"]).output
    cli_eta = next(line for line in cli_rows.splitlines() if "vectors-transformer" in line)
    assert f'<td class="eta">{cli_eta.split()[-1]}</td>' in row[1]
    assert f"{BULK} papers in the store" in html and "Members: 2." in html
    assert "Hidden submissions: 1." in html and 'href="/papers/2001.99999"' in html
    assert HOSTILE not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "arxiv-oai:cs:2026-11-27:" in html and "unfinished" in html

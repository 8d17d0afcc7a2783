"""The library over HTTP (real SQLite and PostgreSQL): Save with and without JavaScript,
collection pages, share links, exports read back by independent parsers, BibTeX import."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pybtex.database import parse_string

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import csrf, signed_up

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
PAPERS = [Paper(title=f"Learning to rank number {i} with pairwise losses", abstract="Ranking.",
                arxiv_id=f"2501.{i:05d}", doi=f"10.5555/rank.{i}" if i == 2 else None,
                published=date(2026, 1, 2 + i), categories=["cs.IR"], authors=["Ada Lovelace"],
                source="test", source_ref=str(i)) for i in range(4)]


@pytest.fixture
def catalog(tmp_path: Path, store_backend: dict[str, str]) -> Catalog:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False, **store_backend))
    catalog.ingest(PAPERS)
    catalog.reindex()
    return catalog


def _pressed(page: str, paper_id: str) -> str:
    form = page.split(f'action="/papers/{paper_id}/save"', 1)[1].split("</form>", 1)[0]
    return re.search(r'class="link save-button" aria-pressed="(\w+)"', form)[1]  # type: ignore[index]


def _save_form(client: TestClient, paper_id: str, back: str = "/papers/month") -> None:
    answer = client.post(f"/papers/{paper_id}/save", data={"csrf_token": csrf(client)},
                         headers={"referer": f"http://testserver{back}"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith(back)


def _collection_id(client: TestClient, name: str = "Saved") -> int:
    listed = client.get("/library").text
    return int(re.search(rf'href="/library/(\d+)">{re.escape(name)}</a>', listed)[1])  # type: ignore[index]


def test_save_without_js_fills_the_shared_page_per_member(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    stranger = TestClient(create_app(catalog.settings, catalog))
    ada.get("/papers/month")  # the cached copy is rendered before the save
    _save_form(ada, "2501.00001")
    assert _pressed(ada.get("/papers/month").text, "2501.00001") == "true"
    assert _pressed(ada.get("/papers/month").text, "2501.00002") == "false"
    assert _pressed(bob.get("/papers/month").text, "2501.00001") == "false"
    page = stranger.get("/papers/month").text
    assert _pressed(page, "2501.00001") == "false" and "pf:saved" not in page
    assert "Saved</a>" in ada.get("/library").text  # "Saved" made on first save
    _save_form(ada, "2501.00001")  # again: taken out
    assert _pressed(ada.get("/papers/month").text, "2501.00001") == "false"
    assert _pressed(ada.get("/papers/2501.00001").text, "2501.00001") == "false"


def test_save_asks_a_visitor_to_log_in_and_comes_back(catalog: Catalog) -> None:
    stranger = TestClient(create_app(catalog.settings, catalog))
    answer = stranger.post("/papers/2501.00001/save", data={"csrf_token": csrf(stranger)},
                           headers={"referer": "http://testserver/papers/month"},
                           follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert "why=save" in answer.headers["location"]
    assert stranger.post("/api/papers/2501.00001/save",
                         headers={"X-CSRF-Token": csrf(stranger)}).status_code == 401


def test_save_with_js_uses_the_api_and_needs_the_csrf_header(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    assert ada.post("/api/papers/2501.00003/save").status_code == 403
    saved = ada.post("/api/papers/2501.00003/save", headers={"X-CSRF-Token": csrf(ada)})
    assert saved.json() == {"id": "2501.00003", "saved": True}
    page = ada.get("/papers/2501.00003").text
    assert _pressed(page, "2501.00003") == "true"
    assert 'data-api="/api/papers/2501.00003/save"' in page
    again = ada.post("/api/papers/2501.00003/save", headers={"X-CSRF-Token": csrf(ada)})
    assert again.json()["saved"] is False


def test_collections_are_private_and_shared_only_by_link(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    made = ada.post("/library", data={"name": HOSTILE, "csrf_token": csrf(ada)},
                    follow_redirects=False)
    assert made.status_code == 303
    cid = int(made.headers["location"].split("/")[2].split("?")[0])
    ada.post(f"/library/{cid}/add", data={"paper": "2501.00002", "csrf_token": csrf(ada)})
    page = ada.get(f"/library/{cid}")
    assert page.status_code == 200 and "Learning to rank number 2" in page.text
    assert HOSTILE not in page.text and "&lt;script&gt;" in page.text
    spoofed = ada.get(f"/library/{cid}?notice=Pay+here&error=Pay+here&status=500")
    assert spoofed.status_code == 200 and "Pay here" not in spoofed.text
    assert bob.get(f"/library/{cid}").status_code == 404
    assert bob.get(f"/library/{cid}.bib").status_code == 404
    assert bob.post(f"/library/{cid}/delete", data={"csrf_token": csrf(bob)}).status_code == 404
    stranger = TestClient(create_app(catalog.settings, catalog))
    assert stranger.get(f"/library/{cid}", follow_redirects=False).status_code == 303

    shared = ada.post(f"/library/{cid}/share", data={"csrf_token": csrf(ada)})
    link = re.search(r'href="(/c/[\w-]+)"', shared.text)[1]  # type: ignore[index]
    public = stranger.get(link)
    assert public.status_code == 200 and "Learning to rank number 2" in public.text
    assert public.headers["x-robots-tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex' in public.text
    assert "Stop sharing" not in public.text and HOSTILE not in public.text
    assert link not in stranger.get("/papers/month").text
    assert stranger.get(f"{link}.bib").status_code == 200
    ada.post(f"/library/{cid}/unshare", data={"csrf_token": csrf(ada)})
    assert stranger.get(link).status_code == 404
    assert stranger.get(f"{link}.json").status_code == 404


def test_exports_read_back_with_independent_parsers(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    for paper_id in ("2501.00001", "2501.00002"):
        _save_form(ada, paper_id)
    cid = _collection_id(ada)
    bib = ada.get(f"/library/{cid}.bib")
    assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
    entries = parse_string(bib.text, "bibtex").entries
    assert sorted(e.fields["eprint"] for e in entries.values()) == ["2501.00001", "2501.00002"]
    dois = [e.fields["doi"] for e in entries.values() if "doi" in e.fields]
    assert dois == ["10.5555/rank.2"]
    items = json.loads(ada.get(f"/library/{cid}.json").text)
    assert [item["number"] for item in items] == ["arXiv:2501.00002", "arXiv:2501.00001"]
    assert items[0]["author"] == [{"family": "Lovelace", "given": "Ada"}]


BIBTEX = """
@article{known, title = {Learning to rank number 3 with pairwise losses},
  author = {Lovelace, Ada}, eprint = {2501.00003}, archivePrefix = {arXiv}, year = 2026}
@inproceedings{bydoi, title = {Whatever the title says}, doi = {10.5555/rank.2}, year = 2026}
@article{fresh, title = {A Wholly New Paper on Ranking {<script>alert(1)</script>}},
  author = {Hopper, Grace and Turing, Alan}, year = {2024}, month = {mar},
  url = {javascript:alert(1)}, abstract = {New <b>stuff</b>.}}
@article{broken, title = {unterminated
"""


def test_bibtex_import_matches_stores_and_reports(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    ada.post("/library", data={"name": "Reading list", "csrf_token": csrf(ada)})
    cid = _collection_id(ada, "Reading list")
    before = catalog.store.papers.count()
    done = ada.post(f"/library/{cid}/import", data={"csrf_token": csrf(ada)},
                    files={"bibtex": ("mine.bib", BIBTEX.encode(), "text/x-bibtex")})
    assert done.status_code == 200, done.text
    assert "2 matched, 1 added to the store, 1 skipped" in done.text
    assert catalog.store.papers.count() == before + 1
    stored = catalog.store.library.papers(cid, 10)
    papers = {p.title: p for p in catalog.store.papers.get_many(stored)}
    assert len(papers) == 3
    new = papers["A Wholly New Paper on Ranking <script>alert(1)</script>"]
    assert new.authors == ["Grace Hopper", "Alan Turing"] and "url" not in new.links
    page = ada.get(f"/library/{cid}").text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    again = ada.post(f"/library/{cid}/import", data={"csrf_token": csrf(ada)},
                     files={"bibtex": ("mine.bib", BIBTEX.encode(), "text/x-bibtex")})
    assert "3 matched, 0 added" in again.text and catalog.store.papers.count() == before + 1


@pytest.mark.parametrize("content", [b"this is not bibtex at all", b"\xff\xfe\x00garbage",
                                     b"@article{x, author = {No Title}}"])
def test_a_bad_file_gets_a_clear_error_and_changes_nothing(catalog: Catalog,
                                                            content: bytes) -> None:
    ada = signed_up(catalog, "ada")
    _save_form(ada, "2501.00001")
    cid = _collection_id(ada)
    before = catalog.store.papers.count()
    refused = ada.post(f"/library/{cid}/import", data={"csrf_token": csrf(ada)},
                       files={"bibtex": ("x.bib", content, "text/plain")})
    assert refused.status_code == 400
    assert "Nothing changed" in refused.text or "not UTF-8" in refused.text
    assert catalog.store.papers.count() == before
    assert catalog.store.library.papers(cid, 10) == [catalog.store.papers.get("2501.00001").key]  # type: ignore[union-attr]


def test_import_needs_the_csrf_token_and_the_owner(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    _save_form(ada, "2501.00001")
    cid = _collection_id(ada)
    files = {"bibtex": ("mine.bib", BIBTEX.encode(), "text/x-bibtex")}
    assert ada.post(f"/library/{cid}/import", files=files).status_code == 403
    assert bob.post(f"/library/{cid}/import", data={"csrf_token": csrf(bob)},
                    files=files).status_code == 404
    assert len(catalog.store.library.papers(cid, 10)) == 1


def _token(member: TestClient) -> dict[str, str]:
    page = member.post("/account/tokens", data={"label": "library", "csrf_token": csrf(member)})
    [token] = re.findall(r'<code class="token">(pf_[\w-]+)</code>', page.text)
    return {"Authorization": f"Bearer {token}"}


def test_api_collections_with_a_personal_token(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    auth, bob_auth = _token(ada), _token(bob)
    api = TestClient(create_app(catalog.settings, catalog))  # no cookies: the token only
    made = api.post("/api/collections", json={"name": HOSTILE}, headers=auth)
    assert made.status_code == 201 and made.json()["name"] == HOSTILE
    cid = made.json()["id"]
    assert api.post("/api/collections", json={"name": HOSTILE.upper()},
                    headers=auth).status_code == 409
    assert api.post("/api/collections", json={"name": ""}, headers=auth).status_code == 400
    for paper_id in ("2501.00000", "2501.00002"):
        added = api.post(f"/api/collections/{cid}/papers", json={"paper_id": paper_id},
                         headers=auth)
        assert added.status_code == 200
    assert added.json()["papers"] == 2
    got = api.get(f"/api/collections/{cid}", headers=auth).json()
    assert [item["paper"]["id"] for item in got["items"]] == ["2501.00002", "2501.00000"]
    assert [c["id"] for c in api.get("/api/collections", headers=auth).json()] == [cid]
    assert api.get("/api/collections", headers=bob_auth).json() == []
    assert api.get(f"/api/collections/{cid}", headers=bob_auth).status_code == 404
    assert api.delete(f"/api/collections/{cid}/papers/2501.00000",
                      headers=bob_auth).status_code == 404
    bib = api.get(f"/api/collections/{cid}/export?format=bibtex", headers=auth)
    assert len(parse_string(bib.text, "bibtex").entries) == 2
    csl = api.get(f"/api/collections/{cid}/export?format=csl-json", headers=auth).json()
    assert {item["title"] for item in csl} == {PAPERS[0].title, PAPERS[2].title}
    removed = api.delete(f"/api/collections/{cid}/papers/2501.00000", headers=auth)
    assert removed.json()["papers"] == 1
    assert api.get("/api/collections").status_code == 401
    assert api.delete(f"/api/collections/{cid}", headers=auth).status_code == 204
    assert api.get(f"/api/collections/{cid}", headers=auth).status_code == 404
    assert catalog.store.papers.count() == len(PAPERS)


def test_api_renames_shares_and_unshares_a_collection(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    auth, bob_auth = _token(ada), _token(bob)
    api = TestClient(create_app(catalog.settings, catalog))
    cid = api.post("/api/collections", json={"name": "To read"}, headers=auth).json()["id"]
    api.post("/api/collections", json={"name": "Taken"}, headers=auth)
    renamed = api.patch(f"/api/collections/{cid}", json={"name": HOSTILE}, headers=auth)
    assert renamed.status_code == 200 and renamed.json()["name"] == HOSTILE
    assert renamed.json()["shared"] is False and renamed.json()["shareUrl"] is None
    assert api.patch(f"/api/collections/{cid}", json={"name": "taken"},
                     headers=auth).status_code == 409
    assert api.patch(f"/api/collections/{cid}", json={"name": "Mine now"},
                     headers=bob_auth).status_code == 404
    shared = api.patch(f"/api/collections/{cid}", json={"shared": True}, headers=auth).json()
    link = shared["shareUrl"]
    assert shared["shared"] and link.startswith(catalog.settings.base_url.rstrip("/") + "/c/")
    again = api.patch(f"/api/collections/{cid}", json={"shared": True}, headers=auth).json()
    assert again["shareUrl"] == link, "sharing a shared collection keeps its link"
    path = link.removeprefix(catalog.settings.base_url.rstrip("/"))
    assert TestClient(create_app(catalog.settings, catalog)).get(path).status_code == 200
    private = api.patch(f"/api/collections/{cid}", json={"shared": False}, headers=auth).json()
    assert private["shared"] is False and private["name"] == HOSTILE
    assert TestClient(create_app(catalog.settings, catalog)).get(path).status_code == 404
    assert ada.patch(f"/api/collections/{cid}", json={"name": "x"}).status_code == 403, \
        "a session needs the CSRF header"


def test_api_imports_bibtex_from_the_body(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    auth, bob_auth = _token(ada), _token(bob)
    api = TestClient(create_app(catalog.settings, catalog))
    cid = api.post("/api/collections", json={"name": "Mine"}, headers=auth).json()["id"]
    bib = {**auth, "Content-Type": "application/x-bibtex"}
    before = catalog.store.papers.count()
    done = api.post(f"/api/collections/{cid}/import", content=BIBTEX.encode(), headers=bib)
    assert done.status_code == 200, done.text
    report = done.json()
    assert (report["matched"], report["added"], report["already"]) == (2, 1, 0)
    assert [s["source_ref"].split(":")[0] for s in report["skipped"]] == ["upload.bib"]
    assert report["collection"]["papers"] == 3 and catalog.store.papers.count() == before + 1
    again = api.post(f"/api/collections/{cid}/import", content=BIBTEX.encode(), headers=bib)
    assert (again.json()["matched"], again.json()["already"]) == (3, 3)
    for bad in (b"this is not bibtex at all", b"\xff\xfe\x00garbage"):
        refused = api.post(f"/api/collections/{cid}/import", content=bad, headers=bib)
        assert refused.status_code == 400 and refused.json()["error"]["message"]
    huge = b"@misc{x, title={" + b"a" * (2 * 1024 * 1024) + b"}}"
    assert api.post(f"/api/collections/{cid}/import", content=huge,
                    headers=bib).status_code == 413
    assert api.post(f"/api/collections/{cid}/import", content=BIBTEX.encode(),
                    headers={**bob_auth, "Content-Type": "application/x-bibtex"}
                    ).status_code == 404
    assert catalog.store.papers.count() == before + 1
    assert len(catalog.store.library.papers(cid, 10)) == 3

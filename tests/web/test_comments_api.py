"""The discussion's JSON API (real SQLite): read, post and reply with a token or with
the session and its CSRF header, edit and delete one's own, admin hide; refusals in
the one error envelope."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.store import MAX_COMMENT
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import csrf, signed_up

PAPER = "2502.00001"
URL = f"/api/papers/{PAPER}/comments"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    catalog = Catalog(make_settings(tmp_path_factory.mktemp("api") / "data", load_demo=False))
    catalog.ingest([Paper(title=f"Calibrated rankers {i}", abstract="We calibrate.",
                          arxiv_id=f"2502.{i:05d}", published=date(2026, 2, 3),
                          source="test", source_ref=str(i)) for i in range(2)])
    catalog.reindex()
    signed_up(catalog, "root")  # the first member, the admin
    return catalog


def _token(client: TestClient) -> dict[str, str]:
    page = client.post("/account/tokens", data={"label": "t", "csrf_token": csrf(client)})
    [token] = re.findall(r'<code class="token">(pf_[\w-]+)</code>', page.text)
    return {"Authorization": f"Bearer {token}"}


def _error(answer: object, status: int) -> str:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    envelope = answer.json()  # type: ignore[attr-defined]
    assert envelope["error"]["status"] == status
    return envelope["error"]["message"]


def test_post_reply_edit_delete_with_a_token(catalog: Catalog) -> None:
    ann = signed_up(catalog, "ann")
    bare, auth = TestClient(create_app(catalog.settings, catalog)), _token(ann)
    top = bare.post(URL, json={"body": "Nice *ablation*."}, headers=auth)
    assert top.status_code == 201
    made = top.json()
    assert made["author"] == "ann" and made["parentId"] is None and made["paperId"] == PAPER
    assert made["bodyHtml"] == "<p>Nice <em>ablation</em>.</p>\n"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z", made["createdAt"])
    reply = bare.post(URL, json={"body": "Agreed", "parentId": made["id"]}, headers=auth).json()
    deeper = bare.post(URL, json={"body": "+1", "parentId": reply["id"]}, headers=auth).json()
    assert deeper["parentId"] == made["id"]  # one level: joins the top-level comment

    edited = bare.patch(f"/api/comments/{made['id']}", json={"body": "Nice **ablation**."},
                        headers=auth)
    assert edited.status_code == 200 and edited.json()["editedAt"]
    assert bare.delete(f"/api/comments/{reply['id']}", headers=auth).status_code == 204
    listed = bare.get(URL).json()  # anyone reads
    assert [(c["id"], c["body"]) for c in listed] == [
        (made["id"], "Nice **ablation**."), (deeper["id"], "+1")]
    assert _error(bare.delete(f"/api/comments/{reply['id']}", headers=auth), 404)


def test_the_session_needs_the_csrf_header(catalog: Catalog) -> None:
    bea = signed_up(catalog, "bea")
    assert "X-CSRF-Token" in _error(bea.post(URL, json={"body": "no header"}), 403)
    answer = bea.post(URL, json={"body": "with header"}, headers={"X-CSRF-Token": csrf(bea)})
    assert answer.status_code == 201 and answer.json()["author"] == "bea"


def test_visitors_read_but_cannot_write(catalog: Catalog) -> None:
    visitor = TestClient(create_app(catalog.settings, catalog))
    assert visitor.get(URL).status_code == 200
    answer = visitor.post(URL, json={"body": "anonymous"})
    assert answer.status_code in (401, 403)
    _error(answer, answer.status_code)
    answer = visitor.post(URL, json={"body": "bad token"},
                          headers={"Authorization": "Bearer pf_nonsense"})
    assert _error(answer, 401) and answer.headers["www-authenticate"].startswith("Bearer")


def test_only_the_author_edits_and_only_admins_hide(catalog: Catalog) -> None:
    cat, dan = signed_up(catalog, "cat"), signed_up(catalog, "dan")
    root = TestClient(create_app(catalog.settings, catalog))  # acts through the tokens
    cat_auth, dan_auth = _token(cat), _token(dan)
    made = root.post(URL, json={"body": "cat's"}, headers=cat_auth).json()
    _error(root.patch(f"/api/comments/{made['id']}", json={"body": "dan's"},
                      headers=dan_auth), 403)
    _error(root.delete(f"/api/comments/{made['id']}", headers=dan_auth), 403)
    _error(root.post(f"/api/comments/{made['id']}/hide", json={"hidden": True},
                     headers=dan_auth), 403)
    admin = _token(_root_client(catalog))
    hidden = root.post(f"/api/comments/{made['id']}/hide", json={"hidden": True},
                       headers=admin)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert made["id"] not in [c["id"] for c in root.get(URL).json()]
    assert made["id"] in [c["id"] for c in root.get(URL, headers=admin).json()]  # to review
    root.post(f"/api/comments/{made['id']}/hide", json={"hidden": False}, headers=admin)
    assert made["id"] in [c["id"] for c in root.get(URL).json()]


def _root_client(catalog: Catalog) -> TestClient:
    client = TestClient(create_app(catalog.settings, catalog))
    answer = client.post("/login", data={"login": "root", "password": "correct horse battery",
                                         "csrf_token": csrf(client)}, follow_redirects=False)
    assert answer.status_code == 303
    return client


def test_bad_input_in_the_error_envelope(catalog: Catalog) -> None:
    eve = signed_up(catalog, "eve")
    bare, auth = TestClient(create_app(catalog.settings, catalog)), _token(eve)
    _error(bare.post(URL, json={"body": ""}, headers=auth), 400)
    _error(bare.post(URL, json={"body": "x" * (MAX_COMMENT + 1)}, headers=auth), 400)
    _error(bare.post(URL, json={"body": "   "}, headers=auth), 400)
    _error(bare.post(URL, json={"body": "x", "parentId": 10**9}, headers=auth), 404)
    _error(bare.post("/api/papers/0000.00000/comments", json={"body": "x"}, headers=auth), 404)
    _error(bare.patch("/api/comments/0", json={"body": "x"}, headers=auth), 400)
    _error(bare.get("/api/comments/1/hide"), 405)

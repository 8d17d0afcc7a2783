"""Personal API tokens: made on the account page or by the CLI, acting in the JSON API
without cookies or CSRF, revocable, and described in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.cli import cli
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from .members import csrf, signed_up

PAPER = "2601.00001"
HOSTILE = '<script>alert("label")</script><img src=x onerror=alert(1)>\x1b[2J'


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    catalog.ingest([Paper(title="Pairwise ranking losses", abstract="Ranking.", arxiv_id=PAPER,
                          published=date(2026, 1, 2), source="test", source_ref="1")])
    return catalog


def _new_token(member: TestClient, label: str) -> str:
    page = member.post("/account/tokens", data={"label": label, "csrf_token": csrf(member)})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    [token] = re.findall(r'<code class="token">(pf_[\w-]+)</code>', page.text)
    assert token not in member.get("/account").text, "shown once"
    return token


def _vote(catalog: Catalog, token: str, **headers: str) -> object:
    bare = TestClient(create_app(catalog.settings, catalog))  # no cookies at all
    return bare.post(f"/api/papers/{PAPER}/vote", params={"up": "true"},
                     headers={"Authorization": f"Bearer {token}", **headers})


def _voters(catalog: Catalog) -> set[str]:
    key = catalog.store.papers.get(PAPER).key
    return {u.username for u in catalog.store.members.users()
            if catalog.store.community.voted_by(u.id, [key])}


def test_a_token_votes_without_cookie_or_csrf_until_revoked(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    token = _new_token(ada, "voting script")
    answer = _vote(catalog, token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": PAPER, "upvotes": 1, "voted": True}
    assert _voters(catalog) == {"ada"}
    page = ada.get("/account").text
    assert "voting script" in page and "never" not in page, "last use is shown"

    [listed] = catalog.store.members.tokens(catalog.store.members.user_by_name("ada").id)
    revoked = ada.post(f"/account/tokens/{listed.id}/revoke", data={"csrf_token": csrf(ada)},
                       follow_redirects=False)
    assert revoked.status_code == 303
    refused = _vote(catalog, token)
    assert refused.status_code == 401
    assert refused.json()["error"]["message"].startswith("That API token is not valid")
    assert refused.headers["www-authenticate"].startswith("Bearer")


def test_a_token_acts_only_as_its_own_member(catalog: Catalog) -> None:
    ada, bob = signed_up(catalog, "ada"), signed_up(catalog, "bob")
    ada_token, bob_token = _new_token(ada, "ada's"), _new_token(bob, "bob's")
    assert _vote(catalog, bob_token).status_code == 200
    assert _voters(catalog) == {"bob"}, "bob's token voted as bob, not as ada"

    ada_id = catalog.store.members.user_by_name("ada").id
    [ada_listed] = catalog.store.members.tokens(ada_id)
    stolen = bob.post(f"/account/tokens/{ada_listed.id}/revoke", data={"csrf_token": csrf(bob)})
    assert stolen.status_code == 404
    for bad in ("9" * 40, "-1", "x"):
        assert bob.post(f"/account/tokens/{bad}/revoke",
                        data={"csrf_token": csrf(bob)}).status_code == 404
    assert _vote(catalog, ada_token).status_code == 200 and _voters(catalog) == {"ada", "bob"}

    # With a bearer header the cookie is not looked at: a bad token never falls back to
    # bob's session, and a session cookie without a token still needs the CSRF header.
    assert bob.post(f"/api/papers/{PAPER}/vote", headers={
        "Authorization": "Bearer pf_not-a-token"}).status_code == 401
    assert bob.post(f"/api/papers/{PAPER}/vote").status_code == 403
    assert bob.post(f"/api/papers/{PAPER}/vote",
                    headers={"X-CSRF-Token": csrf(bob)}).status_code == 200


def test_hostile_token_labels_render_inert(catalog: Catalog) -> None:
    ada = signed_up(catalog, "ada")
    _new_token(ada, HOSTILE)
    page = ada.get("/account").text
    assert "<script>alert" not in page and "<img src=x" not in page and "\x1b" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_cli_prints_the_new_token_alone(catalog: Catalog) -> None:
    signed_up(catalog, "ada")
    home = str(catalog.settings.home)
    made = CliRunner().invoke(cli, ["--data-dir", home, "user", "token", "ada", "--name",
                                    HOSTILE], catch_exceptions=False)
    assert made.exit_code == 0, made.output
    token = made.stdout.removesuffix("\n")
    assert re.fullmatch(r"pf_[\w-]{43}", token), made.stdout
    assert _vote(catalog, token).status_code == 200 and _voters(catalog) == {"ada"}

    listing = CliRunner().invoke(cli, ["--data-dir", home, "user", "token", "ada", "--list"])
    assert listing.exit_code == 0 and "\x1b" not in listing.stdout
    assert "<script>" in listing.stdout and token not in listing.stdout
    token_id = listing.stdout.split()[0]
    revoked = CliRunner().invoke(cli, ["--data-dir", home, "user", "token", "ada", "--revoke",
                                       token_id])
    assert revoked.exit_code == 0 and revoked.stdout == ""
    assert _vote(catalog, token).status_code == 401
    both = CliRunner().invoke(cli, ["--data-dir", home, "user", "token", "ada", "--list",
                                    "--revoke", token_id])
    assert both.exit_code == 2 and "choose one of" in both.output


def test_openapi_declares_the_bearer_scheme_for_member_routes(catalog: Catalog) -> None:
    client = TestClient(create_app(catalog.settings, catalog))
    spec = client.get("/api/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["token"]["type"] == "http" and schemes["token"]["scheme"] == "bearer"
    assert schemes["session"] == {**schemes["session"], "type": "apiKey", "in": "cookie",
                                  "name": "pf_session"}
    member_routes = {(path, method): op.get("security") for path, ops in spec["paths"].items()
                     for method, op in ops.items() if method != "get"}
    assert member_routes and all({"token": []} in security and {"session": []} in security
                                 for security in member_routes.values()), member_routes
    # Reading takes a token or the session (an admin sees hidden papers) and needs neither;
    # the admin status (an admin's), a member's own collections and recommendations need one.
    readers = {path: op["security"] for path, ops in spec["paths"].items()
               for method, op in ops.items() if method == "get"}
    private = [readers.pop(path) for path in list(readers)
               if path in ("/api/admin/status", "/api/recommendations")
               or path.startswith("/api/collections")]
    assert readers and all({} in security and {"token": []} in security
                           for security in readers.values()), "reading needs no credentials"
    assert len(private) == 5 and all({} not in security and {"token": []} in security
                                     and {"session": []} in security for security in private)
    assert "Authorization: Bearer" in client.get("/api").text


def test_reading_routes_know_the_token(catalog: Catalog) -> None:
    """Who is asking is read on every API route: an admin's token opens a hidden paper
    (as the admin's session does on the site); before, GET routes never looked at the
    token and answered an admin with 404. An unknown token on a read grants nothing and
    refuses nothing (clients of the public API send their own tokens)."""
    admin = signed_up(catalog, "ada")  # the first member is the admin
    token = _new_token(admin, "reader")
    signed_up(catalog, "bob")
    stored = catalog.store.papers.get(PAPER)
    catalog.store.community.submit(stored.key, member_id(catalog, "bob"), date(2026, 1, 3))
    catalog.store.community.set_hidden(stored.key, True)
    bare = TestClient(create_app(catalog.settings, catalog))  # no cookies at all
    for path in (f"/api/papers/{PAPER}", f"/api/papers/{PAPER}/similar"):
        assert bare.get(path).status_code == 404, path
        assert bare.get(path, headers={"Authorization": "Bearer pf_unknown"}
                        ).status_code == 404, path
        seen = bare.get(path, headers={"Authorization": f"Bearer {token}"})
        assert seen.status_code == 200, path
    assert bare.get(f"/api/papers/{PAPER}", headers={"Authorization": f"Bearer {token}"}
                    ).json()["id"] == PAPER


def member_id(catalog: Catalog, name: str) -> int:
    user = catalog.store.members.user_by_name(name)
    assert user is not None
    return user.id

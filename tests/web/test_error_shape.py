"""One error path with two shapes: the JSON envelope under /api, the error page elsewhere.

Every status the API can answer with is pinned to `{"error": {"status", "message"}}`, and
every error of the tree (errors.py) goes through the same handler with its own status.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape

import paperfeed
from paperfeed import errors
from paperfeed.catalog import Catalog
from paperfeed.errors import LoginRequired, MailError, PaperfeedError, TooManyAttempts
from paperfeed.http.guards import MAX_BODY_BYTES, MAX_URL_BYTES
from paperfeed.web import create_app


def _tree(base: type[PaperfeedError] = PaperfeedError) -> Iterator[type[PaperfeedError]]:
    yield base
    for sub in base.__subclasses__():
        yield from _tree(sub)


def _example(kind: type[PaperfeedError]) -> PaperfeedError:
    if kind is LoginRequired:
        return LoginRequired("/submit")
    if kind is TooManyAttempts:
        return TooManyAttempts(120)
    if kind is MailError:
        return MailError(f"a {kind.__name__} <b>happened</b>", permanent=True)
    return kind(f"a {kind.__name__} <b>happened</b>")


def assert_envelope(response: object, status: int) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body == {"error": {"status": status, "message": body["error"]["message"]}}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
    return body["error"]["message"]


def test_every_status_the_api_answers_with_is_the_envelope(client: TestClient) -> None:
    assert_envelope(client.get("/api/daily_papers", params={"limit": 0}), 400)
    assert_envelope(client.get("/api/daily_papers", params={"date": "2025-02-30"}), 400)
    assert_envelope(client.get("/api/papers/search", params={"q": " "}), 400)
    assert_envelope(client.get("/api/daily_papers", headers={"host": "evil.example"}), 400)
    client.get("/login")  # hands out the CSRF cookie
    token = client.cookies["pf_csrf"]
    vote = "/api/papers/{}/vote".format(client.get("/api/daily_papers").json()[0]["id"])
    assert "Log in first" in assert_envelope(
        client.post(vote, headers={"X-CSRF-Token": token}), 401)
    assert_envelope(client.post(vote), 403)
    assert assert_envelope(client.get("/api/papers/nope"), 404) == "no paper with id 'nope'"
    assert_envelope(client.get("/api/no/such/route/"), 404)
    assert_envelope(client.delete("/api/papers/search"), 405)
    assert_envelope(client.post(vote, content=b"x" * (MAX_BODY_BYTES + 1),
                                headers={"X-CSRF-Token": token}), 413)
    assert_envelope(client.get("/api/papers/search", params={"q": "a" * MAX_URL_BYTES}), 414)


@pytest.fixture(scope="module")
def raising(demo_catalog: Catalog) -> TestClient:
    """The real app plus two routes that raise any error of the tree by name."""
    app: FastAPI = create_app(demo_catalog.settings, demo_catalog)
    kinds = {kind.__name__: kind for kind in _tree()}

    def fail(name: str) -> None:
        raise _example(kinds[name])

    app.add_api_route("/api/raise/{name}", fail)
    app.add_api_route("/raise/{name}", fail)
    return TestClient(app)


@pytest.mark.parametrize("kind", list(_tree()), ids=lambda kind: kind.__name__)
def test_every_error_renders_with_its_status_in_both_shapes(
        raising: TestClient, kind: type[PaperfeedError]) -> None:
    error = _example(kind)
    api = raising.get(f"/api/raise/{kind.__name__}")
    assert assert_envelope(api, kind.status) == str(error)
    page = raising.get(f"/raise/{kind.__name__}", follow_redirects=False)
    if kind is LoginRequired:  # a page that needs a member sends the visitor to log in
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/submit"
        return
    assert page.status_code == kind.status
    assert page.headers["content-type"].startswith("text/html")
    assert "<b>happened" not in page.text, "messages are escaped"
    assert str(escape(str(error))) in page.text
    if kind is TooManyAttempts:
        assert api.headers["retry-after"] == page.headers["retry-after"] == "120"


def test_the_tree_is_drawn_in_errors_py_and_holds_every_error() -> None:
    for module in pkgutil.walk_packages(paperfeed.__path__, "paperfeed."):
        if not module.name.endswith(("__main__", ".asgi")):  # these run something on import
            importlib.import_module(module.name)
    drawn = dict(re.findall(r"(\w+)\s+(\d{3}) ", errors.__doc__ or ""))
    for kind in _tree():
        assert kind.__module__ == "paperfeed.errors", f"{kind.__name__} lives outside errors.py"
        assert drawn.get(kind.__name__) == str(kind.status), f"{kind.__name__} not drawn"

"""No input makes a 5xx: every route of the table, its path and query parameters fed
huge and odd numbers and dates, answers a 2xx-4xx (4xx in the one error shape).

Found by hand before (issue 9.9): `?week=9999-W52` (a week that ends in year 10000)
and `/subscriptions/9223372036854775808/preview` (an id too large for SQLite) were 500s.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings
from ..smtp_server import SmtpSink
from .members import sign_up_and_verify
from .routes import Walked, walk

NUMBERS = ["0", "-1", str(2**63 - 1), str(2**63), "9" * 40, "1e309", "nan", "abc", ""]
DATES = ["0000-01-01", "0001-01-01", "9999-12-31", "99999-01-01", "9999-W52", "0001-W01",
         "9999-12", "0000-00"]
FUZZ = NUMBERS + DATES
# Read by some views from `request.query_params` rather than declared: a page number and
# a date stand for the rest (`to`, `sort` go through the same parsers), fuzzed on every GET.
UNDECLARED = ["p", "from"]


@pytest.fixture
def member(tmp_path: Path, smtp_sink: SmtpSink) -> TestClient:
    """A member with a verified address (only such a member's ids reach the store)."""
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url="http://testserver", **smtp_sink.overrides))
    catalog.ingest([Paper(title="Pairwise ranking losses", abstract="Ranking.",
                          arxiv_id="2601.00001", published=date(2026, 1, 2),
                          source="test", source_ref="1")])
    client = TestClient(create_app(catalog.settings, catalog), raise_server_exceptions=False)
    sign_up_and_verify(client, smtp_sink, "fuzzer")
    return client


def _fuzzed(member: TestClient) -> list[Walked]:
    # POSTs only where a path parameter names something; the others would change state
    # (log out, sign up) without a parameter to fuzz.
    return [r for r in walk(member.app)  # type: ignore[arg-type]
            if r.method == "GET" or r.path_params]


def _ask(client: TestClient, route: Walked, url: str, params: dict[str, str]) -> int:
    headers = {"X-CSRF-Token": client.cookies["pf_csrf"]} if route.method == "POST" else {}
    answer = client.request(route.method, url, params=params, headers=headers,
                            follow_redirects=False)
    if 400 <= answer.status_code < 500 and url.startswith("/api/"):
        assert answer.json()["error"]["status"] == answer.status_code, (url, params)
    return answer.status_code


def test_no_input_makes_a_server_error(member: TestClient) -> None:
    routes = _fuzzed(member)
    assert {"GET /api/daily_papers", "GET /papers/week/{week}",  # pages, API, member routes
            "GET /subscriptions/{subscription_id}/preview",
            "POST /account/tokens/{token_id}/revoke"} <= {str(r) for r in routes}
    failures = []
    for route in routes:
        typical = dict.fromkeys(route.path_params, "1")
        for value in FUZZ:
            for name in route.path_params:
                url = route.url(**(typical | {name: value or "x"}))
                if (status := _ask(member, route, url, {})) >= 500:
                    failures.append(f"{route.method} {url} -> {status}")
            undeclared = UNDECLARED if route.method == "GET" else []
            for name in sorted({*route.query_params, *undeclared}):
                url = route.url(**typical)
                if (status := _ask(member, route, url, {name: value})) >= 500:
                    failures.append(f"{route.method} {url}?{name}={value} -> {status}")
    assert not failures, "\n".join(failures)


def test_the_reported_inputs_get_their_4xx(member: TestClient) -> None:
    api = member.get("/api/daily_papers", params={"week": "9999-W52"})
    assert api.status_code == 400
    assert api.json()["error"]["message"] == ("week='9999-W52' is past the last week "
                                              "this calendar holds")
    page = member.get("/papers/week/9999-W52")
    assert page.status_code == 400 and "past the last week" in page.text
    assert member.get("/papers/week/9999-W51").status_code == 200  # the last whole one
    for bad in (str(2**63), "-1", "x"):
        preview = member.get(f"/subscriptions/{bad}/preview")
        assert preview.status_code == 404 and "No such subscription." in preview.text

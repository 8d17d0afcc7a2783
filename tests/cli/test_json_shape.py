"""`search --json`, `similar --json` and the API speak one item shape (issue 9.22).

They used to differ: the CLI said `published` where the API says `publishedAt`, and
`similar --json` had no authors at all. Both now come from api/shapes.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.cli import cli
from paperfeed.web import create_app

from ..conftest import FIXTURES, make_settings


def _cli(home: Path, *args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["--data-dir", str(home), *args, "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _without_scores(items: list[dict]) -> list[dict]:
    """Fused scores may differ in the last bits between runs; the rest must not."""
    return [{k: v for k, v in item.items() if k != "score"} for item in items]


def test_cli_and_api_items_are_one_shape(tmp_path: Path) -> None:
    CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ingest",
                             str(FIXTURES / "arxiv_cs_excerpt.jsonl")], catch_exceptions=False)
    catalog = Catalog(make_settings(tmp_path))
    api = TestClient(create_app(catalog.settings, catalog))

    searched = _cli(tmp_path, "search", "neural network", "--limit", "4")
    answered = api.get("/api/papers/search", params={"q": "neural network", "limit": 4}).json()
    assert searched and _without_scores(searched) == _without_scores(answered)

    first = searched[0]["id"]
    similar = _cli(tmp_path, "similar", first, "--limit", "3")
    answered = api.get(f"/api/papers/{first}/similar", params={"limit": 3}).json()
    assert similar and _without_scores(similar) == _without_scores(answered)
    for item in searched + similar:
        stored = catalog.store.papers.get(item["id"])
        assert stored is not None
        assert [a["name"] for a in item["paper"]["authors"]] == stored.authors
        assert item["paper"]["publishedAt"] == f"{stored.published}T00:00:00.000Z"
        assert "published" not in item

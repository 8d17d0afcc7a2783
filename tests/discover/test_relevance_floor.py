"""The relevance floor (discover/relevance.py): a query with nothing relevant gets "No close
matches" on every surface, where it used to get 30 confident results (issue 10.4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.discover.relevance import close_hits, floored_page
from paperfeed.discover.search import search

from ..conftest import REPO

NONSENSE = "qwzxv flurbnix plomb"
REAL = "knowledge distillation"


def test_nonsense_has_no_close_match_and_a_real_query_has(demo_catalog: Catalog) -> None:
    nonsense = search(demo_catalog, NONSENSE, limit=30)
    assert len(nonsense) == 30, "the vector search always finds nearest papers"
    assert close_hits(demo_catalog, NONSENSE, nonsense) == []
    assert floored_page(demo_catalog, NONSENSE, nonsense) == []
    real = search(demo_catalog, REAL, limit=30)
    close = close_hits(demo_catalog, REAL, real)
    assert len(close) >= 6
    assert all("distill" in (h.paper.title + h.paper.abstract).lower() for h in close[:6])
    assert floored_page(demo_catalog, REAL, real) == real, "the ranking is left alone"


def test_semantic_mode_is_floored_and_keyword_mode_is_its_own_floor(
        demo_catalog: Catalog) -> None:
    semantic = search(demo_catalog, NONSENSE, limit=10, mode="semantic")
    assert semantic and floored_page(demo_catalog, NONSENSE, semantic, mode="semantic") == []
    keyword = search(demo_catalog, REAL, limit=10, mode="keyword")
    assert close_hits(demo_catalog, REAL, keyword, mode="keyword") == keyword


def test_the_page_api_and_feed_say_no_close_matches(client: TestClient) -> None:
    page = client.get("/search", params={"q": NONSENSE})
    assert page.status_code == 200
    assert "No close matches for “qwzxv flurbnix plomb”" in page.text
    assert 'class="paper"' not in page.text and "More results" not in page.text
    assert client.get("/api/papers/search", params={"q": NONSENSE}).json() == []
    assert client.get("/api/papers/search", params={"q": REAL}).json()
    feed = client.get("/feeds/search.atom", params={"q": NONSENSE}).text
    assert "<entry>" not in feed
    assert "<entry>" in client.get("/feeds/search.atom", params={"q": REAL}).text


def test_the_cli_exits_1_with_no_close_matches(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "paperfeed", "--data-dir",
                               str(tmp_path / "data"), "search", *args],
                              capture_output=True, text=True, cwd=REPO, timeout=300)

    found = run(REAL)
    assert found.returncode == 0 and "  1. " in found.stdout, found.stderr
    nothing = run(NONSENSE)
    assert nothing.returncode == 1
    assert "no close matches" in nothing.stderr and nothing.stdout == ""
    as_json = run(NONSENSE, "--json")
    assert as_json.returncode == 1 and as_json.stdout.strip() == "[]"


def test_a_rare_word_typed_alone_finds_the_paper_that_holds_it(demo_catalog: Catalog) -> None:
    """One word embeds far from any whole abstract; the paper holding it is still the answer
    (a name, an acronym, a hostile title in the browser tests)."""
    for word in ("TriForce", "Dualformer"):
        page = floored_page(demo_catalog, word, search(demo_catalog, word, limit=20))
        assert page and word.lower() in page[0].paper.title.lower(), word

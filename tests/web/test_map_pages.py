"""The map's API and pages through TestClient: /api/map in both forms, the same bytes
for every visitor, the trend chart on search, rising topics, the paper's neighbourhood."""

from __future__ import annotations

import gzip
import re
import struct
from datetime import date
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from paperfeed.catalog import Catalog
from paperfeed.index.map_artifact import MAGIC
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import make_settings, with_map
from .test_pages import HOSTILE_TITLE


def decode(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    assert raw[:8] == MAGIC
    count, id_bytes = struct.unpack("<II", raw[8:16])
    columns = np.frombuffer(raw[16:16 + 6 * count], dtype="<u2").reshape(3, count)
    ids = raw[16 + 6 * count:16 + 6 * count + id_bytes].decode().split("\n")
    return columns[0], columns[1], columns[2], ids


def test_api_map_serves_every_paper_and_the_labels(client: TestClient,
                                                   demo_catalog: Catalog) -> None:
    answer = client.get("/api/map")
    assert answer.status_code == 200 and answer.headers["cache-control"].startswith("public")
    body = answer.json()
    points, papers = body["points"], demo_catalog.store.papers.count()
    assert body["count"] == papers == len(points["id"]) == len(points["x"]) \
        == len(points["cluster"])
    assert all(0 <= v <= 1 for v in points["x"] + points["y"])
    assert {c["id"] for c in body["clusters"]} == set(points["cluster"])
    assert sum(c["papers"] for c in body["clusters"]) == papers
    assert all(c["label"] for c in body["clusters"])
    ids = set(points["id"])
    assert client.get(f"/api/papers/{points['id'][0]}").status_code == 200
    assert len(ids) == papers

    again = client.get("/api/map", headers={"if-none-match": answer.headers["etag"]})
    assert again.status_code == 304


def test_the_binary_form_matches_the_json_and_is_shared(client: TestClient) -> None:
    columns = client.get("/api/map").json()
    version = columns["version"]
    answer = client.get(f"/api/map/points.bin?v={version}",
                        headers={"accept-encoding": "gzip"})
    assert answer.status_code == 200 and "immutable" in answer.headers["cache-control"]
    assert answer.headers["vary"] == "Accept-Encoding"
    x, y, cluster, ids = decode(answer.content)  # httpx undid the gzip
    assert ids == columns["points"]["id"]
    assert np.allclose(x / 65535, columns["points"]["x"], atol=2e-5)
    assert cluster.tolist() == columns["points"]["cluster"]
    plain = client.get("/api/map/points.bin", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == answer.content
    assert "immutable" not in plain.headers["cache-control"]
    member = client.get("/api/map/points.bin",
                        headers={"accept-encoding": "identity", "cookie": "pf_session=x"})
    assert member.content == plain.content and "set-cookie" not in member.headers
    assert len(gzip.compress(plain.content)) < len(plain.content)


def test_search_pages_draw_papers_per_month(client: TestClient) -> None:
    page = client.get("/search?q=knowledge+distillation").text
    assert '<figure class="trend-chart">' in page and page.count('<rect class="month"') >= 1
    assert "Papers per month with these words" in page
    total = sum(int(n) for n in re.findall(r"<title>\d{4}-\d\d: (\d+) paper", page))
    assert 0 < total < 316, "papers holding the words, not every paper"
    empty = client.get("/search").text
    assert "trend-chart" not in empty


def test_rising_topics_and_the_map_page(client: TestClient) -> None:
    trends = client.get("/trends")
    assert trends.status_code == 200 and "Rising topics" in trends.text
    page = client.get("/map?q=knowledge+distillation")
    assert page.status_code == 200
    assert "'unsafe-eval'" in page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert 'src="/static/map.js"' in page.text and "/api/map/points.bin?v=" in page.text
    assert "'unsafe-eval'" not in client.get("/search?q=x").headers["content-security-policy"]
    for asset in ("map.js", "vendor/regl-scatterplot.min.js", "vendor/regl.min.js",
                  "vendor/pub-sub-es.js"):
        assert client.get(f"/static/{asset}").status_code == 200, asset


def test_the_paper_page_shows_its_neighbourhood(client: TestClient,
                                                demo_catalog: Catalog) -> None:
    paper = demo_catalog.store.papers.get_many(
        [int(demo_catalog.indexes.map.layout.keys[0])])[0]
    page = client.get(f"/papers/{paper.id}").text
    assert '<section class="neighbourhood">' in page
    assert page.count('<circle class="dot c') >= 20


def test_hostile_titles_stay_inert_on_the_map_pages(tmp_path: Path) -> None:
    catalog = with_map(Catalog(make_settings(tmp_path)))
    catalog.ingest([Paper(title=HOSTILE_TITLE, abstract="Graphs and knowledge distillation.",
                          arxiv_id="2601.00001", published=date(2026, 1, 2), source="test",
                          source_ref="t")])
    catalog.reindex()
    client = TestClient(create_app(catalog.settings, catalog))
    for url in ("/map?q=hostile+graphs", "/papers/2601.00001", "/trends",
                "/search?q=hostile+graphs"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html, url
    marks = client.get("/map?q=%3C%2Fscript%3E%3Cscript%3Ealert(1)").text
    assert "</script><script>alert(1)" not in marks


def test_points_are_written_with_the_map_and_hidden_papers_drop_out(tmp_path: Path) -> None:
    """The first request after a new map waited 16 s at 588k papers while every id was
    read from the store and the points encoded: now the indexer writes them."""
    catalog = with_map(Catalog(make_settings(tmp_path)))
    catalog.ingest([Paper(title="Distilling graphs", abstract="Graphs and knowledge distillation.",
                          arxiv_id="2601.00002", published=date(2026, 1, 2), source="test",
                          source_ref="t")])
    catalog.reindex()
    with np.load(catalog.settings.index_dir / "map" / "layout.npz") as stored:
        written = gzip.decompress(stored["points"].tobytes())
        written_json = gzip.decompress(stored["json"].tobytes())
    assert "2601.00002" in decode(written)[3], "placed and encoded at the checkpoint"
    client = TestClient(create_app(catalog.settings, catalog))
    served = client.get("/api/map/points.bin", headers={"accept-encoding": "gzip"})
    assert served.content == written  # httpx undid the gzip
    as_json = client.get("/api/map", headers={"accept-encoding": "gzip"})
    assert as_json.headers["content-encoding"] == "gzip" and as_json.content == written_json
    assert client.get("/api/map", headers={"accept-encoding": "identity"}).content \
        == written_json

    bob = catalog.store.members.add_user("bob", "bob@example.org", "x", is_admin=False)
    key = catalog.store.papers.get("2601.00002").key
    catalog.store.community.submit(key, bob.id, date(2026, 1, 3))
    catalog.store.community.set_hidden(key, True)
    ids = decode(client.get("/api/map/points.bin").content)[3]
    assert "2601.00002" not in ids and len(ids) == len(decode(written)[3]) - 1
    assert "2601.00002" not in client.get("/api/map").json()["points"]["id"]


def test_the_map_page_says_the_map_is_being_built(tmp_path: Path) -> None:
    """A fresh data dir serves at once; until the follower has fitted the map, /map says
    so (and loads no script), /api/map holds no points, the other pages work."""
    catalog = Catalog(make_settings(tmp_path))
    client = TestClient(create_app(catalog.settings, catalog))
    page = client.get("/map")
    assert page.status_code == 200 and "The map is being built" in page.text
    assert "/static/map.js" not in page.text and "<canvas" not in page.text
    assert client.get("/api/map").json()["count"] == 0
    assert client.get("/trends").status_code == 200
    assert client.get("/search?q=knowledge+distillation").status_code == 200
    catalog.indexes.build_map(catalog.store.papers)
    page = client.get("/map")
    assert "being built" not in page.text and "/static/map.js" in page.text
    assert client.get("/api/map").json()["count"] == 316


def test_trend_counts_months_from_the_keyword_index_before_any_map(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False))
    dated = [(date(2024, 1, 5), "cs.LG"), (date(2024, 1, 20), "cs.LG"), (date(2024, 3, 2), "cs.CL"),
             (date(2023, 11, 30), "cs.LG")]
    catalog.ingest([Paper(title=f"Sparse attention kernels, part {i}" if i < 3
                          else "Protein structure from sequence alone",
                          abstract="Kernels for long sequences." if i < 3
                          else "Folding predicted without templates.",
                          arxiv_id=f"2401.{i:05d}", published=day, categories=[category],
                          source="test", source_ref=str(i))
                    for i, (day, category) in enumerate(dated)])
    catalog.reindex()
    assert not len(catalog.indexes.map), "no map laid out: the chart must not need one"
    client = TestClient(create_app(catalog.settings, catalog))

    def months(url: str) -> dict[str, int]:
        page = client.get(url).text
        return {m: int(n) for m, n in re.findall(r"<title>(\d{4}-\d\d): (\d+) paper", page)}

    assert months("/search?q=sparse+attention") == {"2024-01": 2, "2024-02": 0, "2024-03": 1}
    by_category = months("/search?category=cs.LG")
    assert {m: n for m, n in by_category.items() if n} == {"2023-11": 1, "2024-01": 2}

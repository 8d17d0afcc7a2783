"""The map and the trend chart in a real headless Chromium: the map draws (non-blank
canvas), hovering a point shows its title as text (a hostile one stays inert), a click
opens the paper, a scripted pan is timed (frames counted, not asserted); the search page
draws its papers-per-month chart."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.catalog import Catalog
from paperfeed.index.map_artifact import encoded
from paperfeed.models import Paper

from ..conftest import LiveServer, make_settings, with_map
from .browser import SCREENSHOTS, needs_chromium
from .test_pages import HOSTILE_TITLE

pytestmark = needs_chromium
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PAN_FRAMES = """async () => {
  const canvas = document.querySelector('#map canvas:not(.map-quick)');
  const box = canvas.getBoundingClientRect();
  const at = (x, y) => ({clientX: box.left + x, clientY: box.top + y, bubbles: true,
                         buttons: 1, button: 0, view: window});
  // The camera pans by the distance from the last mouse position: move there first (or
  // the first step jumps from (0, 0) and throws the map off the canvas), and let the
  // hover it causes be drawn before counting.
  window.dispatchEvent(new MouseEvent('mousemove', {...at(200, 200), buttons: 0}));
  await new Promise(r => setTimeout(r, 1500));
  await new Promise(r => requestAnimationFrame(r));
  let frames = 0, running = true;
  const count = () => { frames++; if (running) requestAnimationFrame(count); };
  requestAnimationFrame(count);
  const started = performance.now();
  canvas.dispatchEvent(new MouseEvent('mousedown', at(200, 200)));
  for (let i = 0; i < 60; i++) {
    window.dispatchEvent(new MouseEvent('mousemove', at(200 + 4 * i, 200 + 2 * i)));
    await new Promise(r => requestAnimationFrame(r));
  }
  window.dispatchEvent(new MouseEvent('mouseup', at(440, 320)));
  running = false;
  const seconds = (performance.now() - started) / 1000;
  return {frames, seconds, fps: frames / seconds};
}"""


def canvas_pixels(page: Any, test: str = "Math.min(r, g, b) < 240") -> int:
    """Pixels of the map canvas passing `test` (a JS expression of r, g, b), counted by
    decoding Playwright's screenshot of it in the page (no image library needed); by
    default those not near-white."""
    shot = base64.b64encode(page.locator("#map canvas:not(.map-quick)").screenshot()).decode()
    return page.evaluate("""async ([src, test]) => {
        const pass = new Function("r", "g", "b", "return " + test);
        const img = new Image(); img.src = src; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (pass(d[i], d[i + 1], d[i + 2])) n++;
        return n;
    }""", ["data:image/png;base64," + shot, test])


def point_on_screen(page: Any, id_: str) -> tuple[float, float]:
    box = page.locator("#map canvas:not(.map-quick)").bounding_box()
    x, y = page.evaluate("""id => {
        const m = window.paperfeedMap, i = m.ids.indexOf(id);
        return m.scatterplot.getScreenPosition(i);
    }""", id_)
    return box["x"] + x, box["y"] + y


def test_the_map_draws_hovers_and_opens_a_paper(browser: Any, tmp_path: Path) -> None:
    catalog = with_map(Catalog(make_settings(tmp_path / "data")))
    catalog.ingest([Paper(title=HOSTILE_TITLE, abstract="Graph kernels and distillation.",
                          arxiv_id="2601.00001", published=date(2026, 1, 2), source="test",
                          source_ref="t")])
    catalog.reindex()
    with LiveServer(catalog) as server:
        page = browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
        page.goto(server.url + "/map?q=knowledge+distillation")
        page.wait_for_selector("#map[data-drawn]", state="attached", timeout=60_000)
        drawn = int(page.get_attribute("#map", "data-drawn") or 0)
        assert drawn == catalog.store.papers.count() == 317
        assert canvas_pixels(page) > 100
        assert "results of your search in red" in page.locator("#map-status").inner_text()
        page.evaluate("window.scrollTo(0, 0)")  # the canvas's screenshot scrolled the title
        page.screenshot(path=str(SCREENSHOTS / "map.png"))  # under the sticky header
        phone = browser.new_page(viewport=PHONE)
        phone.goto(server.url + "/map?q=knowledge+distillation")
        phone.wait_for_selector("#map[data-drawn]", state="attached", timeout=60_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(SCREENSHOTS / "map-phone.png"))
        phone.close()
        timing = page.evaluate(PAN_FRAMES)
        print("map pan:", json.dumps(timing), "load ms:", page.get_attribute("#map",
                                                                            "data-load-ms"))

        page.goto(server.url + "/map")
        page.wait_for_selector("#map[data-drawn]", state="attached", timeout=60_000)
        x, y = point_on_screen(page, "2601.00001")
        page.mouse.move(x - 15, y - 15)  # zoomed in around it: hover follows the camera
        zoom = page.evaluate("window.paperfeedMap.scatterplot.get('camera').scaling[0]")
        page.mouse.wheel(0, -400)
        page.wait_for_function("z => window.paperfeedMap.scatterplot.get('camera').scaling[0]"
                               " > 1.5 * z", arg=zoom)
        page.wait_for_timeout(500)
        x, y = point_on_screen(page, "2601.00001")
        page.mouse.move(x, y)
        tip = page.locator("#map-tip")
        tip.wait_for(state="visible")
        page.wait_for_function("t => t.textContent.includes('Hostile graphs')",
                               arg=tip.element_handle())
        assert tip.inner_text() == HOSTILE_TITLE, "the title is shown as text"
        assert tip.locator("img, script").count() == 0
        page.mouse.click(x, y)
        page.wait_for_url("**/papers/2601.00001")
        assert errors == []


def test_the_search_page_draws_its_trend_chart(browser: Any, demo_catalog: Catalog) -> None:
    with LiveServer(demo_catalog) as server:
        page = browser.new_page(viewport=DESKTOP)
        page.goto(server.url + "/search?q=knowledge+distillation")
        chart = page.locator("figure.trend-chart svg")
        assert chart.is_visible()
        bars = chart.locator("rect.month")
        assert bars.count() >= 1
        heights = [float(bars.nth(i).get_attribute("height") or 0) for i in range(bars.count())]
        assert max(heights) > 50 and chart.bounding_box()["width"] > 300
        page.screenshot(path=str(SCREENSHOTS / "search-trend.png"))
        page.goto(server.url + "/trends")
        assert page.locator("table.rising tbody tr").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "trends.png"))
        phone = browser.new_page(viewport=PHONE)
        for path, name in (("/search?q=knowledge+distillation", "search-trend-phone.png"),
                           ("/trends", "trends-phone.png")):
            phone.goto(server.url + path)
            assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            if path.startswith("/search"):  # the chart sits below the search form
                phone.locator("figure.trend-chart").scroll_into_view_if_needed()
            phone.screenshot(path=str(SCREENSHOTS / name))
        phone.close()


def test_the_map_follows_dark_mode(browser: Any, demo_catalog: Catalog) -> None:
    """Its canvas was painted white whatever the theme: a white slab on a dark page."""
    with LiveServer(demo_catalog) as server:
        page = browser.new_page(viewport=DESKTOP, color_scheme="dark")
        page.goto(server.url + "/map")
        page.wait_for_selector("#map[data-drawn]", state="attached", timeout=60_000)
        total = page.evaluate("(c => c.width * c.height)("
                              "document.querySelector('#map canvas:not(.map-quick)'))")
        dark = canvas_pixels(page, "Math.max(r, g, b) < 60")
        assert dark > 0.8 * total, (dark, total)
        assert canvas_pixels(page, "Math.max(r, g, b) > 100") > 100, "the points show"
        page.screenshot(path=str(SCREENSHOTS / "map-dark.png"))
        page.click("button[data-toggle=dark]")  # back to light: repainted without a reload
        page.wait_for_timeout(300)
        assert canvas_pixels(page, "Math.min(r, g, b) > 240") > 0.8 * total


def _crowded_map(home: Path, count: int) -> Catalog:
    """The demo with a map of `count` points: the demo's and copies of them jittered
    around (each with its paper's id), as bench/harness/synthetic_map.py makes 588k."""
    catalog = with_map(Catalog(make_settings(home)))
    artifact = catalog.indexes.map
    real, rng = artifact.layout, np.random.default_rng(3)
    beside = rng.integers(0, len(real.keys), size=count - len(real.keys))
    ids = real.ids()
    artifact.layout = encoded(
        np.concatenate([real.keys, real.keys.max() + 1 + np.arange(len(beside))]),
        ids + [ids[i] for i in beside.tolist()],
        np.vstack([real.xy, np.clip(real.xy[beside] + rng.normal(0, 0.01, (len(beside), 2)),
                                    0, 1)]),
        np.concatenate([real.cluster, real.cluster[beside]]),
        np.concatenate([real.month, real.month[beside]]), real.fit_keys, real.fit_xy,
        real.centroids, real.labels, artifact.method)
    artifact.publish()
    return catalog


def test_a_crowded_map_draws_a_subset_while_moving_and_everything_at_rest(
        browser: Any, tmp_path: Path) -> None:
    """Above MOVING_POINTS (map.js) a pan draws the fixed subset on the half-resolution
    canvas, then every point again; hover at rest shows a title without redrawing the
    points, and click opens a paper, on every point."""
    catalog = _crowded_map(tmp_path / "data", 25_000)
    with LiveServer(catalog) as server:
        page = browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/map")
        page.wait_for_selector("#map[data-drawn]", state="attached", timeout=120_000)
        assert page.get_attribute("#map", "data-drawn") == "25000"
        assert page.evaluate("window.paperfeedMap.drawing()") == 25_000
        moving = page.evaluate(PAN_FRAMES.replace(
            "window.dispatchEvent(new MouseEvent('mouseup'",
            "window.moving = [window.paperfeedMap.drawing(), document.querySelector("
            "'#map').classList.contains('moving'), getComputedStyle(document.querySelector("
            "'canvas.map-quick')).visibility];\n  window.dispatchEvent(new MouseEvent('mouseup'"))
        assert moving["frames"] > 0
        assert page.evaluate("window.moving") == [20_000, True, "visible"]
        page.wait_for_function("!document.querySelector('#map').classList.contains('moving')",
                               timeout=30_000)
        assert page.evaluate("window.paperfeedMap.drawing()") == 25_000
        assert page.locator("canvas.map-quick").evaluate(
            "c => getComputedStyle(c).visibility") == "hidden"
        assert canvas_pixels(page) > 1000, "every point drawn again"
        box = page.locator("#map canvas:not(.map-quick)").bounding_box()
        inside = page.evaluate("""([w, h]) => {  // a copied point (past the demo's) in view
            const m = window.paperfeedMap;
            for (let i = m.ids.length - 1; i > 0; i--) {
                const [x, y] = m.scatterplot.getScreenPosition(i);
                if (x > 40 && y > 40 && x < w - 40 && y < h - 40) return [x, y, m.ids[i]];
            }
        }""", [box["width"], box["height"]])
        # Hover at rest: the page finds the point and shows its title and a ring; the
        # library's hover stays off, and no frame of the points is drawn for it.
        page.wait_for_timeout(1000)  # the density opacity's own frame after the pan
        page.evaluate("""() => { window.draws = 0;
            window.paperfeedMap.scatterplot.subscribe('draw', () => window.draws++); }""")
        x, y = box["x"] + inside[0], box["y"] + inside[1]
        page.mouse.move(x, y)
        tip = page.locator("#map-tip")
        tip.wait_for(state="visible")
        title = page.evaluate("id => fetch('/api/papers/' + id).then(r => r.json())"
                              ".then(p => p.title)", inside[2])
        page.wait_for_function("t => document.getElementById('map-tip').textContent === t",
                               arg=title)
        page.wait_for_timeout(500)
        assert page.evaluate("window.draws") == 0, "a hover redrew the points"
        assert page.evaluate("window.paperfeedMap.scatterplot.get('hoveredPoint')") is None
        assert page.locator(".map-ring").is_visible()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 20)  # off the map
        tip.wait_for(state="hidden")
        assert not page.locator(".map-ring").is_visible()
        page.mouse.click(x, y)
        page.wait_for_url("**/papers/**")
        assert errors == []

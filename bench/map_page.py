"""The map page in headless Chromium: load time and frames while panning and zooming.

    python bench/map_page.py http://127.0.0.1:8000 [--runs 3]
    python bench/map_page.py --synthetic 588238 --home /tmp/map-page [--name map-page-588k]

Against a running site (`paperfeed serve`), or, with `--synthetic N`, a site it starts on
a data dir whose map holds N points: the demo's 316 papers and N - 316 synthetic points
around them (harness/synthetic_map.py; the frame rate depends on how many points are drawn,
not on which papers they are). Counts the frames of a page without the map (what this
browser gets at all on this machine), opens /map, waits until the points are drawn
(the page's own `data-load-ms`: fetch + decode + first draw; and the navigation start to
drawn), then pans by script for 60 animation frames, then zooms by 30 wheel steps, counting
requestAnimationFrame callbacks, and notes the points drawn while moving and at rest.
Debian's chromium with the browser tests' flags (software WebGL: a GPU would draw
faster). Prints a table, writes bench/results/<name>.json (default map-page).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import datadir, synthetic_map  # noqa: E402
from harness.report import log, print_table, write_json  # noqa: E402
from harness.server import Server  # noqa: E402

SYNTHETIC = ("the demo's 316 papers and synthetic points placed around them "
             "(bench/harness/synthetic_map.py): not a real 588k layout; the frame rate "
             "depends on the number of points drawn, not on which papers they are")
CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
PAN = """async () => {
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
  const moving = window.paperfeedMap.drawing();
  window.dispatchEvent(new MouseEvent('mouseup', at(440, 320)));
  running = false;
  return {frames, seconds: (performance.now() - started) / 1000, moving};
}"""
ZOOM = """async () => {
  const canvas = document.querySelector('#map canvas:not(.map-quick)');
  const box = canvas.getBoundingClientRect();
  let frames = 0, running = true;
  const count = () => { frames++; if (running) requestAnimationFrame(count); };
  requestAnimationFrame(count);
  const started = performance.now();
  for (let i = 0; i < 30; i++) {
    canvas.dispatchEvent(new WheelEvent('wheel', {clientX: box.left + 400,
      clientY: box.top + 300, deltaY: i < 15 ? -60 : 60, bubbles: true, cancelable: true,
      view: window}));
    await new Promise(r => requestAnimationFrame(r));
  }
  running = false;
  return {frames, seconds: (performance.now() - started) / 1000};
}"""
REST = """async () => {
  await new Promise(r => setTimeout(r, 1500));  // the page draws every point again at rest
  return window.paperfeedMap.drawing();
}"""


IDLE = """async () => {
  const started = performance.now();
  for (let i = 0; i < 60; i++) await new Promise(r => requestAnimationFrame(r));
  return 60 / ((performance.now() - started) / 1000);
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--synthetic", type=int, help="serve a map of this many points")
    parser.add_argument("--home", type=Path, help="the data dir for --synthetic")
    parser.add_argument("--name", default="map-page", help="bench/results/<name>.json")
    args = parser.parse_args()
    if args.synthetic:
        if args.home is None:
            parser.error("--synthetic needs --home")
        if args.home.exists():
            shutil.rmtree(args.home)
        built = synthetic_map.build(args.home, args.synthetic)
        log(f"synthetic map: {built}")
        with Server(args.home, datadir.embedder_of(args.home), args.home / "serve.log") as site:
            rows = measure(site.url, args.runs)
        points: dict[str, object] = {"synthetic": built, "note": SYNTHETIC}
    elif args.base:
        rows, points = measure(args.base, args.runs), {}
    else:
        parser.error("give a site's URL or --synthetic N")
    print_table("map page in Chromium", rows)
    write_json(args.name, {"base": args.base or "synthetic", **points, "rows": rows})


def measure(base: str, runs: int) -> list[dict[str, object]]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for run in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(base + "/trends")  # the frame rate this browser gets at all
            idle_fps = page.evaluate(IDLE)
            page.goto(base + "/map")
            page.wait_for_selector("#map[data-drawn]", state="attached", timeout=600_000)
            drawn_ms = page.evaluate("performance.now()")
            pan = page.evaluate(PAN)
            rest = page.evaluate(REST)
            zoom = page.evaluate(ZOOM)
            rows.append({"run": run + 1, "points": int(page.get_attribute("#map", "data-drawn")),
                         "drawn after (ms)": round(drawn_ms),
                         "fetch+decode+draw (ms)": int(page.get_attribute("#map",
                                                                          "data-load-ms")),
                         "pan fps": round(pan["frames"] / pan["seconds"], 1),
                         "zoom fps": round(zoom["frames"] / zoom["seconds"], 1),
                         "drawn moving": pan["moving"], "drawn at rest": rest,
                         "fps without a map": round(idle_fps, 1),
                         "load avg": round(os.getloadavg()[0], 1)})
            page.close()
        browser.close()
    return rows


if __name__ == "__main__":
    main()

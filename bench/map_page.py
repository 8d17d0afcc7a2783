"""The map page in headless Chromium: load time and frames while panning.

    python bench/map_page.py http://127.0.0.1:8000 [--runs 3]

Against a running site (`paperfeed serve`): counts the frames of a page without the map (what this
browser gets at all on this machine), opens /map, waits until the points are drawn
(the page's own `data-load-ms`: fetch + decode + first draw; and the navigation start to
drawn), then pans by script for 60 animation frames while counting requestAnimationFrame
callbacks. Debian's chromium with the browser tests' flags (software WebGL: a GPU would
draw faster). Prints a table, writes bench/results/map-page.json.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness.report import machine, print_table, write_json  # noqa: E402

CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
PAN = """async () => {
  const canvas = document.querySelector('#map canvas');
  const box = canvas.getBoundingClientRect();
  let frames = 0, running = true;
  const count = () => { frames++; if (running) requestAnimationFrame(count); };
  requestAnimationFrame(count);
  const started = performance.now();
  const at = (x, y) => ({clientX: box.left + x, clientY: box.top + y, bubbles: true,
                         buttons: 1, button: 0, view: window});
  canvas.dispatchEvent(new MouseEvent('mousedown', at(200, 200)));
  for (let i = 0; i < 60; i++) {
    window.dispatchEvent(new MouseEvent('mousemove', at(200 + 4 * i, 200 + 2 * i)));
    await new Promise(r => requestAnimationFrame(r));
  }
  window.dispatchEvent(new MouseEvent('mouseup', at(440, 320)));
  running = false;
  return {frames, seconds: (performance.now() - started) / 1000};
}"""


IDLE = """async () => {
  const started = performance.now();
  for (let i = 0; i < 60; i++) await new Promise(r => requestAnimationFrame(r));
  return 60 / ((performance.now() - started) / 1000);
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for run in range(args.runs):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(args.base + "/trends")  # the frame rate this browser gets at all
            idle_fps = page.evaluate(IDLE)
            page.goto(args.base + "/map")
            page.wait_for_selector("#map[data-drawn]", state="attached", timeout=600_000)
            drawn_ms = page.evaluate("performance.now()")
            pan = page.evaluate(PAN)
            rows.append({"run": run + 1, "points": int(page.get_attribute("#map", "data-drawn")),
                         "drawn after (ms)": round(drawn_ms),
                         "fetch+decode+draw (ms)": int(page.get_attribute("#map",
                                                                          "data-load-ms")),
                         "pan fps": round(pan["frames"] / pan["seconds"], 1),
                         "fps without a map": round(idle_fps, 1),
                         "load avg": round(os.getloadavg()[0], 1)})
            page.close()
        browser.close()
    print_table("map page in Chromium", rows)
    write_json("map-page", {"machine": machine(), "base": args.base, "rows": rows})


if __name__ == "__main__":
    main()

"""The map page in headless Chromium: load time and frames while panning and zooming.

    python bench/map_page.py http://127.0.0.1:8000 [--runs 3]
    python bench/map_page.py --synthetic 588238 --home /tmp/map-page [--name map-page-588k]

Against a running site (`paperfeed serve`), or, with `--synthetic N`, a site it starts on
a data dir whose map holds N points: the demo's 316 papers and N - 316 synthetic points
around them (harness/synthetic_map.py; the frame rate depends on how many points are drawn,
not on which papers they are). Counts the frames of a page without the map (what this
browser gets at all on this machine), opens /map, waits until the points are drawn
(the page's own `data-load-ms`: fetch + decode + first draw; and the navigation start to
drawn), then glides the mouse (no button) across the map at rest for 60 frames (the frames
per second, the longest frame, the titles shown, and the frames of every point drawn for
it and their time), times one hover onto a point until its tooltip shows (and its title),
then pans by script for 60 animation frames (and the time in the mouse moves' listeners),
then zooms by 30 wheel steps, counting requestAnimationFrame callbacks, and notes the
points drawn while moving and at rest.
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
  // The moves go to the canvas and bubble to the window, as a browser sends them.
  canvas.dispatchEvent(new MouseEvent('mousemove', {...at(200, 200), buttons: 0}));
  await new Promise(r => setTimeout(r, 1500));
  await new Promise(r => requestAnimationFrame(r));
  let frames = 0, running = true;
  const count = () => { frames++; if (running) requestAnimationFrame(count); };
  requestAnimationFrame(count);
  const started = performance.now();
  canvas.dispatchEvent(new MouseEvent('mousedown', at(200, 200)));
  let handlers = 0;  // ms in the mouse move's listeners (the camera's, the library's hover)
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    canvas.dispatchEvent(new MouseEvent('mousemove', at(200 + 4 * i, 200 + 2 * i)));
    handlers += performance.now() - t;
    await new Promise(r => requestAnimationFrame(r));
  }
  const moving = window.paperfeedMap.drawing();
  window.dispatchEvent(new MouseEvent('mouseup', at(440, 320)));
  running = false;
  return {frames, seconds: (performance.now() - started) / 1000, moving, handlers};
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
HOVER = """async () => {
  const canvas = document.querySelector('#map canvas:not(.map-quick)');
  const box = canvas.getBoundingClientRect();
  const tip = document.getElementById('map-tip');
  // A mouse move as the browser sends it: on the canvas (the top element), bubbling.
  const move = (x, y) => canvas.dispatchEvent(new MouseEvent('mousemove', {
    clientX: box.left + x, clientY: box.top + y, bubbles: true, view: window}));
  await new Promise(r => setTimeout(r, 1500));  // at rest, every point drawn
  await new Promise(r => requestAnimationFrame(r));
  // The full scatterplot's frames (of every point) while the mouse glides, and their time.
  const renderer = window.paperfeedMap.scatterplot.get('renderer');
  const render = renderer.render;
  let redraws = 0, redrawMs = 0;
  renderer.render = (...args) => {
    const t = performance.now();
    render.apply(renderer, args);
    redraws++; redrawMs += performance.now() - t;
  };
  let frames = 0, running = true, longest = 0, last = performance.now();
  const seen = new Set();
  const count = (t) => {
    frames++; longest = Math.max(longest, t - last); last = t;
    if (!tip.hidden) seen.add(tip.textContent);
    if (running) requestAnimationFrame(count);
  };
  requestAnimationFrame(count);
  const started = performance.now();
  for (let i = 0; i < 60; i++) {  // across the middle of the map, one move a frame
    move(box.width * (0.25 + 0.5 * i / 59), box.height * (0.45 + 0.1 * i / 59));
    await new Promise(r => requestAnimationFrame(r));
  }
  running = false;
  const seconds = (performance.now() - started) / 1000;
  await new Promise(r => setTimeout(r, 1000));  // a redraw the last move asked for
  renderer.render = render;
  canvas.dispatchEvent(new MouseEvent('mouseleave', {view: window}));
  await new Promise(r => setTimeout(r, 1500));
  // One hover onto a point in view: until its tooltip shows, and until its title does.
  const m = window.paperfeedMap;
  let target = null;
  for (let i = m.ids.length - 1; i >= 0 && !target; i--) {
    const [x, y] = m.scatterplot.getScreenPosition(i);
    if (x > 100 && y > 100 && x < box.width - 100 && y < box.height - 100) target = [x, y];
  }
  const shows = (test) => new Promise((resolve) => {
    const observer = new MutationObserver(() => check());
    const check = () => { if (test()) { observer.disconnect(); resolve(performance.now()); } };
    observer.observe(tip, {attributes: true, childList: true, characterData: true, subtree: true});
    setTimeout(() => { observer.disconnect(); resolve(null); }, 10000);
    check();
  });
  const before = performance.now();
  const shown = shows(() => !tip.hidden);
  canvas.dispatchEvent(new MouseEvent('mouseenter', {view: window}));
  move(target[0], target[1]);
  const at = await shown;
  const title = await shows(() => !tip.hidden && !m.ids.includes(tip.textContent));
  return {frames, seconds, longest, titles: seen.size, redraws, redrawMs,
          tipMs: at && at - before,
          titleMs: title && title - before};
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


def rounded(ms: float | None) -> int | None:
    return None if ms is None else round(ms)


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
            hover = page.evaluate(HOVER)
            pan = page.evaluate(PAN)
            rest = page.evaluate(REST)
            zoom = page.evaluate(ZOOM)
            drawn = int(page.get_attribute("#map", "data-drawn") or 0)
            load_ms = int(page.get_attribute("#map", "data-load-ms") or 0)
            rows.append({"run": run + 1, "points": drawn,
                         "drawn after (ms)": round(drawn_ms),
                         "fetch+decode+draw (ms)": load_ms,
                         "pan fps": round(pan["frames"] / pan["seconds"], 1),
                         "pan move handlers (ms/move)": round(pan["handlers"] / 60, 2),
                         "zoom fps": round(zoom["frames"] / zoom["seconds"], 1),
                         "hover fps": round(hover["frames"] / hover["seconds"], 1),
                         "hover longest frame (ms)": round(hover["longest"]),
                         "titles shown": hover["titles"],
                         "hover redraws": hover["redraws"],
                         "hover redraw (ms)": round(hover["redrawMs"]),
                         "tooltip after (ms)": rounded(hover["tipMs"]),
                         "title after (ms)": rounded(hover["titleMs"]),
                         "drawn moving": pan["moving"], "drawn at rest": rest,
                         "fps without a map": round(idle_fps, 1),
                         "load avg": round(os.getloadavg()[0], 1)})
            page.close()
        browser.close()
    return rows


if __name__ == "__main__":
    main()

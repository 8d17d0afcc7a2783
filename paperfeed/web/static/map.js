// The map of the corpus (/map): every paper as a point, drawn with regl-scatterplot (WebGL),
// from /api/map/points.bin (index/map_artifact.py encode_points). Pan and zoom are the
// library's; hover shows the paper's title (fetched from /api/papers/{id}, set as text,
// never as HTML); a click opens the paper. The page's own data (search results and the
// member's library to highlight) is JSON in #map-marks.
//
// Smoother at 588k points in software WebGL (docs/map.md has the measurements): each
// scatterplot gets its own renderer sized to its canvas (the library's shared one is the
// size of the window, and every frame it shades and copies every pixel), and while the
// view moves a second scatterplot draws a fixed random subset of MOVING_POINTS at half
// the resolution; the full one draws every point when the view has rested for REST_MS.
// The full one stays on top (transparent while moving): pan, zoom, hover and click are
// always its own, on every point.
import createPubSub from "/static/vendor/pub-sub-es.js";

window.createPubSub = createPubSub; // the UMD build of regl-scatterplot reads this global

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
  "#9c755f", "#bab0ac", "#86bcb6", "#d37295", "#8cd17d", "#a0cbe8", "#ffbe7d", "#b6992d",
  "#f1ce63", "#79706e", "#d4a6c8", "#fabfd2", "#499894", "#e15759"];
const RESULT = "#d62728";
const MOVING_POINTS = 20000; // software WebGL draws these at 24-34 frames/s (docs/map.md)
const MOVING_SCALE = 0.5; // the moving view's resolution: a quarter of the pixels to shade
const REST_MS = 200;

// The page's own colours (style.css, light or dark) as WebGL's [r, g, b, a] in 0-1.
function cssColour(element, property) {
  const rgb = getComputedStyle(element)[property].match(/[\d.]+/g).map(Number);
  return [rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1];
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("could not load " + src));
    document.head.appendChild(script);
  });
}

// A renderer of its own, `scale` times the canvas's size: the library's shared one is
// the size of the window, and software WebGL shades and copies every pixel of it a frame.
function renderer(width, height, scale) {
  const made = window.createScatterplot.createRenderer({ canvas: document.createElement("canvas") });
  made.resize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
  return made;
}

// The first `count` of a seeded shuffle of 0..n-1, the highlighted points first: the
// points drawn while the view moves (the same ones every frame, so nothing flickers).
function subset(n, count, first) {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let seed = 1;
  const random = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  let at = 0;
  for (const i of first) { // swap the highlighted ones to the front
    const j = order.indexOf(i, at);
    if (j >= 0) { order[j] = order[at]; order[at] = i; at++; }
  }
  for (let i = at; i < count; i++) {
    const j = i + Math.floor(random() * (n - i));
    const t = order[i]; order[i] = order[j]; order[j] = t;
  }
  return order.subarray(0, count);
}

function decode(buffer) {
  const head = new DataView(buffer, 8, 8);
  const count = head.getUint32(0, true);
  const idBytes = head.getUint32(4, true);
  const x = new Uint16Array(buffer, 16, count);
  const y = new Uint16Array(buffer, 16 + 2 * count, count);
  const cluster = new Uint16Array(buffer, 16 + 4 * count, count);
  const text = new TextDecoder().decode(new Uint8Array(buffer, 16 + 6 * count, idBytes));
  return { count, x, y, cluster, ids: count ? text.split("\n") : [] };
}

async function main() {
  const root = document.getElementById("map");
  const canvas = root.querySelector("canvas");
  const status = document.getElementById("map-status");
  const tip = document.getElementById("map-tip");
  const marks = JSON.parse(document.getElementById("map-marks").textContent);
  if (!window.WebGLRenderingContext) {
    status.textContent = "This browser cannot draw the map (it needs WebGL).";
    return;
  }
  await loadScript("/static/vendor/regl.min.js"); // the global createREGL
  await loadScript("/static/vendor/regl-scatterplot.min.js");
  const started = performance.now();
  const response = await fetch(root.dataset.points);
  const points = decode(await response.arrayBuffer());
  const clusters = Number(root.dataset.clusters);
  const byId = new Map(points.ids.map((id, i) => [id, i]));
  const colour = new Float32Array(points.count);
  const size = new Float32Array(points.count);
  const xs = new Float32Array(points.count);
  const ys = new Float32Array(points.count);
  for (let i = 0; i < points.count; i++) {
    xs[i] = (points.x[i] / 65535) * 2 - 1;
    ys[i] = 1 - (points.y[i] / 65535) * 2;
    colour[i] = points.cluster[i] % PALETTE.length;
  }
  const mark = (ids, value) => {
    for (const id of ids) {
      const i = byId.get(id);
      if (i !== undefined) { colour[i] = value; size[i] = 1; }
    }
  };
  mark(marks.library, PALETTE.length + 1);
  mark(marks.results, PALETTE.length);
  const { width, height } = root.getBoundingClientRect();
  const library = () => cssColour(root, "color"); // the text colour: black, or light on dark
  const small = points.count > 100000;
  const options = {
    pointSize: [small ? 2 : 5, 9],
    sizeBy: "valueB",
    colorBy: "valueA",
    pointColor: [...PALETTE, RESULT, library()],
    backgroundColor: cssColour(root, "backgroundColor"),
    opacityBy: "density",
    spatialIndexUseWorker: false, // the CSP allows no blob: workers
    lassoOnLongPress: false,
  };
  const data = { x: xs, y: ys, valueA: colour, valueB: size };
  const types = { zDataType: "categorical", wDataType: "categorical" };
  let moving = false;
  const fullRenderer = renderer(width, height, 1);
  // While the view moves the full scatterplot computes its camera, hover and events but
  // draws nothing: its frames go through this gate.
  const gated = Object.create(fullRenderer);
  gated.render = (draw, target) => { if (!moving) fullRenderer.render(draw, target); };
  const scatterplot = window.createScatterplot.default({
    ...options, renderer: gated, canvas, width, height,
    // Its density opacity counts the points in view (a spatial-index query over all of
    // them, ~18 % of a pan's time at 588k): once the view rests, not on every frame.
    opacityByDensityDebounceTime: REST_MS });
  const plots = [scatterplot];
  let quick = null;
  if (points.count > MOVING_POINTS) {
    const picks = subset(points.count, MOVING_POINTS,
      [...marks.results, ...marks.library].map((id) => byId.get(id)).filter((i) => i !== undefined));
    const quickCanvas = document.createElement("canvas");
    quickCanvas.className = "map-quick";
    quickCanvas.setAttribute("aria-hidden", "true");
    root.insertBefore(quickCanvas, canvas);
    quick = window.createScatterplot.default({
      ...options, canvas: quickCanvas, pointSize: options.pointSize.map((s) => Math.max(1, s * MOVING_SCALE)),
      renderer: renderer(width, height, MOVING_SCALE),
      width: width * MOVING_SCALE, height: height * MOVING_SCALE });
    quickCanvas.style.width = quickCanvas.style.height = ""; // style.css: the map's size
    const pick = (values) => Float32Array.from(picks, (i) => values[i]);
    await quick.draw({ x: pick(xs), y: pick(ys), valueA: pick(colour), valueB: pick(size) }, types);
    plots.push(quick);
    let resting = 0;
    const rest = () => {
      moving = false;
      scatterplot.subscribe("draw", () => { if (!moving) root.classList.remove("moving"); }, 1);
      scatterplot.redraw();
    };
    const move = () => {
      if (!moving) { moving = true; root.classList.add("moving"); }
      clearTimeout(resting);
      resting = setTimeout(rest, REST_MS);
    };
    // From the press or the wheel on: the camera's "view" event comes after a frame, and
    // that first frame of all the points took ~0.8 s.
    for (const type of ["mousedown", "wheel", "touchstart"]) {
      canvas.addEventListener(type, move, { capture: true, passive: true });
    }
    scatterplot.subscribe("view", ({ view }) => {
      quick.view(view, { preventEvent: true });
      move();
    });
  }
  await scatterplot.draw(data, types);
  // The dark toggle (theme.js classes) or the system's scheme changed: repaint in its colours.
  const repaint = () => plots.forEach((plot) => plot.set({
    backgroundColor: cssColour(root, "backgroundColor"), pointColor: [...PALETTE, RESULT, library()] }));
  new MutationObserver(repaint).observe(document.documentElement, { attributeFilter: ["class"] });
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", repaint);
  root.dataset.drawn = String(points.count);
  root.dataset.loadMs = String(Math.round(performance.now() - started));
  status.textContent = `${points.count.toLocaleString()} papers in ${clusters} regions.` +
    (marks.results.length ? ` ${marks.results.length} results of your search in red.` : "") +
    (marks.library.length ? ` Your library in the text's colour.` : "");

  let hovered = -1;
  scatterplot.subscribe("pointOver", async (i) => {
    hovered = i;
    const id = points.ids[i];
    const [px, py] = scatterplot.getScreenPosition(i);
    tip.hidden = false;
    tip.style.left = `${Math.round(px + 12)}px`;
    tip.style.top = `${Math.round(py + 12)}px`;
    tip.textContent = id;
    const answer = await fetch(`/api/papers/${encodeURIComponent(id)}`);
    if (answer.ok && hovered === i) {
      const paper = await answer.json();
      tip.textContent = paper.title; // text, never HTML: a hostile title stays inert
    }
  });
  scatterplot.subscribe("pointOut", () => { hovered = -1; tip.hidden = true; });
  scatterplot.subscribe("select", ({ points: picked }) => {
    if (picked.length === 1) window.location.assign(`/papers/${points.ids[picked[0]]}`);
  });
  // What the benchmark (bench/map_page.py) and the browser tests read.
  window.paperfeedMap = { scatterplot, quick, ids: points.ids, xs, ys,
    drawing: () => (moving ? MOVING_POINTS : points.count) };
}

main().catch((error) => {
  document.getElementById("map-status").textContent = "The map could not be drawn: " + error;
});

// The map of the corpus (/map): every paper as a point, drawn with regl-scatterplot (WebGL),
// from /api/map/points.bin (index/map_artifact.py encode_points). Pan and zoom are the
// library's; hover and click are this page's (`hovering` below): the paper's title (fetched
// from /api/papers/{id}, set as text, never as HTML) and a ring over the canvas; a click
// opens the paper. The page's own data (search results and the member's library to
// highlight) is JSON in #map-marks.
//
// Smoother at 588k points in software WebGL (docs/map.md has the measurements): each
// scatterplot gets its own renderer sized to its canvas (the library's shared one is the
// size of the window, and every frame it shades and copies every pixel), and while the
// view moves a second scatterplot draws a fixed random subset of MOVING_POINTS at half
// the resolution; the full one draws every point when the view has rested for REST_MS.
// The full one stays on top (transparent while moving): pan and zoom are always its own.
//
// Hover is not the library's: it searched its spatial index around the pointer on every
// mouse move, moving or not, and drew a frame of every point to highlight the one under it
// (1.2-1.5 s at 588k). The page finds the point in a grid of its own, at most once a frame
// and only at rest, and shows a ring and the title over the canvas: no frame of the
// points is drawn for a hover.
import createPubSub from "/static/vendor/pub-sub-es.js";

window.createPubSub = createPubSub; // the UMD build of regl-scatterplot reads this global

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948",
  "#9c755f", "#bab0ac", "#86bcb6", "#d37295", "#8cd17d", "#a0cbe8", "#ffbe7d", "#b6992d",
  "#f1ce63", "#79706e", "#d4a6c8", "#fabfd2", "#499894", "#e15759"];
const RESULT = "#d62728";
const MOVING_POINTS = 20000; // software WebGL draws these at 24-34 frames/s (docs/map.md)
const MOVING_SCALE = 0.5; // the moving view's resolution: a quarter of the pixels to shade
const REST_MS = 200;
const TITLE_MS = 60; // the pointer stays this long on a point before its title is fetched
const SLACK = 4; // px around a point's disc that still hover it (the library's too)
const CLICK_SLOP = 3; // px a press may move and still be a click (the library's lasso minimum)

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

// The points by cell of a uniform grid over [-1, 1]²: the candidates near the pointer are
// those of a few cells (a counting sort: ~50 ms for 588k points; a search ~0.1 ms).
function grid(xs, ys) {
  const n = xs.length;
  const side = Math.max(1, Math.min(1024, Math.ceil(Math.sqrt(n / 4))));
  const cellOf = (v) => Math.max(0, Math.min(side - 1, Math.floor(((v + 1) / 2) * side)));
  const cells = new Uint32Array(n);
  const start = new Uint32Array(side * side + 1);
  for (let i = 0; i < n; i++) {
    cells[i] = cellOf(ys[i]) * side + cellOf(xs[i]);
    start[cells[i] + 1]++;
  }
  for (let c = 0; c < side * side; c++) start[c + 1] += start[c];
  const order = new Uint32Array(n);
  const fill = start.slice(0, side * side);
  for (let i = 0; i < n; i++) order[fill[cells[i]]++] = i;
  return { side, cellOf, start, order };
}

// The index of the point nearest (x, y) on screen within its disc + SLACK, or -1. `screen`
// maps data to canvas pixels (x = ax * data + bx, the same for y); `radius(i)` is point
// i's radius in pixels.
function nearest(index, xs, ys, screen, x, y, reach, radius) {
  const { ax, bx, ay, by } = screen;
  const dx = (x - bx) / ax, dy = (y - by) / ay; // the pointer in data units
  const rx = Math.abs(reach / ax), ry = Math.abs(reach / ay);
  const { side, cellOf, start, order } = index;
  let best = -1, bestD = Infinity;
  for (let cy = cellOf(dy - ry); cy <= cellOf(dy + ry); cy++) {
    for (let cx = cellOf(dx - rx); cx <= cellOf(dx + rx); cx++) {
      const c = cy * side + cx;
      for (let k = start[c]; k < start[c + 1]; k++) {
        const i = order[k];
        const px = ax * xs[i] + bx - x, py = ay * ys[i] + by - y;
        const d = px * px + py * py, r = radius(i) + SLACK;
        if (d <= r * r && d < bestD) { best = i; bestD = d; }
      }
    }
  }
  return best;
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
  // While the view moves the full scatterplot computes its camera and events but draws
  // nothing: its frames go through this gate.
  const gated = Object.create(fullRenderer);
  gated.render = (draw, target) => { if (!moving) fullRenderer.render(draw, target); };
  const scatterplot = window.createScatterplot.default({
    ...options, renderer: gated, canvas, width, height,
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
    // Its density opacity counts the points in view, a range query over all of them (27 %
    // of a pan's time at 588k: its `opacityByDensityDebounceTime` throttles, it does not
    // wait for rest), and the full scatterplot draws nothing while moving: off while the
    // view moves; at rest, once it is back on (`set` redraws a frame later), the same view
    // is set again, so that the one frame drawn at rest counts them first.
    const rest = () => {
      moving = false;
      scatterplot.set({ opacityBy: "density" }).then(() => scatterplot.view(
        Float32Array.from(scatterplot.get("cameraView")), { preventEvent: true }));
      scatterplot.subscribe("draw", () => { if (!moving) root.classList.remove("moving"); }, 1);
    };
    const move = () => {
      if (!moving) {
        moving = true;
        root.classList.add("moving");
        scatterplot.set({ opacityBy: null });
      }
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
  muteHover(root, plots.map((plot) => plot.get("canvas")));
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

  const hover = hovering({ root, canvas, tip,
    scatterplot, ids: points.ids, xs, ys, still: () => !moving,
    radius: (i) => options.pointSize[size[i]] / 2,
    largest: Math.max(...options.pointSize) / 2 });
  scatterplot.subscribe("view", hover.moved);
  // What the benchmark (bench/map_page.py) and the browser tests read.
  window.paperfeedMap = { scatterplot, quick, ids: points.ids, xs, ys,
    hovered: hover.hovered, drawing: () => (moving ? MOVING_POINTS : points.count) };
}

// The library's hover kept off: it runs only while the library thinks the pointer is in
// its canvas, set by the canvas's `mouseenter` (which never reaches it) and unset by a
// `mouseleave` (sent before the points are drawn, as it asks for a frame of all of them,
// and after the window loses focus, when the library asks the document again which
// elements are under the pointer: the moving subset's canvas beneath is one of them).
function muteHover(root, canvases) {
  root.addEventListener("mouseenter", (event) => {
    if (canvases.includes(event.target)) event.stopPropagation();
  }, { capture: true });
  const leave = () => canvases.forEach((c) => c.dispatchEvent(new MouseEvent("mouseleave")));
  window.addEventListener("blur", leave);
  leave();
}

// The page's hover and click on the full scatterplot's canvas; its clicks are taken
// before they reach the library.
function hovering({ root, canvas, tip, scatterplot, ids, xs, ys, still, radius,
  largest }) {
  const index = grid(xs, ys);
  const ends = [0, 0, 0, 0]; // the points of least and most x, least and most y
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] < xs[ends[0]]) ends[0] = i;
    if (xs[i] > xs[ends[1]]) ends[1] = i;
    if (ys[i] < ys[ends[2]]) ends[2] = i;
    if (ys[i] > ys[ends[3]]) ends[3] = i;
  }
  // Data to canvas pixels, from where the library puts the extreme points now (pan and
  // zoom only scale and shift); one axis without extent takes the other's scale.
  const screen = () => {
    const [[x0], [x1], [, y0], [, y1]] = ends.map((i) => scatterplot.getScreenPosition(i));
    let ax = (x1 - x0) / (xs[ends[1]] - xs[ends[0]]);
    let ay = (y1 - y0) / (ys[ends[3]] - ys[ends[2]]);
    if (!Number.isFinite(ax)) ax = Number.isFinite(ay) ? -ay : 1;
    if (!Number.isFinite(ay)) ay = -ax;
    return { ax, bx: x0 - ax * xs[ends[0]], ay, by: y0 - ay * ys[ends[2]] };
  };
  // The library's point scale ("asinh"): points grow slowly as the view zooms in.
  const grow = () => {
    const zoom = scatterplot.get("camera").scaling[0];
    return zoom > 1 ? Math.asinh(zoom) / Math.asinh(1) : zoom;
  };
  const ring = document.createElement("div");
  ring.className = "map-ring";
  ring.hidden = true;
  root.appendChild(ring);
  const titles = new Map();
  let hovered = -1, pointer = null, frame = 0, fetching = 0, pressed = null;

  const pick = (x, y) => {
    if (!ids.length) return -1;
    const g = grow();
    return nearest(index, xs, ys, screen(), x, y, largest * g + SLACK, (i) => radius(i) * g);
  };
  const show = (i) => {
    if (i === hovered) return;
    hovered = i;
    clearTimeout(fetching);
    if (i < 0) { tip.hidden = ring.hidden = true; return; }
    const [px, py] = scatterplot.getScreenPosition(i);
    const r = radius(i) * grow() + 3;
    Object.assign(ring.style, {
      left: `${px - r}px`, top: `${py - r}px`, width: `${2 * r}px`, height: `${2 * r}px` });
    tip.style.left = `${Math.round(px + 12)}px`;
    tip.style.top = `${Math.round(py + 12)}px`;
    tip.textContent = titles.get(ids[i]) || ids[i]; // text, never HTML: a hostile one is inert
    tip.hidden = ring.hidden = false;
    if (!titles.has(ids[i])) fetching = setTimeout(() => title(i).catch(() => {}), TITLE_MS);
  };
  const title = async (i) => {
    const answer = await fetch(`/api/papers/${encodeURIComponent(ids[i])}`);
    if (!answer.ok) return;
    titles.set(ids[i], (await answer.json()).title);
    if (hovered === i) tip.textContent = titles.get(ids[i]);
  };
  // At most one search a frame, at the latest pointer position, and none while it moves.
  const update = () => {
    frame = 0;
    show(pointer && still() ? pick(pointer[0], pointer[1]) : -1);
  };
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [event.clientX - box.left, event.clientY - box.top];
  };
  canvas.addEventListener("mousemove", (event) => {
    pointer = event.buttons ? null : at(event); // a drag pans: no hover
    if (!frame) frame = requestAnimationFrame(update);
  });
  canvas.addEventListener("mouseleave", () => { pointer = null; show(-1); });

  canvas.addEventListener("mousedown", (event) => { pressed = at(event); });
  root.addEventListener("click", (event) => {
    if (event.target !== canvas) return;
    event.stopPropagation();
    const [x, y] = at(event);
    if (!pressed || Math.hypot(x - pressed[0], y - pressed[1]) >= CLICK_SLOP) return; // a pan
    const i = pick(x, y);
    if (i >= 0) window.location.assign(`/papers/${ids[i]}`);
  }, { capture: true });

  let settling = 0;
  return {
    hovered: () => hovered,
    // The view moved: no hover until it rests, then the point now under the pointer.
    moved: () => {
      show(-1);
      clearTimeout(settling);
      settling = setTimeout(function again() {
        if (!still()) { settling = setTimeout(again, REST_MS); return; }
        if (pointer && !frame) frame = requestAnimationFrame(update);
      }, REST_MS);
    },
  };
}

main().catch((error) => {
  document.getElementById("map-status").textContent = "The map could not be drawn: " + error;
});

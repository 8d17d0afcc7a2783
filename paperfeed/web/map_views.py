"""The map of the corpus (`/map`), rising topics (`/trends`) and the trend chart's data.

The map page is drawn in the browser (static/map.js, regl-scatterplot) from
`/api/map/points.bin`; the page itself carries only what is the visitor's own: the ids
of the current search's results (`?q=`) and of the member's library, to highlight.
The trend chart and the paper page's small map are SVG drawn here: no script needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import Request
from fastapi.responses import HTMLResponse

from ..catalog import Catalog
from ..discover import atlas
from ..discover.relevance import floored_page
from ..discover.search import search as run_search
from ..errors import BadRequest
from ..http.headers import CSP
from ..http.session import current_user
from ..models import StoredPaper
from .render import render

# regl (under regl-scatterplot) compiles its draw calls with `new Function`: this page alone
# allows eval. Still no inline script, and nothing the page evaluates comes from data.
MAP_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-eval'")
HIGHLIGHT_RESULTS = 50  # a search's best results (above the relevance floor): red on the map


def _catalog(request: Request) -> Catalog:
    return request.app.state.catalog


def map_page(request: Request, q: str = "") -> HTMLResponse:
    catalog = _catalog(request)
    q = q.strip()
    error, results = None, []
    if q:
        try:
            hits = run_search(catalog, q, limit=HIGHLIGHT_RESULTS)
            results = [hit.paper.id for hit in floored_page(catalog, q, hits, mode="hybrid")]
        except BadRequest as exc:
            error = str(exc)
    user = current_user(request)
    library: list[str] = []
    if user is not None:
        keys = sorted(catalog.store.library.saved_keys(user.id))
        library = [paper.id for paper in catalog.store.papers.get_many(keys)]
    found = atlas.points(catalog)
    page = render(request, "map.html", status=400 if error else 200, active="map", query=q,
                  error=error, version=found.version, count=len(found.ids),
                  clusters=found.clusters(), method=found.method, building=found.building,
                  marks={"results": results, "library": library})
    page.headers["Content-Security-Policy"] = MAP_CSP
    return page


def trends(request: Request) -> HTMLResponse:
    month, topics = atlas.rising(_catalog(request))
    return render(request, "trends.html", active="trends", month=month, topics=topics)


def neighbourhood(catalog: Catalog, paper: StoredPaper) -> dict[str, Any] | None:
    return atlas.neighbourhood(catalog, paper.key)


def bars(series: list[tuple[str, int]], width: int = 720, height: int = 120) -> dict[str, Any]:
    """The SVG geometry of a bar chart of `series` (months and counts)."""
    if not series:
        return {}
    top = max(n for _, n in series) or 1
    step = width / len(series)
    counts = np.array([n for _, n in series], dtype=float)
    return {"width": width, "height": height, "top": top, "bars": [
        {"month": month, "n": n, "x": round(i * step + 1, 1), "w": round(max(step - 2, 1), 1),
         "h": round(float(counts[i]) / top * (height - 20), 1),
         "y": round(height - 16 - float(counts[i]) / top * (height - 20), 1)}
        for i, (month, n) in enumerate(series)],
        "first": series[0][0], "last": series[-1][0]}

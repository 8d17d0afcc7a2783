"""The weight of every page: HTML + CSS + JS as a visitor's browser fetches them.

    python bench/page_weight.py http://127.0.0.1:8000     # a running demo site
    python bench/page_weight.py --home /tmp/page-weight    # builds one and serves it

For each page (a visitor's, not logged in): the HTML, then every stylesheet and script it
links and every script those load (`import ... from "/static/..."`, `loadScript(...)`: the
map's WebGL library), each counted once per page, raw and gzipped (level 6, what a
compressing proxy sends); the map's points (`/api/map/points.bin`, data, not code)
separately. With `--home`, the site is the demo corpus plus one real arXiv day with
authors, a comment and a reply, and the map fitted (harness/tour_site.py). Prints a
table, writes bench/results/page-weight.json.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import datadir, tour_site  # noqa: E402
from harness.report import log, print_table, write_json  # noqa: E402
from harness.server import Server  # noqa: E402

PAGES = ["/", "{day}", "/papers/week", "/papers/month", "/trending",
         "/search?q=knowledge+distillation", "{paper}", "{author}", "/authors?q=lev",
         "/map", "/trends", "/submit", "/subscribe", "/login", "/signup", "/for-you"]
LINKED = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(/static/[^"?#]+\.(?:js|css))')
LOADED = re.compile(r'["\'](/static/[^"\']+\.js)["\']')


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6, mtime=0))


def weigh(client: httpx.Client, path: str) -> dict[str, object]:
    page = client.get(path)
    html = page.content
    row: dict[str, object] = {"page": path, "status": page.status_code}
    if page.history:  # a member's page: a visitor is sent to log in
        row["status"] = f"{page.history[0].status_code} → {page.url.path}"
    assets: dict[str, list[bytes]] = {"css": [], "js": []}
    todo, seen = LINKED.findall(page.text), set()
    while todo:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        body = client.get(url).content
        kind = "css" if url.endswith(".css") else "js"
        assets[kind].append(body)
        if kind == "js":
            todo.extend(LOADED.findall(body.decode(errors="replace")))
    sizes = {"HTML": [html], "CSS": assets["css"], "JS": assets["js"]}
    for kind, bodies in sizes.items():
        row[kind], row[f"{kind} gz"] = sum(map(len, bodies)), sum(map(gz, bodies))
    row["total"] = sum(sum(map(len, bodies)) for bodies in sizes.values())
    row["total gz"] = sum(sum(map(gz, bodies)) for bodies in sizes.values())
    row["files"] = 1 + len(seen)
    return row


def measure(base: str, urls: dict[str, str]) -> tuple[list[dict[str, object]], dict[str, int]]:
    with httpx.Client(base_url=base, trust_env=False, timeout=120, follow_redirects=True,
                      headers={"accept-encoding": "identity"}) as client:
        rows = [weigh(client, path.format(**urls)) for path in PAGES]
        points = client.get("/api/map/points.bin").content
    return rows, {"points.bin": len(points), "points.bin gz": gz(points)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", nargs="?")
    parser.add_argument("--home", type=Path, help="build the tour site here and serve it")
    args = parser.parse_args()
    if args.home:
        if args.home.exists():
            shutil.rmtree(args.home)
        urls = tour_site.build(args.home)
        log(f"tour site: {urls}")
        with Server(args.home, datadir.embedder_of(args.home), args.home / "serve.log") as site:
            rows, data = measure(site.url, urls)
    elif args.base:
        urls = {"day": f"/papers/date/{tour_site.DAY}", "paper": "/papers/1905.07447",
                "author": "/authors/" + quote("Sergey Levine")}
        rows, data = measure(args.base, urls)
    else:
        parser.error("give a site's URL or --home")
    print_table("page weight (bytes; gz: gzip level 6)", rows)
    print(f"map data: {data}")
    write_json("page-weight", {"base": args.base or "tour site", "rows": rows,
                               "map data": data})


if __name__ == "__main__":
    main()

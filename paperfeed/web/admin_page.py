"""The admin page, /admin: how far the indexes are behind the store (the transformer
backfill's rate and ETA), the last harvest, the digest queue, hidden submissions, members.

One admin's view, never the shared page cache: it is rendered per request, marked
`no-store`, and its numbers are `jobs.status.site_status`, which `paperfeed index status`
and /api/admin/status print too.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from ..http.session import require_admin
from ..jobs.status import HIDDEN_SHOWN, site_status
from .render import render


def admin(request: Request) -> HTMLResponse:
    require_admin(request)
    catalog = request.app.state.catalog
    site = site_status(catalog.store, catalog.settings.index_dir)
    response = render(request, "admin.html", site=site, hidden_shown=HIDDEN_SHOWN,
                      active="admin")
    response.headers["Cache-Control"] = "no-store"
    return response

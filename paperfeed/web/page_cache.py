"""Rendered list pages (for logged-out visitors) and feeds, reused until the data changes.

Most visitors are not logged in and see the same list pages. Rendering one
(30 cards, vote buttons) costs ~5 ms of CPU; reusing it costs a dictionary
lookup and two indexed reads. An entry is keyed by the URL and the store's
`seq`, and remembers the community counter (bumped by triggers on every vote,
submission and hide) it was rendered at. After a change it is rendered again,
but at most once every `MAX_STALE_S`: on a busy site votes arrive many times
a second, and re-rendering every page after each one would cost more than
the cache saves (measured: 10% votes cut page throughput 5-fold). A member
sees their own vote at once: pages for members are never cached. Entries also
expire after `TTL_S`, which bounds time-based details ("new" badges). The
visitor's CSRF token is the only per-visitor part of such a page: it is
rendered as a placeholder and filled in per response.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from .session import csrf_token, current_user

TTL_S = 30.0
MAX_STALE_S = 1.0
MAX_ENTRIES = 512
CSRF_PLACEHOLDER = "__PAPERFEED_CSRF_TOKEN__"


class PageCache:
    def __init__(self) -> None:
        # key -> (rendered at, community version, body, content type)
        self._entries: OrderedDict[tuple, tuple[float, int, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def page(self, request: Request, build: Callable[[], Response], *,
             same_for_members: bool = False) -> Response:
        """`build()`'s response, or a copy of it. Pages that show who is logged in are
        built fresh for members; `same_for_members` ones (feeds) are shared by all."""
        if not same_for_members and current_user(request) is not None:
            return build()
        catalog = request.app.state.catalog
        key = (request.url.path, request.url.query, catalog.store.max_seq())
        version = catalog.community.version()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry and now - entry[0] < TTL_S and (
                    entry[1] == version or now - entry[0] < MAX_STALE_S):
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                entry = None
        if entry is None:
            self.misses += 1
            request.state.csrf_token = CSRF_PLACEHOLDER
            response = build()
            del request.state.csrf_token
            if response.status_code != 200:
                return response
            entry = (now, version, bytes(response.body), response.headers["content-type"])
            with self._lock:
                self._entries[key] = entry
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        body, media_type = entry[2], entry[3]
        token = csrf_token(request).encode()
        return Response(body.replace(CSRF_PLACEHOLDER.encode(), token),
                        headers={"content-type": media_type})

"""Rendered list pages and feeds, shared by all visitors until the data changes.

Rendering a list page (30 cards with vote buttons) costs ~3-5 ms of CPU; a
shared copy costs a dictionary lookup and a few string replacements. A page is
rendered once for everybody, with markers where it differs per visitor: the
account menu (`<!--pf:account-->`), the discussion's forms (members' and visitors'
blocks) and each comment's own controls (`<!--pf:comment:ID-->`), each vote button's pressed state
(`aria-pressed="pf:voted:KEY"`), each Save button's (`pf:saved:KEY`), each private
rating button's (`aria-pressed="pf:rated:KEY:±1"`) and the CSRF token. Each response
fills them in: a small template, one indexed query each for the visitor's votes, saved
papers and ratings, a token.

An entry is keyed by the URL and the store's `seq`, and remembers the community
counter (bumped by triggers on every vote, submission and hide) it was rendered
at. After a change it is rendered again; for logged-out visitors at most once
every `MAX_STALE_S`, because on a busy site votes arrive many times a second
and re-rendering after each one would cost more than the cache saves
(measured: 10% votes cut page throughput 5-fold). Members always get a page
rendered after their own latest vote. Entries expire after `TTL_S`, a bound on
staleness for anything a page might show that the key does not capture (the "new"
badge depends on the store alone: discover/daily.py `new_from`).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response
from markupsafe import escape

from ..http.csrf import csrf_token
from ..http.session import current_user

TTL_S = 30.0
MAX_STALE_S = 1.0
MAX_ENTRIES = 512
CSRF_PLACEHOLDER = "__PAPERFEED_CSRF_TOKEN__"
ACCOUNT_MARK = b"<!--pf:account-->"
VOTED_MARK = re.compile(rb'aria-pressed="pf:voted:(\d+)"')
SAVED_MARK = re.compile(rb'aria-pressed="pf:saved:(\d+)"')
RATED_MARK = re.compile(rb'aria-pressed="pf:rated:(\d+):(-?1)"')
COMMENT_MARK = re.compile(rb"<!--pf:comment:(\d+)-->")
MEMBERS_BLOCK = re.compile(rb"<!--pf:members-->(.*?)<!--/pf:members-->", re.S)
VISITORS_BLOCK = re.compile(rb"<!--pf:visitors-->(.*?)<!--/pf:visitors-->", re.S)


class PageCache:
    def __init__(self) -> None:
        # key -> (rendered at, community version, body, content type)
        self._entries: OrderedDict[tuple, tuple[float, int, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def page(self, request: Request, build: Callable[[], Response]) -> Response:
        """`build()`'s response for this visitor, from a shared copy when there is one."""
        user = current_user(request)
        catalog = request.app.state.catalog
        state = catalog.store.state()  # one statement: papers' seq, community version
        key = (request.url.path, request.url.query, state.seq)
        version = state.community
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry and now - entry[0] < TTL_S and (
                    entry[1] == version or (user is None and now - entry[0] < MAX_STALE_S)):
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                entry = None
        if entry is None:
            self.misses += 1
            request.state.csrf_token = CSRF_PLACEHOLDER
            request.state.shared_render = True
            response = build()
            del request.state.csrf_token
            request.state.shared_render = False
            if response.status_code != 200:
                return response
            entry = (now, version, bytes(response.body), response.headers["content-type"])
            with self._lock:
                self._entries[key] = entry
                while len(self._entries) > MAX_ENTRIES:
                    self._entries.popitem(last=False)
        return Response(self._fill(request, entry[2]), headers={"content-type": entry[3]})

    @staticmethod
    def _fill(request: Request, body: bytes) -> bytes:
        """This visitor's parts of a shared page: account menu, pressed votes, CSRF token."""
        user = current_user(request)
        token = csrf_token(request)
        if ACCOUNT_MARK in body:
            account = request.app.state.templates.get_template("_account.html").render(
                user=user, csrf_token=token, request=request, active=None)
            body = body.replace(ACCOUNT_MARK, account.encode())
        marked = [int(m) for m in VOTED_MARK.findall(body)]
        voted = (request.app.state.catalog.store.community.voted_by(user.id, marked)
                 if user and marked else set())
        body = VOTED_MARK.sub(
            lambda m: b'aria-pressed="%s"' % (b"true" if int(m[1]) in voted else b"false"),
            body)
        body = _fill_saved(request, body)
        body = _fill_ratings(request, body)
        body = _fill_comments(request, body, token)
        # The token has the shape of one we issued (session.TOKEN_SHAPE); escaped all the same,
        # because nothing filled into a shared page may carry markup.
        return body.replace(CSRF_PLACEHOLDER.encode(), str(escape(token)).encode())


def _fill_saved(request: Request, body: bytes) -> bytes:
    """The Save buttons' pressed states: one indexed query for the member's saved keys."""
    marked = [int(m) for m in SAVED_MARK.findall(body)]
    if not marked:
        return body
    user = current_user(request)
    saved = (request.app.state.catalog.store.library.holding(user.id, marked)
             if user else {})
    return SAVED_MARK.sub(
        lambda m: b'aria-pressed="%s"' % (b"true" if int(m[1]) in saved else b"false"), body)
def _fill_ratings(request: Request, body: bytes) -> bytes:
    """The visitor's own private ratings on the "more / less like this" buttons."""
    user = current_user(request)
    marked = sorted({int(m[0]) for m in RATED_MARK.findall(body)})
    rated = (request.app.state.catalog.store.ratings.rated(user.id, marked)
             if user and marked else {})
    return RATED_MARK.sub(lambda m: b'aria-pressed="%s"' % (
        b"true" if rated.get(int(m[1])) == int(m[2]) else b"false"), body)


def _fill_comments(request: Request, body: bytes, token: str) -> bytes:
    """The discussion's per-visitor parts: the comment forms for members (a login link
    for visitors), and edit / delete on the visitor's own comments (one indexed query)."""
    user = current_user(request)
    keep, drop = (MEMBERS_BLOCK, VISITORS_BLOCK) if user else (VISITORS_BLOCK, MEMBERS_BLOCK)
    body = keep.sub(lambda m: m[1], drop.sub(b"", body))
    marked = [int(m) for m in COMMENT_MARK.findall(body)]
    own = request.app.state.catalog.store.comments.own(user.id, marked) if user and marked else {}
    controls = request.app.state.templates.get_template("_comment_controls.html")

    def fill(match: re.Match[bytes]) -> bytes:
        comment_id = int(match[1])
        if comment_id not in own:
            return b""
        return controls.render(comment_id=comment_id, own_body=own[comment_id],
                               is_admin=False, is_hidden=False, csrf_token=token).encode()
    return COMMENT_MARK.sub(fill, body)

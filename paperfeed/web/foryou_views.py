"""For you: a member's private ratings, their recommendations page, picking categories,
the active-learning round ("rate these"), and the private Atom feed."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..discover.foryou import SPANS, Recommender, Span
from ..discover.visibility import lookup
from ..errors import BadRequest, NotFound
from ..feeds import atom_feed
from ..http.params import stored_id
from ..http.session import current_user, require_member
from ..members import feeds
from .community_views import _back
from .feed_views import ATOM, FEED_SIZE
from .render import render, vote_state

ROUND = 10  # papers per active-learning round
NOTICES = {"categories": "Your categories are saved.",
           "feed": "Your private feed is ready: copy its address below. It is shown once.",
           "revoked": "The feed address is revoked: it answers 404 from now on."}


def recommender(request: Request) -> Recommender:
    return request.app.state.recommender


def span_of(raw: str | None) -> Span:
    if raw is None:
        return "day"
    if raw not in SPANS:
        raise BadRequest(f"period={raw!r}: use one of {', '.join(SPANS)}")
    return raw


def rate_form(request: Request, paper_id: str, rating: str = Form("")) -> Response:
    """The no-JavaScript rating: pressing the pressed button again takes it back."""
    paper = lookup(request.app.state.catalog, paper_id, current_user(request))
    back = _back(request, f"/papers/{quote(paper.id)}")
    user = require_member(request, back if "#" in back else f"{back}#paper-{paper.key}",
                          why="rate")
    if rating not in ("1", "-1"):
        raise BadRequest("rating: send 1 (more like this) or -1 (less like this)")
    ratings = request.app.state.catalog.store.ratings
    now = ratings.rated(user.id, [paper.key]).get(paper.key, 0)
    ratings.rate(user.id, paper.key, 0 if now == int(rating) else int(rating))
    return RedirectResponse(f"{back}#paper-{paper.key}" if "#" not in back else back, 303)


def for_you(request: Request, period: str | None = None) -> HTMLResponse:
    user = require_member(request, "/for-you", why="for-you")
    span = span_of(period)
    found = recommender(request).recommend(user.id, span, request.app.state.settings.page_size)
    papers = [item.paper for item in found.items]
    catalog = request.app.state.catalog
    token = getattr(request.state, "new_feed_token", None)
    response = render(
        request, "for_you.html", found=found, span=span, spans=SPANS, papers=papers,
        active="for-you", picked=set(found.signals.categories),
        categories=[c for c, _ in catalog.store.papers.categories(200)],
        feeds=catalog.store.ratings.feed_tokens(user.id), new_feed=token,
        digest_for_you=catalog.store.ratings.digest_for_you(user.id),
        notice=NOTICES.get(request.query_params.get("notice", "")),
        **vote_state(request, papers))
    response.headers["Cache-Control"] = "no-store"  # private, and may show a feed URL once
    return response


def pick_categories(request: Request,
                    category: Annotated[list[str], Form()] = []) -> Response:  # noqa: B006
    """The arXiv categories a member starts from (their default list, before signals)."""
    user = require_member(request, "/for-you", why="for-you")
    known = {c for c, _ in request.app.state.catalog.store.papers.categories(1000)}
    request.app.state.catalog.store.ratings.set_categories(
        user.id, [c for c in category if c in known])
    return RedirectResponse("/for-you?notice=categories", 303)


def rate_round(request: Request) -> HTMLResponse:
    """The papers the member's model is least sure of: rate them, then the next round."""
    user = require_member(request, "/for-you/rate", why="for-you")
    papers = recommender(request).to_rate(user.id, ROUND)
    signals = request.app.state.catalog.store.ratings.signals(user.id)
    response = render(request, "for_you_rate.html", papers=papers, active="for-you",
                      rated_count=len(signals.positive) + len(signals.negative),
                      **vote_state(request, papers))
    response.headers["Cache-Control"] = "no-store"
    return response


def new_feed(request: Request) -> Response:
    user = require_member(request, "/for-you", why="for-you")
    token, _ = feeds.create(request.app.state.catalog.store.ratings, user.id)
    request.state.new_feed_token = token
    return for_you(request, "day")


def revoke_feed(request: Request, feed_id: str) -> Response:
    user = require_member(request, "/for-you", why="for-you")
    if not request.app.state.catalog.store.ratings.revoke_feed_token(
            user.id, stored_id(feed_id, "You have no feed with that id.")):
        raise NotFound("You have no feed with that id.")
    return RedirectResponse("/for-you?notice=revoked#feed", 303)


def set_digest(request: Request, on: str = Form("0")) -> Response:
    user = require_member(request, "/for-you", why="for-you")
    request.app.state.catalog.store.ratings.set_digest_for_you(user.id, on == "1")
    return RedirectResponse("/for-you#digest", 303)


def private_feed(request: Request, token: str) -> Response:
    """Never in the shared page cache: the body is one member's."""
    catalog = request.app.state.catalog
    user_id = feeds.member_of(catalog.store.ratings, token)
    if user_id is None:
        raise NotFound("no such feed")
    found = recommender(request).recommend(user_id, "week", FEED_SIZE)
    body = atom_feed(title="paperfeed · for you", subtitle="New papers ranked by your ratings.",
                     feed_path=f"/for-you/feed/{token}.atom", html_path="/for-you",
                     papers=[item.paper for item in found.items],
                     site_url=request.app.state.settings.public_url)
    return Response(body, media_type=ATOM, headers={"Cache-Control": "private, no-store"})

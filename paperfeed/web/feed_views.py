"""Atom feeds: the daily list, trending, any search, a member's upvotes."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import Response

from ..discover import daily
from ..discover.relevance import close_hits
from ..discover.search import parse_filters, required_query
from ..discover.search import search as run_search
from ..discover.trending import trending
from ..errors import BadRequest, NotFound
from ..feeds import atom_feed
from ..models import StoredPaper

FEED_SIZE = 50
ATOM = "application/atom+xml; charset=utf-8"


def _feed(request: Request, *, title: str, subtitle: str, html_path: str,
          papers: list[StoredPaper]) -> Response:
    community = request.app.state.catalog.store.community
    query = request.url.query
    body = atom_feed(title=title, subtitle=subtitle,
                     feed_path=request.url.path + (f"?{query}" if query else ""),
                     html_path=html_path, papers=papers,
                     site_url=request.app.state.settings.public_url,
                     votes=community.vote_counts([p.key for p in papers]))
    return Response(body, media_type=ATOM)


def daily_feed(request: Request, date: str | None = None) -> Response:
    return request.app.state.page_cache.page(
        request, lambda: _daily_feed(request, date))


def _daily_feed(request: Request, date: str | None = None) -> Response:
    catalog = request.app.state.catalog
    period = daily.parse_period(day=date) or daily.latest_period(catalog)
    papers = (daily.listing(catalog, period.start, period.end, FEED_SIZE, sort="trending")
              if period else [])
    label = period.label if period else "no papers yet"
    html_path = f"/papers/date/{period.key}" if period else "/"
    return _feed(request, title=f"paperfeed · daily papers · {label}",
                 subtitle="The day's papers, most upvoted first.", html_path=html_path,
                 papers=papers)


def trending_feed(request: Request) -> Response:
    return request.app.state.page_cache.page(
        request, lambda: _trending_feed(request))


def _trending_feed(request: Request) -> Response:
    catalog = request.app.state.catalog
    ranked = trending(catalog, FEED_SIZE)
    return _feed(request, title="paperfeed · trending papers",
                 subtitle="Recent papers by upvotes, fading with age.", html_path="/trending",
                 papers=catalog.store.papers.get_many([t.paper_key for t in ranked]))


def search_feed(request: Request, q: str = "", category: str = "") -> Response:
    return request.app.state.page_cache.page(
        request, lambda: _search_feed(request, q, category))


def _search_feed(request: Request, q: str = "", category: str = "") -> Response:
    if not q.strip():
        raise BadRequest("q must not be empty: /feeds/search.atom?q=your+query")
    params = request.query_params
    filters = parse_filters(params.get("from"), params.get("to"), category)
    catalog = request.app.state.catalog
    query = required_query(q)
    hits = close_hits(catalog, query, run_search(catalog, query, limit=FEED_SIZE,
                                                 filters=filters))
    return _feed(request, title=f"paperfeed · search: {q}",
                 subtitle="Papers matching the search closely, best first.",
                 html_path="/search?" + urlencode({"q": q}), papers=[h.paper for h in hits])


def member_feed(request: Request, username: str) -> Response:
    return request.app.state.page_cache.page(
        request, lambda: _member_feed(request, username))


def _member_feed(request: Request, username: str) -> Response:
    catalog = request.app.state.catalog
    member = catalog.store.members.user_by_name(username)
    if member is None:
        raise NotFound(f"no member called {username!r}")
    papers = catalog.store.papers.get_many(catalog.store.community.upvoted(member.id, FEED_SIZE))
    return _feed(request, title=f"paperfeed · upvoted by {member.username}",
                 subtitle=f"Papers {member.username} upvoted, most recent first.",
                 html_path=f"/members/{quote(member.username)}", papers=papers)

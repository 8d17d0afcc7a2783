"""Atom 1.0 feeds (RFC 4287) of papers, built with feedgen.

One builder serves every list the site syndicates: the daily list, trending,
a search query, a member's upvotes. Text is always `type="text"` (escaped, never
markup), characters XML cannot carry are dropped, and every date is UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import partial
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from ..models import StoredPaper

ATOM_NS = "http://www.w3.org/2005/Atom"
GENERATOR = "paperfeed"

# XML 1.0 Char production minus the DEL and C1 controls it discourages (mis-decoded junk).
_NOT_XML_CHAR = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# Characters a URL may carry unescaped; anything else (spaces, quotes, non-ASCII) is escaped.
_URL_SAFE = "/?#[]@!$&'()*+,;=:%~"


def xml_text(value: object) -> str:
    """`value` as a string holding only characters XML 1.0 allows."""
    return _NOT_XML_CHAR.sub("", str(value)) if value is not None else ""


def _line(value: object) -> str:
    """`xml_text` on one line: runs of whitespace (arXiv titles wrap) become one space."""
    return " ".join(xml_text(value).split())


def _url(site_url: str, path: str) -> str:
    path = quote(xml_text(path), safe=_URL_SAFE)
    return site_url.rstrip("/") + (path if path.startswith("/") else "/" + path)


def _utc(value: date | datetime | str | None) -> datetime | None:
    """A timezone-aware UTC datetime: dates at midnight, naive times taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


class _LinkAttributes(BaseEntryExtension):
    """Puts `rel`/`type` back on an entry's links: feedgen 1.0 drops them."""

    def __init__(self, links: list[dict[str, str]]) -> None:
        self.links = links

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        # feedgen builds un-namespaced elements (xmlns is a plain attribute on <feed>).
        children = entry.iterchildren("link", f"{{{ATOM_NS}}}link")
        for element, link in zip(children, self.links, strict=False):
            for name in ("rel", "type"):
                if link.get(name):
                    element.set(name, link[name])
        return entry


def _upvotes(count: int) -> str:
    return f"▲ {count} upvote" + ("" if count == 1 else "s")


def _entry(paper: StoredPaper, site_url: str, votes: Mapping[int, int] | None,
           fallback: datetime) -> FeedEntry:
    paper_url = _url(site_url, "/papers/" + quote(xml_text(paper.id), safe="/"))
    links = [{"href": paper_url, "rel": "alternate", "type": "text/html"}]
    abs_url = xml_text((paper.links or {}).get("abs", "")).strip()
    if abs_url:
        links.append({"href": quote(abs_url, safe=_URL_SAFE), "rel": "related",
                      "type": "text/html"})

    added = _utc(paper.added_at)
    published = _utc(paper.published) or added
    changed = [d for d in (_utc(paper.updated), _utc(paper.published)) if d]
    updated = max(changed) if changed else (added or fallback)

    entry = FeedEntry()
    entry.register_extension("paperfeed_links", partial(_LinkAttributes, links),
                             atom=True, rss=False)
    entry.id(paper_url)
    entry.title(_line(paper.title) or _line(paper.id))
    entry.updated(updated)
    if published:
        entry.published(published)
    for link in links:
        entry.link(**link)
    for name in filter(None, map(_line, paper.authors or [])):
        entry.author({"name": name})
    summary = xml_text(paper.abstract).strip()
    if votes is not None:
        summary = _upvotes(votes.get(paper.key, 0)) + ("\n\n" + summary if summary else "")
    if summary:
        entry.summary(summary, type="text")
    for term in filter(None, map(_line, paper.categories or [])):
        entry.category({"term": term})
    return entry


def atom_feed(*, title: str, subtitle: str, feed_path: str, html_path: str,
              papers: Sequence[StoredPaper], site_url: str,
              updated: datetime | None = None,
              votes: Mapping[int, int] | None = None) -> bytes:
    """An Atom document listing `papers` in the given order, as UTF-8 bytes.

    `site_url` is the absolute site URL (`settings.public_url`); `feed_path` and
    `html_path` are site paths for the rel=self and rel=alternate links. The feed
    id is the absolute self URL; an entry's id is its paper page's URL. The
    feed's `updated` is the latest of `updated` and the entries' dates (now for
    an empty feed). With `votes` (paper key -> count) each summary starts with
    a "▲ N upvotes" line.
    """
    now = datetime.now(UTC)
    entries = [_entry(paper, site_url, votes, now) for paper in papers]
    self_url = _url(site_url, feed_path)

    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(_line(title) or GENERATOR)
    if _line(subtitle):
        fg.subtitle(_line(subtitle))
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=_url(site_url, html_path), rel="alternate", type="text/html")
    fg.generator(GENERATOR)
    if any(not entry.author() for entry in entries):
        fg.author({"name": GENERATOR})  # RFC 4287 4.1.1: every entry needs an author
    stamps: list[datetime] = [entry.updated() for entry in entries]
    if updated is not None:
        stamps.append(updated.replace(tzinfo=UTC) if updated.tzinfo is None
                      else updated.astimezone(UTC))
    fg.updated(max(stamps) if stamps else now)
    for entry in entries:
        fg.add_entry(entry, order="append")
    return fg.atom_str(pretty=False)

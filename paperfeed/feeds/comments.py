"""An Atom 1.0 feed (RFC 4287) of one paper's discussion, built with feedgen.

Entries are the comments readers see, newest first; each entry's content is the
comment's sanitised HTML (members/comments.py), as `type="html"`, so feed readers
show the same inert markup the page does. Ids and links are absolute URLs made from
the configured site URL, never from the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from ..members.comments import render
from ..models import Comment, StoredPaper
from .atom import GENERATOR, _line, _LinkAttributes, _url, _utc, xml_text


def _entry(comment: Comment, paper_url: str) -> FeedEntry:
    url = f"{paper_url}#comment-{comment.id}"
    link = {"href": url, "rel": "alternate", "type": "text/html"}
    entry = FeedEntry()
    entry.register_extension("paperfeed_links", partial(_LinkAttributes, [link]),
                             atom=True, rss=False)
    entry.id(url)
    who = comment.username or "a former member"
    entry.title(f"{who} {'replied' if comment.parent_id else 'commented'}")
    created = _utc(comment.created_at) or datetime.now(UTC)
    entry.published(created)
    entry.updated(_utc(comment.edited_at) or created)
    entry.link(**link)
    entry.author({"name": _line(who)})
    entry.content(xml_text(render(comment.body)), type="html")
    return entry


def comments_feed(*, paper: StoredPaper, comments: Sequence[Comment], site_url: str,
                  limit: int = 50) -> bytes:
    """The latest `limit` readable comments on `paper` (deleted and hidden ones, and the
    placeholders they leave, are not news), as UTF-8 bytes."""
    paper_url = _url(site_url, "/papers/" + quote(xml_text(paper.id), safe="/"))
    readable = [c for c in comments if not (c.deleted or c.hidden)]
    newest = sorted(readable, key=lambda c: c.id, reverse=True)[:limit]
    self_url = f"{paper_url}/comments.atom"
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(_line(f"Discussion: {paper.title}") or GENERATOR)
    fg.subtitle("Comments on this paper, newest first.")
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=paper_url + "#comments", rel="alternate", type="text/html")
    fg.generator(GENERATOR)
    entries = [_entry(c, paper_url) for c in newest]
    stamps = [e.updated() for e in entries]
    fg.updated(max(stamps) if stamps else _utc(paper.added_at) or datetime.now(UTC))
    for entry in entries:
        fg.add_entry(entry, order="append")
    return fg.atom_str(pretty=False)

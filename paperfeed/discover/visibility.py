"""Who sees which paper: the one visibility rule, for every surface.

A paper a member submitted and an admin then hid is in no list, feed, search, similar
list or digest; only admins still open it (its page says it is hidden, and they can
show it again). Everyone else gets the 404 of a paper that does not exist, and
cannot vote on it.

Lists apply the rule in SQL where they already filter (store/: a period's list and
its dates, trending's voted papers, a member's upvotes, a filter without a query);
everything else that finds papers goes through this module: a lookup by id
(`lookup`), and papers found by key or by an index (`visible`: search hits, similar
papers, a digest planned before the hide). Surfaces (web, API, feeds, CLI, digests)
only translate: none of them filters on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from ..catalog import Catalog
from ..errors import NotFound
from ..models import StoredPaper, User

T = TypeVar("T")


def lookup(catalog: Catalog, paper_id: str, viewer: User | None = None) -> StoredPaper:
    """The paper `paper_id` (paperfeed or arXiv id) as `viewer` may see it; NotFound if
    there is none, or if it is hidden and the viewer is not an admin."""
    paper = catalog.store.papers.get(paper_id)
    if paper is None or (not (viewer and viewer.is_admin)
                         and catalog.store.community.hidden([paper.key])):
        raise NotFound(f"no paper with id {paper_id!r}")
    return paper


def visible(catalog: Catalog, items: Sequence[T], key: Callable[[T], int]) -> list[T]:
    """`items` (papers, hits, ranked keys) without the hidden ones, in their order:
    one indexed query for the lot."""
    hidden = catalog.store.community.hidden([key(item) for item in items])
    return [item for item in items if key(item) not in hidden] if hidden else list(items)

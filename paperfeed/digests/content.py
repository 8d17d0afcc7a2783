"""What goes into a digest: the period it covers and the papers it offers.

- Trending: the period's papers ranked as the site's "trending" sort ranks
  them (most upvoted first, then the list's own order), so a digest shows what
  the site shows.
- Saved search: the period's papers ranked by the same hybrid search as the
  site, kept only if they clear the relevance floor every surface uses
  (discover/relevance.py: a cosine to the query at least STRONG, or at least
  WEAK with the query's words in the paper). An empty period then sends
  nothing rather than the least bad papers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..catalog import Catalog
from ..discover import daily
from ..discover.relevance import close_hits
from ..discover.search import Filters, search

CANDIDATES = 60  # more than a digest shows: some were sent before, to this address


@dataclass(frozen=True)
class DigestPeriod:
    frequency: str
    key: str  # 'daily:2026-11-24', 'weekly:2026-W48': one digest per subscription per key
    start: date
    end: date

    @property
    def label(self) -> str:
        return period_label(self.key)


def period_label(key: str) -> str:
    """'daily:2026-11-24' → 'Tuesday, November 24, 2026'; 'weekly:2026-W48' → 'Week 48, 2026'."""
    kind, _, value = key.partition(":")
    if kind == "daily":
        return date.fromisoformat(value).strftime("%A, %B %-d, %Y")
    year, _, week = value.partition("-W")
    return f"Week {int(week)}, {year}"


def digest_period(frequency: str, now: datetime | None = None) -> DigestPeriod:
    """The period a digest sent `now` covers: the last two days for a daily digest
    (arXiv lists papers a day after submission), the last seven for a weekly one."""
    today = (now or datetime.now(UTC)).date()
    if frequency == "daily":
        return DigestPeriod("daily", f"daily:{today.isoformat()}", today - timedelta(days=1),
                            today)
    year, week, _ = today.isocalendar()
    return DigestPeriod("weekly", f"weekly:{year}-W{week:02d}", today - timedelta(days=6),
                        today)


def trending_candidates(catalog: Catalog, period: DigestPeriod,
                        limit: int = CANDIDATES) -> list[int]:
    papers = daily.listing(catalog, period.start, period.end, limit, sort="trending")
    return [p.key for p in papers]


def search_candidates(catalog: Catalog, query: str, period: DigestPeriod,
                      limit: int = CANDIDATES) -> list[int]:
    hits = search(catalog, query, limit=limit,
                  filters=Filters(date_from=period.start, date_to=period.end))
    return [hit.paper.key for hit in close_hits(catalog, query, hits)]

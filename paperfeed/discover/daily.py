"""Daily, weekly and monthly lists of papers, with navigation between them.

The rules every surface shares live here: how a period is written (`parse_period`),
the sort names (`SORTS`) and what each means to the store. A hidden paper is in
no list (the store's SQL leaves it out; see visibility.py).
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from ..catalog import Catalog
from ..errors import BadRequest
from ..models import StoredPaper

Kind = Literal["day", "week", "month"]
# Public sort names (URLs, API, feeds) -> the store's order: "trending" is most upvoted
# first, then newest.
SORTS = {"trending": "votes", "newest": "newest"}
DEFAULT_SORT = "trending"


@dataclass(frozen=True)
class Period:
    kind: Kind
    start: date
    end: date

    @property
    def key(self) -> str:
        """The URL form: 2025-08-01, 2025-W31, 2025-08."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A, %B %-d, %Y")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return (f"Week {week}, {year} · {self.start.strftime('%b %-d')} – "
                    f"{self.end.strftime('%b %-d')}")
        return self.start.strftime("%B %Y")

    def containing(self, day: date) -> Period:
        return period_of(self.kind, day)


def period_of(kind: Kind, day: date) -> Period:
    if kind == "day":
        return Period("day", day, day)
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return Period("week", start, start + timedelta(days=6))
    last = calendar.monthrange(day.year, day.month)[1]
    return Period("month", day.replace(day=1), day.replace(day=last))


def parse_period(*, day: str | None = None, week: str | None = None,
                 month: str | None = None) -> Period | None:
    """From `date=2025-08-01`, `week=2025-W31` or `month=2025-08`; None if none given."""
    given = [(k, v) for k, v in (("day", day), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadRequest("give only one of date, week, month")
    if not given:
        return None
    kind, value = given[0]
    try:
        if kind == "day":
            return period_of("day", date.fromisoformat(value))
        if kind == "week":
            match = re.fullmatch(r"(\d{4})-W(\d{1,2})", value)
            if not match:
                raise ValueError
            return period_of("week", date.fromisocalendar(int(match[1]), int(match[2]), 1))
        match = re.fullmatch(r"(\d{4})-(\d{1,2})", value)
        if not match:
            raise ValueError
        return period_of("month", date(int(match[1]), int(match[2]), 1))
    except ValueError:
        examples = {"day": "2025-08-01", "week": "2025-W31", "month": "2025-08"}
        raise BadRequest(f"{'date' if kind == 'day' else kind}={value!r} is not valid; "
                         f"expected e.g. {examples[kind]}") from None
    except OverflowError:  # e.g. 9999-W52 ends in year 10000, past what `date` can hold
        raise BadRequest(f"{'date' if kind == 'day' else kind}={value!r} is past the "
                         f"last {kind} this calendar holds") from None


def parse_sort(raw: str | None) -> str:
    """A sort name from a request; the default when none is given."""
    if raw is None:
        return DEFAULT_SORT
    if raw not in SORTS:
        raise BadRequest(f"sort={raw!r}: use one of {', '.join(SORTS)}")
    return raw


def listing(catalog: Catalog, start: date, end: date, limit: int, offset: int = 0, *,
            sort: str = DEFAULT_SORT, submitter: str | None = None,
            category: str | None = None) -> list[StoredPaper]:
    """The papers listed in [start, end], in the order a sort name says (only those
    `submitter` submitted, and only those in `category`, if given)."""
    return catalog.store.papers.between(start, end, limit, offset, sort=SORTS[sort],
                                        submitter=submitter, category=category)


def count(catalog: Catalog, period: Period, category: str | None = None) -> int:
    return catalog.store.papers.count_between(period.start, period.end, category)


def latest_period(catalog: Catalog, kind: Kind = "day") -> Period | None:
    """The period of `kind` holding the latest day with papers."""
    latest = catalog.store.papers.latest_date()
    return period_of(kind, latest) if latest else None


def new_from(catalog: Catalog, new_hours: int) -> date | None:
    """The first listing day whose papers count as new: those within `new_hours` of the
    newest listing day (24 hours: that day only).

    "New" means new to the site's daily stream, measured against the stream and not
    against the moment a paper was stored: a fresh install or a bulk ingest of years of
    papers marks only the latest day's, not all of them. It depends on the store alone,
    never on the clock or the visitor, so a shared page stays right until the store
    changes."""
    latest = catalog.store.papers.latest_date()
    if latest is None:
        return None
    return latest - timedelta(days=max(1, math.ceil(new_hours / 24)) - 1)


@dataclass
class Neighbours:
    older: Period | None
    newer: Period | None


def neighbours(catalog: Catalog, period: Period) -> Neighbours:
    """The nearest periods of the same kind, before and after, that have papers."""
    older = catalog.store.papers.nearest_date(period.start, before=True)
    newer = catalog.store.papers.nearest_date(period.end, before=False)
    return Neighbours(period.containing(older) if older else None,
                      period.containing(newer) if newer else None)

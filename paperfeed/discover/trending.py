"""Trending: recent papers ranked by upvotes that fade with the paper's age.

    score = votes × 2^(−age_hours / half_life)        (half-life: 24 h by default)

Age counts from the day a paper was listed: the day a member submitted it,
else the day its first version appeared. So a paper needs twice the votes of
a paper one half-life younger to rank level with it.

Why exponential decay rather than Hacker News' `votes / (age + 2)^1.8`: every
paper's score decays at the same rate, so the order of two papers never flips
while time passes, only when votes arrive. The ranking is the order of
`log2(votes) − age_hours / half_life`, which needs no clock at all, so it can
be cached until the next vote, and it is the same for every reader and every
worker process. A half-life (rather than a gravity exponent) is also a knob a
site owner can reason about: PAPERFEED_TRENDING_HALF_LIFE_HOURS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..catalog import Catalog
from ..models import Voted


@dataclass(frozen=True)
class Trend:
    paper_key: int
    votes: int
    listed_on: date
    score: float  # the decayed vote count, now


def trend_key(votes: int, listed_on: date, half_life_hours: float) -> float:
    """log2 of the score, up to a constant shared by all papers: time-invariant."""
    hours = (listed_on - date(1970, 1, 1)).days * 24
    return math.log2(votes) + hours / half_life_hours


def ranked(catalog: Catalog) -> list[Voted]:
    """Every visible voted paper (the store leaves hidden ones out), best first. Kept on
    the catalog until the next vote, submission or hide: the order does not depend on
    the clock (see above)."""
    community = catalog.store.community
    half_life = catalog.settings.trending_half_life_hours
    return catalog.memo("trending", community.version(), lambda: sorted(
        community.voted_papers(),
        key=lambda v: (trend_key(v.votes, v.listed_on, half_life), v.votes, -v.paper_key),
        reverse=True))


def trending(catalog: Catalog, limit: int, offset: int = 0,
             now: datetime | None = None) -> list[Trend]:
    """A page of the trending order, each paper with its decayed score `now`."""
    half_life_hours = catalog.settings.trending_half_life_hours
    now = now or datetime.now(UTC)
    out = []
    for voted in ranked(catalog)[offset:offset + limit]:
        listed = datetime(voted.listed_on.year, voted.listed_on.month, voted.listed_on.day,
                          tzinfo=UTC)
        age_hours = max(0.0, (now - listed).total_seconds() / 3600)
        out.append(Trend(voted.paper_key, voted.votes, voted.listed_on,
                         voted.votes * 2 ** (-age_hours / half_life_hours)))
    return out

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
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..models import Voted
from ..store import Community


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


_ranked: dict[tuple[str, float], tuple[int, list[Voted]]] = {}
_lock = threading.Lock()


def ranked(community: Community, half_life_hours: float) -> list[Voted]:
    """Every visible voted paper, best first. Cached until the next vote, submission or
    hide: the order does not depend on the clock (see above)."""
    cache_key = (str(community.db.url), half_life_hours)
    version = community.version()
    with _lock:
        cached = _ranked.get(cache_key)
    if cached and cached[0] == version:
        return cached[1]
    order = sorted(community.voted_papers(),
                   key=lambda v: (trend_key(v.votes, v.listed_on, half_life_hours),
                                  v.votes, -v.paper_key), reverse=True)
    with _lock:
        _ranked[cache_key] = (version, order)
    return order


def trending(community: Community, half_life_hours: float, limit: int, offset: int = 0,
             now: datetime | None = None) -> list[Trend]:
    now = now or datetime.now(UTC)
    out = []
    for voted in ranked(community, half_life_hours)[offset:offset + limit]:
        listed = datetime(voted.listed_on.year, voted.listed_on.month, voted.listed_on.day,
                          tzinfo=UTC)
        age_hours = max(0.0, (now - listed).total_seconds() / 3600)
        out.append(Trend(voted.paper_key, voted.votes, voted.listed_on,
                         voted.votes * 2 ** (-age_hours / half_life_hours)))
    return out

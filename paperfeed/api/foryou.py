"""For you in the JSON API: a member's private rating of a paper, and their
recommendations, each with why (the liked papers it is closest to, the words they share).

Both act as a member: a personal token (`Authorization: Bearer pf_…`), or the session
cookie (with the X-CSRF-Token header to rate).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ..discover.foryou import Recommendation, Recommender, Span
from ..discover.visibility import lookup
from ..http.session import api_credentials, current_user, member_credentials, require_member
from .errors import MEMBER_ERRORS
from .routes import _limit
from .shapes import ListItem, Marks, list_item

router = APIRouter(tags=["for you"], dependencies=[Depends(api_credentials)])


class RatingIn(BaseModel):
    rating: Literal[-1, 0, 1] = Field(
        description="1: more like this; -1: less like this; 0: take the rating back")


class RatingOut(BaseModel):
    id: str
    rating: int


class WhyPaper(BaseModel):
    id: str
    title: str


class WhyOut(BaseModel):
    papers: list[WhyPaper] = Field(description="The member's liked papers it is closest to")
    terms: list[str] = Field(description="Key words it shares with them")


class RecommendationItem(ListItem):
    score: float = Field(description="The member model's score (a logit); 0 on the default")
    why: WhyOut | None = Field(description="null on the default list of a member without "
                                           "signals: trending in their categories")


@router.post("/papers/{paper_id:path}/rating", response_model=RatingOut,
             responses=MEMBER_ERRORS, dependencies=[Depends(member_credentials)],
             summary="Rate a paper for your For you list (private; not an upvote)")
def rate(request: Request, paper_id: str, body: RatingIn) -> RatingOut:
    user = require_member(request)
    catalog = request.app.state.catalog
    paper = lookup(catalog, paper_id, current_user(request))
    catalog.store.ratings.rate(user.id, paper.key, body.rating)
    return RatingOut(id=paper.id, rating=body.rating)


@router.get("/recommendations", response_model=list[RecommendationItem],
            responses=MEMBER_ERRORS,
            summary="Your For you list: new papers ranked by your ratings, each with why")
def recommendations(request: Request, limit: int = _limit(30),
                    period: Annotated[Literal["day", "week", "all"], Query(
                        description="The latest day's papers, the latest week's, or all")
                    ] = "day") -> list[RecommendationItem]:
    user = require_member(request)
    recommender: Recommender = request.app.state.recommender
    span: Span = period
    found = recommender.recommend(user.id, span, limit)
    marks = Marks.of(request.app.state.catalog, [item.paper for item in found.items])
    return [RecommendationItem(**list_item(item.paper, marks), score=round(item.score, 4),
                               why=_why(item)) for item in found.items]


def _why(item: Recommendation) -> WhyOut | None:
    if item.why is None:
        return None
    return WhyOut(papers=[WhyPaper(id=p.id, title=p.title) for p in item.why.papers],
                  terms=item.why.terms)

"""The JSON shapes of a paper and of a list item: the public daily-papers API's own.

Field names, nesting (`{"paper": {...}}` items) and timestamps (ISO 8601 UTC with
milliseconds, `2026-08-01T00:00:00.000Z`) are those of the public API, so its clients
(huggingface_hub's `HfApi(endpoint=...)`: `list_daily_papers`, `list_papers`,
`paper_info`) read ours by changing only the endpoint. paperfeed's own fields sit beside
them (`arxivId`, `categories`, `links`, `listedOn`, `score`, ...).

Two dates are kept apart, as the public API does: `paper.publishedAt` is the paper's
publication (its first version; null when unknown), `paper.submittedOnDailyAt` the
moment a member put it on a daily list. An item's own `publishedAt` is when it joined
the daily list (that submission, else the publication) — the public API's meaning.

One function makes each shape; the API's routes and the CLI's `--json` both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from pydantic import BaseModel

from ..catalog import Catalog
from ..discover.search import Hit
from ..discover.similar import shared_terms
from ..models import StoredPaper, Submission


class Author(BaseModel):
    name: str


class Submitter(BaseModel):
    """Who put a paper on a daily list (the public API's user object, trimmed)."""

    user: str
    fullname: str


class PaperOut(BaseModel):
    id: str
    title: str
    summary: str
    authors: list[Author]
    publishedAt: str | None
    submittedOnDailyAt: str | None
    submittedOnDailyBy: Submitter | None
    upvotes: int
    numComments: int
    githubRepo: str | None
    projectPage: str | None
    # paperfeed's own
    listedOn: str | None
    updatedAt: str | None
    categories: list[str]
    arxivId: str | None
    doi: str | None
    version: int | None
    links: dict[str, str]


class ListItem(BaseModel):
    paper: PaperOut
    id: str
    title: str
    publishedAt: str | None
    submittedBy: Submitter | None
    numComments: int
    upvotes: int
    githubRepo: str | None
    projectPage: str | None


class RankedItem(ListItem):
    score: float
    ranks: dict[str, int] = {}
    highlights: dict[str, str] = {}
    sharedTerms: list[str] = []  # similar papers: the words each shares with the paper


class TrendingItem(ListItem):
    score: float


def day_stamp(day: date | None) -> str | None:
    """A day as the public API writes a timestamp: midnight UTC."""
    return f"{day.isoformat()}T00:00:00.000Z" if day else None


def stamp(stored: str) -> str:
    """A stored ISO 8601 UTC timestamp ('2026-08-01T09:54:29+00:00') in the API's form."""
    moment = datetime.fromisoformat(stored)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Marks:
    """What the community added to a batch of papers: votes, submissions and comment
    counts, by key (one query each for the batch)."""

    votes: dict[int, int]
    submissions: dict[int, Submission]
    comments: dict[int, int]

    @classmethod
    def of(cls, catalog: Catalog, papers: Sequence[StoredPaper]) -> Marks:
        keys = [paper.key for paper in papers]
        return cls(catalog.store.community.vote_counts(keys),
                   catalog.store.community.submissions(keys),
                   catalog.store.comments.counts(keys))


def listed_on(paper: StoredPaper, submission: Submission | None) -> date | None:
    """The day a paper joined the daily list: its submission's, else its first version's."""
    return submission.featured_on if submission else paper.published


def paper_out(paper: StoredPaper, marks: Marks) -> PaperOut:
    submission = marks.submissions.get(paper.key)
    by = (Submitter(user=submission.username, fullname=submission.username)
          if submission and submission.username else None)
    return PaperOut(
        id=paper.id, title=paper.title, summary=paper.abstract,
        authors=[Author(name=a) for a in paper.authors],
        publishedAt=day_stamp(paper.published),
        submittedOnDailyAt=stamp(submission.submitted_at) if submission else None,
        submittedOnDailyBy=by, upvotes=marks.votes.get(paper.key, 0),
        numComments=marks.comments.get(paper.key, 0),
        githubRepo=paper.links.get("code"), projectPage=paper.links.get("project"),
        listedOn=_iso(listed_on(paper, submission)), updatedAt=day_stamp(paper.updated),
        categories=paper.categories, arxivId=paper.arxiv_id, doi=paper.doi,
        version=paper.version, links=paper.links,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def list_item(paper: StoredPaper, marks: Marks) -> dict:
    """The fields of a list item; ranked lists add theirs (`score`, ...) beside them."""
    out = paper_out(paper, marks)
    listed = out.submittedOnDailyAt or out.publishedAt
    return {"paper": out, "id": paper.id, "title": paper.title, "publishedAt": listed,
            "submittedBy": out.submittedOnDailyBy, "numComments": out.numComments,
            "upvotes": out.upvotes,
            "githubRepo": out.githubRepo, "projectPage": out.projectPage}


def ranked_items(catalog: Catalog, ranked: Sequence[tuple[StoredPaper, float]],
                 extra: Sequence[dict] | None = None) -> list[RankedItem]:
    """Search hits and similar papers, in rank order (`extra`: per-item ranks, highlights)."""
    marks = Marks.of(catalog, [paper for paper, _ in ranked])
    return [RankedItem(**list_item(paper, marks), score=score,
                       **(extra[i] if extra else {}))
            for i, (paper, score) in enumerate(ranked)]


def search_items(catalog: Catalog, hits: Sequence[Hit]) -> list[RankedItem]:
    """Search hits, with each retriever's rank and the highlighted title and summary."""
    return ranked_items(catalog, [(hit.paper, hit.score) for hit in hits], [
        {"ranks": hit.ranks, "highlights": {"title": str(hit.title_html),
                                            "summary": str(hit.snippet_html)}}
        for hit in hits])


def similar_items(catalog: Catalog, paper: StoredPaper,
                  found: Sequence[tuple[StoredPaper, float]]) -> list[RankedItem]:
    """Similar papers with their cosine to `paper` and the words each shares with it."""
    why = shared_terms(catalog, paper, [other for other, _ in found])
    return ranked_items(catalog, found, [{"sharedTerms": why[other.key]} for other, _ in found])

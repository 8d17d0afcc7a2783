"""Submitting a paper: find it in the store, else ask arXiv, else take it by hand.

A paper is submitted once. Submitting it features it on the day's list; links
to code and a project page may come with it. When arXiv cannot be reached the
member gets a clear message and a form to enter the paper by hand; the record
merges into arXiv's once the paper is harvested (same arXiv id, or same title).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import httpx

from ..catalog import Catalog
from ..errors import ArxivUnavailable, BadRequest, SourceError
from ..models import Paper, StoredPaper, Submission, User, split_arxiv_id
from ..sources import arxiv_api
from ..sources.clean import clean_link

SOURCE = "submission"
MAX_TITLE, MAX_ABSTRACT, MAX_AUTHORS, MAX_URL = 500, 10_000, 200, 2000
ARXIV_TIMEOUT_S = 10.0


@dataclass
class SubmitResult:
    paper: StoredPaper
    submission: Submission
    created: bool  # False: it had been submitted before; this is the existing submission


@dataclass
class ManualPaper:
    title: str
    abstract: str
    authors: list[str]
    arxiv_id: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    published: date | None = None  # the paper's own date; unknown stays unknown


def check_link(name: str, url: str) -> str | None:
    if not url.strip():
        return None
    good = clean_link(url)  # the rule every link at ingest passes
    if good is None or len(good) > MAX_URL:
        raise BadRequest(f"The {name} link must be an http(s) URL.")
    return good


def extra_links(code: str = "", project: str = "") -> dict[str, str]:
    links = {"code": check_link("code", code), "project": check_link("project page", project)}
    return {name: url for name, url in links.items() if url}


def parse_arxiv_ref(text: str) -> str:
    """'2401.01234v2', 'arXiv:2401.01234', an abs/pdf URL → '2401.01234'."""
    split = split_arxiv_id(text)
    if split is None:
        raise BadRequest(f"{text.strip()[:100]!r} is not an arXiv id or arXiv URL "
                         "(e.g. 2401.01234 or https://arxiv.org/abs/2401.01234).")
    return split[0]


def parse_published(text: str, today: date) -> date | None:
    """The publication date a member typed (YYYY-MM-DD), or None if left empty. Never
    the submission day: that is when the paper joined the list, kept apart."""
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"The publication date {text[:40]!r} is not a date like "
                         "2017-06-12; leave it empty if you do not know it.") from None
    if day > today:
        raise BadRequest("The publication date is in the future.")
    return day


def parse_authors(text: str) -> list[str]:
    separators = "\n" if "\n" in text else ","
    authors = [a.strip() for a in text.replace("\r", "").split(separators) if a.strip()]
    if len(authors) > MAX_AUTHORS:
        raise BadRequest(f"At most {MAX_AUTHORS} authors, please.")
    return authors


class Submissions:
    def __init__(self, catalog: Catalog, arxiv_api_url: str) -> None:
        self.catalog = catalog
        self.arxiv_api_url = arxiv_api_url

    def existing(self, ref: str) -> SubmitResult | None:
        paper = self.catalog.store.papers.get(parse_arxiv_ref(ref))
        submission = self.catalog.store.community.submission(paper.key) if paper else None
        if paper is None or submission is None:
            return None
        return SubmitResult(paper, submission, created=False)

    def by_arxiv_id(self, user: User, ref: str, links: dict[str, str]) -> SubmitResult:
        """Raises ArxivUnavailable when the paper is not here and arXiv cannot be asked."""
        arxiv_id = parse_arxiv_ref(ref)
        paper = self.catalog.store.papers.get(arxiv_id)
        if paper is None:
            paper = self._ingest([self._fetch(arxiv_id)])
        return self._feature(user, paper, links)

    def manual(self, user: User, entry: ManualPaper) -> SubmitResult:
        title, abstract = entry.title.strip(), entry.abstract.strip()
        if not title:
            raise BadRequest("A title is required.")
        if len(title) > MAX_TITLE or len(abstract) > MAX_ABSTRACT:
            raise BadRequest(f"Keep the title under {MAX_TITLE} and the abstract under "
                             f"{MAX_ABSTRACT} characters.")
        arxiv_id = parse_arxiv_ref(entry.arxiv_id) if entry.arxiv_id else None
        today = datetime.now(UTC).date()
        paper = self._ingest([Paper(title=title, abstract=abstract, authors=entry.authors,
                                    arxiv_id=arxiv_id, published=entry.published,
                                    source=SOURCE,
                                    source_ref=f"{user.username}@{today.isoformat()}")])
        return self._feature(user, paper, entry.links)

    def _fetch(self, arxiv_id: str) -> Paper:
        try:
            with httpx.Client(timeout=ARXIV_TIMEOUT_S) as client:
                found = arxiv_api.fetch_by_ids([arxiv_id], self.arxiv_api_url, client,
                                               delay_s=0, max_retries=0)
        except SourceError as exc:
            raise ArxivUnavailable(f"arXiv could not be reached ({exc}).") from exc
        if not found:
            raise BadRequest(f"arXiv has no paper {arxiv_id}. Check the id, or enter the "
                             "paper by hand.")
        return found[0]

    def _ingest(self, papers: list[Paper]) -> StoredPaper:
        report = self.catalog.ingest(papers)
        if report.skipped:  # e.g. a title that was nothing but control characters
            raise BadRequest(f"This paper cannot be stored: {report.skipped[0].reason}.")
        self.catalog.index_if_writable()
        stored = self.catalog.store.papers.find(papers[0])
        assert stored is not None
        return stored

    def _feature(self, user: User, paper: StoredPaper, links: dict[str, str]) -> SubmitResult:
        day: date = datetime.now(UTC).date()
        submission, created = self.catalog.store.community.submit(paper.key, user.id, day)
        if created and links:
            self.catalog.store.papers.add_links(paper.key, links)
            paper = self.catalog.store.papers.get(paper.id) or paper
        return SubmitResult(paper, submission, created)

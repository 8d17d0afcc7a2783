"""Plain data objects passed between stages. No I/O here.

A source adapter yields `Paper`s; the store decides identity (one paper, many
versions and sources) and assigns the stable `Paper.id` it serves under, and
the integer `key` every other table, the index files and the outbox refer to.
The store's other nouns (members, submissions, votes, subscriptions, the
outbox) come back as the frozen records below, whatever database holds them.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

ARXIV_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
ARXIV_OLD_ID = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")


def split_arxiv_id(raw: str) -> tuple[str, int | None] | None:
    """'2401.01234v2' -> ('2401.01234', 2); 'cs/9301111' -> ('cs/9301111', None).

    Accepts the forms people paste: bare ids, 'arXiv:' prefixes, abs/pdf URLs.
    Returns None when `raw` is not an arXiv identifier.
    """
    text = raw.strip()
    text = re.sub(r"^(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/", "", text)
    text = re.sub(r"^arxiv:", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\.pdf$", "", text)
    for pattern in (ARXIV_NEW_ID, ARXIV_OLD_ID):
        match = pattern.match(text)
        if match:
            version = int(match.group(2)[1:]) if match.group(2) else None
            return match.group(1), version
    return None


def title_key(title: str) -> str:
    """Identity key for papers that have no arXiv id: case-, accent- and punctuation-blind."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)


def author_key(name: str) -> str:
    """The key that merges one person's name variants, as far as the names alone allow.

    Accents, case and punctuation are folded ("José García-López" and "Jose Garcia Lopez"
    are one key; so are "J.-P. Serre", "J. P. Serre" and "J.P. Serre"). Initials are *not*
    expanded: "J. Smith" stays apart from "John Smith", because arXiv's metadata cannot tell
    which of the several John, Jane or Jun Smiths an initial stands for (the author page
    offers such variants as links instead).
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    key = " ".join(re.split(r"[^a-z0-9]+", folded)).strip()
    return key or " ".join(name.casefold().split())  # a name in another script: as printed


def author_sort_key(key: str) -> str:
    """An `author_key` with its last word first ("john smith" -> "smith john"): the author
    search matches a prefix of either, so people are found by surname too."""
    *first, last = key.split(" ")
    return " ".join([last, *first])


def local_id(title: str) -> str:
    """Stable id for a paper known only by its title (page captures, some BibTeX)."""
    return "pf-" + hashlib.sha1(title_key(title).encode()).hexdigest()[:12]


@dataclass
class Paper:
    """One paper as a source saw it, normalised.

    `arxiv_id` is the id without version ('2401.01234', 'cs/9301111'). Dates are
    the first-version (`published`) and latest-version (`updated`) dates.
    `source`/`source_ref` say where this record came from ('arxiv-jsonl',
    'all.jsonl.xz:17'), `rank` its position on a ranked page capture, if any.
    """

    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
    published: date | None = None
    updated: date | None = None
    categories: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    source: str = ""
    source_ref: str = ""
    rank: int | None = None
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            self.id = self.arxiv_id or local_id(self.title)
        if self.arxiv_id:
            self.links.setdefault("abs", f"https://arxiv.org/abs/{self.arxiv_id}")
            self.links.setdefault("pdf", f"https://arxiv.org/pdf/{self.arxiv_id}")

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass
class SkippedRecord:
    """A record a source could not parse: reported, never fatal to the batch."""

    source_ref: str  # "file:line" or URL
    reason: str


@dataclass
class AmendedRecord:
    """A record stored with changes ingest made to it (a field cut to its limit, a link
    that is not http(s) dropped): reported like a skipped one."""

    source_ref: str
    changes: list[str]

    @property
    def reason(self) -> str:
        return "; ".join(self.changes)


@dataclass
class StoredPaper:
    """A paper as the store serves it: merged over all its sources.

    `key` is the store's internal integer key: stable for the paper's lifetime,
    also the key of its entries in the keyword and vector index files.
    """

    key: int
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    arxiv_id: str | None
    doi: str | None
    published: date | None
    updated: date | None
    version: int | None
    links: dict[str, str]
    added_at: str
    # The day it joined the daily list (its submission's, else its first version's), when
    # read from a period's list; `published` is the paper's own date, never that day.
    listed_on: date | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "categories": self.categories,
            "arxiv_id": self.arxiv_id,
            "doi": self.doi,
            "published": self.published.isoformat() if self.published else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "version": self.version,
            "links": self.links,
        }


@dataclass
class UpsertStats:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: UpsertStats) -> UpsertStats:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


@dataclass(frozen=True)
class IndexRow:
    """What the indexer needs of a changed paper."""

    key: int
    seq: int
    content_hash: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: date | None


@dataclass(frozen=True)
class Sighting:
    """One source a paper was seen in (provenance, and the rank on a ranked capture)."""

    source: str
    ref: str
    rank: int | None
    seen_at: str


@dataclass(frozen=True)
class HarvestCursor:
    """Where a resumable harvest stopped: after its last completed page."""

    name: str
    resumption_token: str | None
    from_date: str | None
    pages: int
    records: int
    last_error: str | None
    updated_at: str


# -- members and the community ----------------------------------------------------


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    is_admin: bool
    created_at: str
    password_hash: str = ""
    email_verified_at: str | None = None  # None until the member clicked the emailed link

    @property
    def verified(self) -> bool:
        """Whether the address is proven theirs: only then does what is tied to it
        (its digest subscriptions) belong to the member."""
        return self.email_verified_at is not None


@dataclass(frozen=True)
class ApiToken:
    """A member's personal API token, as listed; the token itself is shown once."""

    id: int
    label: str
    created_at: str
    last_used_at: str | None


@dataclass(frozen=True)
class Submission:
    paper_key: int
    featured_on: date
    submitted_at: str
    hidden: bool
    username: str | None  # None once the member's account is gone


@dataclass(frozen=True)
class VoteState:
    votes: int
    voted: bool


@dataclass(frozen=True)
class Voted:
    """A paper with votes, and the day its age counts from (for trending)."""

    paper_key: int
    votes: int
    listed_on: date


# -- digests ----------------------------------------------------------------------

FREQUENCIES = ("daily", "weekly")


@dataclass(frozen=True)
class Subscription:
    id: int
    email: str
    user_id: int | None
    frequency: str
    trending: bool
    query: str | None
    status: str
    created_at: str
    confirmed_at: str | None
    failures: int
    last_error: str | None

    @property
    def describe(self) -> str:
        parts = (["trending papers"] if self.trending else []) + (
            [f"new papers matching “{self.query}”"] if self.query else [])
        return f"{self.frequency.capitalize()}: " + " and ".join(parts)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    subscription_id: int
    period: str
    email: str
    sections: dict[str, list[int]]  # section name -> paper keys, in digest order
    message_id: str
    status: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class StoreState:
    """What every rendered page depends on: the papers' change counter (`seq`, bumped by
    every insert or indexed change) and the community's (votes, submissions, hiding)."""

    seq: int
    community: int


# -- a member's library -------------------------------------------------------------


@dataclass(frozen=True)
class Collection:
    """A member's named list of saved papers; private unless `share_token` is set (then
    anyone with the link `/c/{share_token}` may read it)."""

    id: int
    user_id: int
    name: str
    share_token: str | None
    created_at: str
    count: int = 0  # papers in it, when read with counts


# -- a member's own signals ("For you") ----------------------------------------------


@dataclass(frozen=True)
class Rating:
    """A member's private "more like this" (+1) / "less like this" (-1) on a paper."""

    paper_key: int
    rating: int
    rated_at: str


@dataclass(frozen=True)
class Signals:
    """What a member's model learns from: papers rated +1, upvoted or saved (positive),
    rated -1 (negative; a -1 wins over an upvote or a save of the same paper), and the
    arXiv categories they picked to start from."""

    positive: tuple[int, ...]
    negative: tuple[int, ...]
    categories: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.positive and not self.negative


@dataclass(frozen=True)
class FeedToken:
    """A member's private Atom feed token, as listed; the token itself is shown once."""

    id: int
    created_at: str


# -- discussion -------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    """A member's comment on a paper, as the store keeps it (Markdown, not rendered).

    In a thread listing, a deleted or hidden comment that is still shown (it has replies)
    has an empty `body`: only its place in the thread is kept."""

    id: int
    paper_key: int
    user_id: int | None  # None once the member's account is gone
    username: str | None
    parent_id: int | None  # a top-level comment's id, or None for a top-level one
    body: str
    created_at: str
    edited_at: str | None
    deleted: bool
    hidden: bool
@dataclass(frozen=True)
class AuthorCount:
    """An author (the merged `key`, a name printed for it) and a number of papers:
    theirs, or shared with someone else."""

    key: str
    name: str
    papers: int


@dataclass(frozen=True)
class AuthorProfile:
    """What an author page shows besides the list: the names printed for this key, their
    categories and co-authors by number of papers, and other keys that may be the same
    person (an initial for a first name) but are not merged."""

    key: str
    name: str
    papers: int
    names: list[tuple[str, int]]
    categories: list[tuple[str, int]]
    coauthors: list[AuthorCount]
    variants: list[AuthorCount]

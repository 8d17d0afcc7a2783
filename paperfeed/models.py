"""Plain data objects passed between stages. No I/O here.

A source adapter yields `Paper`s; the store decides identity (one paper, many
versions and sources) and assigns the stable `Paper.id` it serves under.
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
class StoredPaper:
    """A paper as the store serves it: merged over all its sources."""

    rowid: int
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

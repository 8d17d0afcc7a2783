"""The one gate every paper passes on its way to the store, whatever its source.

Sources parse; this step decides what of a parsed `Paper` may be kept. It runs in
`Catalog.ingest`, the one way into the store used by file ingest, OAI-PMH harvests,
the arXiv query API, manual submissions and the demo corpus, so no source can forget
it. Three rules:

- Text: NUL, the other C0 and C1 control characters, DEL and lone surrogates are
  removed from every text field (they reach HTML, JSON and SQLite, none of which
  wants them); tab and newline stay, a carriage return becomes a newline.
- Links: only absolute http(s) URLs with a host survive. `javascript:`, `data:`,
  relative or malformed ones are dropped, and reported.
- Sizes: each field has a limit, generous for real papers. Measured on the 588,238
  papers of `all.jsonl.xz`: the longest title has 371 characters, the longest
  abstract 5,086 (arXiv caps new ones at 1,920, 366 older ones are longer), the
  longest author list 1,101 names (the largest real ones reach ~5,200), the longest
  author name 123, at most 13 categories of at most 18 characters, DOIs up to 138
  characters, arXiv ids up to 16. A record over a limit is not a paper as its source
  meant it: an over-long title (usually a whole abstract in the title field) or id
  skips the record, since identity is derived from both; an over-long abstract or
  author list is cut to the limit, an over-long author name, category, DOI or link
  is dropped. Each change is reported against the record's `file:line`.

Nothing already stored is touched: the limits apply to what comes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..models import Paper, SkippedRecord

__all__ = ["LIMITS", "admit", "clean_link", "clean_text"]


@dataclass(frozen=True)
class Limits:
    title: int = 2_000  # 5x the longest real title
    abstract: int = 20_000  # 4x the longest real abstract
    authors: int = 10_000  # about twice the longest real author lists
    author: int = 300  # a name, or a collaboration's name
    categories: int = 50
    category: int = 40
    doi: int = 300
    arxiv_id: int = 64
    links: int = 20
    link_name: int = 40
    url: int = 2_000  # what browsers and servers reliably accept
    version: int = 10_000  # arXiv versions are counted in ones; SQLite ints stop at 2**63
    source_ref: int = 500


LIMITS = Limits()

# C0 except tab/newline/CR, DEL, C1, and UTF-16 surrogates (invalid alone, SQLite refuses).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_DIRTY = re.compile("[\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
# The shape nearly every real link has, accepted without parsing; anything else (user
# info, IPv6, non-ASCII hosts) goes through urlsplit. Parsing every link cost 40 µs of
# the gate's 85 µs per arXiv paper; this way the gate costs ~10 µs (see admit).
_PLAIN_URL = re.compile(r"https?://[a-z0-9][a-z0-9.-]*(?::[0-9]{1,5})?(?:[/?#][!-~]*)?",
                        re.IGNORECASE)


def clean_text(text: str) -> str:
    """`text` without control characters; CR and CRLF become newlines."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A search first: most text has nothing to remove, and searching is cheaper than sub.
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def clean_link(url: str) -> str | None:
    """`url` if it is an absolute http(s) URL with a host and fits the limit, else None."""
    url = url.strip()
    if not url or len(url) > LIMITS.url:
        return None
    if _PLAIN_URL.fullmatch(url):
        return url
    if _NOT_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" in the host
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None


def admit(paper: Paper) -> tuple[Paper | SkippedRecord, list[str]]:
    """Clean `paper` in place and apply the limits (see the module docstring): the paper
    to store, or the record skipped, and the changes made to it.

    Cost: one search over all of a paper's text decides whether any field needs
    cleaning, so a clean paper costs a few length checks and its links: ~10 µs per
    arXiv paper (measured on cs.jsonl.xz), against ~100 µs for parsing and storing it.
    """
    changes: list[str] = []
    texts = (paper.title, paper.abstract, paper.source_ref, paper.doi or "", *paper.authors,
             *paper.categories)
    dirty = _DIRTY.search("".join(texts)) is not None
    if dirty:
        paper.source_ref = clean_text(paper.source_ref)
        paper.title = clean_text(paper.title).strip()
        paper.abstract = clean_text(paper.abstract)
    paper.source_ref = paper.source_ref[: LIMITS.source_ref]
    problem = _identity_problem(paper)
    if problem:
        return SkippedRecord(paper.source_ref, problem), changes
    paper.abstract = _abstract(paper.abstract, changes)
    paper.authors = _names(paper.authors, dirty, LIMITS.authors, LIMITS.author, "author list",
                           "an author name", changes)
    paper.categories = _names(paper.categories, dirty, LIMITS.categories, LIMITS.category,
                              "categories", "a category", changes)
    paper.doi = _doi(paper.doi, changes)
    paper.links = _links(paper.links, changes)
    if paper.version is not None and not 0 <= paper.version <= LIMITS.version:
        changes.append(f"dropped version {str(paper.version)[:20]}: out of range")
        paper.version = None
    return paper, changes


def _identity_problem(paper: Paper) -> str | None:
    if not paper.title:
        return "no title (after removing control characters)"
    if len(paper.title) > LIMITS.title:
        return (f"title of {len(paper.title):,} characters (limit {LIMITS.title:,}): "
                f"not a title; starts {paper.title[:60]!r}")
    if paper.arxiv_id is not None and len(paper.arxiv_id) > LIMITS.arxiv_id:
        return f"arXiv id of {len(paper.arxiv_id):,} characters (limit {LIMITS.arxiv_id})"
    if len(paper.id) > LIMITS.arxiv_id:
        return f"id of {len(paper.id):,} characters (limit {LIMITS.arxiv_id})"
    return None


def _abstract(text: str, changes: list[str]) -> str:
    if len(text) <= LIMITS.abstract:
        return text
    cut = text[: LIMITS.abstract - 1]
    space = cut.rfind(" ", LIMITS.abstract - 200)  # end on a word when one ends nearby
    changes.append(f"abstract cut from {len(text):,} to {LIMITS.abstract:,} characters")
    return (cut[:space] if space > 0 else cut).rstrip() + "…"


def _names(names: list[str], dirty: bool, count: int, size: int, plural: str,
           one: str, changes: list[str]) -> list[str]:
    """Authors or categories: at most `count`, each cleaned, a name over `size` dropped."""
    if len(names) > count:
        changes.append(f"{plural} cut from {len(names):,} to {count:,}")
        names = names[:count]
    if dirty:
        names = [clean_text(name).strip() for name in names]
    if names and max(map(len, names)) > size:
        for name in names:
            if len(name) > size:
                changes.append(f"dropped {one} of {len(name):,} characters (limit {size})")
        names = [name for name in names if len(name) <= size]
    return [name for name in names if name] if dirty else names


def _doi(doi: str | None, changes: list[str]) -> str | None:
    if doi is None:
        return None
    doi = clean_text(doi).strip()  # cheap: one search on a short string
    if len(doi) > LIMITS.doi:
        changes.append(f"dropped a DOI of {len(doi):,} characters (limit {LIMITS.doi})")
        return None
    return doi or None


def _links(links: dict[str, str], changes: list[str]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name, url in links.items():
        name = clean_text(name).strip()
        good = clean_link(url) if isinstance(url, str) else None
        if good is None:
            changes.append(f"dropped link {name[:LIMITS.link_name]!r}: "
                           f"not an http(s) URL ({str(url)[:40]!r})")
        elif not name or len(name) > LIMITS.link_name or len(kept) >= LIMITS.links:
            changes.append(f"dropped link {name[:LIMITS.link_name]!r}: over the limits "
                           f"({LIMITS.links} links, names of {LIMITS.link_name} characters)")
        else:
            kept[name] = good
    return kept

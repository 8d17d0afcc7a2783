"""Fetch papers from the arXiv query API (Atom): by id list, or by search query.

`fetch_by_ids` checks every id locally first (a malformed id is a SourceError
before any request), asks in batches, and silently omits ids arXiv does not
know (the API does the same). An Atom "Error" entry (`<id>` under
`/api/errors`; arXiv sends it with HTTP 400 for a bad id or query) raises
SourceError with arXiv's message: the whole request failed, so there is no
partial answer to keep. Same politeness and retries as the OAI harvester.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date

import httpx
from lxml import etree

from ..errors import SourceError
from ..models import Paper, split_arxiv_id
from .http import PoliteFetcher
from .textfix import normalize_space

__all__ = ["DEFAULT_API_URL", "fetch_by_ids", "parse_feed", "search"]

SOURCE = "arxiv-api"
DEFAULT_API_URL = "https://export.arxiv.org/api/query"
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ID_BATCH = 100  # keeps the URL short; the API allows more
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def _text(parent: etree._Element, tag: str) -> str:
    node = parent.find(tag)
    return normalize_space(node.text) if node is not None and node.text else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _entry(entry: etree._Element, url: str) -> Paper:
    raw_id = _text(entry, ATOM + "id")
    if "/api/errors" in raw_id or _text(entry, ATOM + "title") == "Error" and not raw_id:
        message = _text(entry, ATOM + "summary") or raw_id
        raise SourceError(f"arXiv API rejected the request: {message}")
    split = split_arxiv_id(raw_id)
    if split is None:
        raise SourceError(f"{url}: entry id {raw_id!r} is not an arXiv id")
    primary = entry.find(ARXIV + "primary_category")
    categories = [primary.get("term", "")] if primary is not None else []
    for category in entry.iterfind(ATOM + "category"):
        term = category.get("term", "")
        if term and term not in categories:
            categories.append(term)
    links: dict[str, str] = {}
    for link in entry.iterfind(ATOM + "link"):
        href = link.get("href", "")
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            links["pdf"] = href
        elif link.get("rel") == "alternate":
            links["abs"] = href
        elif link.get("title") == "doi":
            links["doi"] = href
    doi = _text(entry, ARXIV + "doi")
    published = _date(_text(entry, ATOM + "published"))
    return Paper(
        title=_text(entry, ATOM + "title"),
        abstract=_text(entry, ATOM + "summary"),
        authors=[_text(a, ATOM + "name") for a in entry.iterfind(ATOM + "author")],
        arxiv_id=split[0],
        version=split[1],
        doi=doi.split()[0] if doi else None,
        published=published,
        updated=_date(_text(entry, ATOM + "updated")) or published,
        categories=[c for c in categories if c],
        links=links,
        source=SOURCE,
        source_ref=raw_id,
    )


def parse_feed(content: bytes, url: str = "") -> tuple[list[Paper], int | None]:
    """Atom feed -> (papers, opensearch:totalResults)."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"{url}: arXiv API answer is not XML: {exc}") from exc
    if root is None or root.tag != ATOM + "feed":
        raise SourceError(f"{url}: arXiv API answer is not an Atom feed")
    papers = [_entry(e, url) for e in root.iterfind(ATOM + "entry")]
    total = _text(root, OPENSEARCH + "totalResults")
    return papers, int(total) if total.isdigit() else None


def _query(
    fetcher: PoliteFetcher, base_url: str, params: dict[str, str]
) -> tuple[list[Paper], int | None]:
    response = fetcher.get(base_url, params)
    if response.status_code != 200:
        # A 400 carries an Atom error entry: parse_feed raises with arXiv's message.
        try:
            parse_feed(response.content, str(response.url))
        except SourceError:
            raise
        raise SourceError(f"{response.url}: HTTP {response.status_code} from the arXiv API")
    return parse_feed(response.content, str(response.url))


def fetch_by_ids(
    ids: Iterable[str],
    base_url: str = DEFAULT_API_URL,
    client: httpx.Client | None = None,
    *,
    delay_s: float = 3.0,
    max_retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Paper]:
    """Papers for the given ids (bare, versioned, 'arXiv:' or abs/pdf URLs), in API order."""
    wanted: list[str] = []
    for raw in ids:
        split = split_arxiv_id(raw)
        if split is None:
            raise SourceError(f"not an arXiv id: {raw!r}")
        wanted.append(f"{split[0]}v{split[1]}" if split[1] else split[0])
    papers: list[Paper] = []
    with PoliteFetcher(client, delay_s=delay_s, max_retries=max_retries, sleep=sleep) as fetcher:
        for start in range(0, len(wanted), ID_BATCH):
            batch = wanted[start : start + ID_BATCH]
            params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
            found, _ = _query(fetcher, base_url, params)
            papers.extend(found)
    return papers


def search(
    query: str,
    max_results: int = 100,
    base_url: str = DEFAULT_API_URL,
    client: httpx.Client | None = None,
    *,
    page_size: int = 100,
    sort_by: str = "relevance",
    delay_s: float = 3.0,
    max_retries: int = 5,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Paper]:
    """Yield up to `max_results` papers for an API `search_query`, paging with start=."""
    if not query.strip():
        raise SourceError("empty arXiv search query")
    with PoliteFetcher(client, delay_s=delay_s, max_retries=max_retries, sleep=sleep) as fetcher:
        start = 0
        while start < max_results:
            size = min(page_size, max_results - start)
            params = {
                "search_query": query,
                "start": str(start),
                "max_results": str(size),
                "sortBy": sort_by,
            }
            papers, total = _query(fetcher, base_url, params)
            yield from papers
            start += len(papers)
            if not papers or (total is not None and start >= total):
                return

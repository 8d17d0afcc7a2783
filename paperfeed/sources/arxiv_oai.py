"""Harvest arXiv over OAI-PMH (`ListRecords`, `metadataPrefix=arXiv`), page by page.

The caller stores each page's papers and then persists `page.next_token`; on
restart it passes that token to `iter_pages` and the harvest resumes after the
last completed page. `noRecordsMatch` means an empty harvest (no pages), any
other OAI error (`badResumptionToken`, `badArgument`, ...) is a HarvestError.
Deleted records (`<header status="deleted">`) are listed in `page.deleted`
and produce no Paper.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx
from lxml import etree

from ..errors import HarvestError
from ..models import Paper, SkippedRecord, split_arxiv_id
from .http import PoliteFetcher, Retry
from .textfix import normalize_space

__all__ = ["DEFAULT_OAI_URL", "HarvestPage", "OaiHarvester", "parse_list_records"]

SOURCE = "arxiv-oai"
DEFAULT_OAI_URL = "https://oaipmh.arxiv.org/oai"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
# No DTDs, no entities, no network: responses are data, never instructions.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


@dataclass
class HarvestPage:
    papers: list[Paper] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)
    next_token: str | None = None
    complete_list_size: int | None = None
    deleted: list[str] = field(default_factory=list)  # OAI identifiers


def _text(parent: etree._Element, tag: str) -> str:
    node = parent.find(tag)
    return normalize_space(node.text or "") if node is not None and node.text else ""


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _author(node: etree._Element) -> str:
    parts = [_text(node, ARXIV + tag) for tag in ("forenames", "keyname", "suffix")]
    return " ".join(p for p in parts if p)


def _record(meta: etree._Element, ref: str) -> Paper | SkippedRecord:
    raw_id = _text(meta, ARXIV + "id")
    title = _text(meta, ARXIV + "title")
    if not raw_id:
        return SkippedRecord(ref, "record has no arXiv id")
    if not title:
        return SkippedRecord(ref, f"record {raw_id} has no title")
    split = split_arxiv_id(raw_id)
    if split is None:
        return SkippedRecord(ref, f"not an arXiv id: {raw_id[:60]!r}")
    authors = [_author(a) for a in meta.iterfind(f"{ARXIV}authors/{ARXIV}author")]
    created = _date(_text(meta, ARXIV + "created"))
    updated = _date(_text(meta, ARXIV + "updated"))
    doi = _text(meta, ARXIV + "doi")
    links: dict[str, str] = {}
    if doi:
        links["doi"] = f"https://doi.org/{doi.split()[0]}"
    license_url = _text(meta, ARXIV + "license")
    if license_url:
        links["license"] = license_url
    return Paper(
        title=title,
        abstract=_text(meta, ARXIV + "abstract"),
        authors=[a for a in authors if a],
        arxiv_id=split[0],
        version=split[1],
        doi=doi.split()[0] if doi else None,  # a few records list several DOIs
        published=created,
        updated=updated or created,
        categories=_text(meta, ARXIV + "categories").split(),
        links=links,
        source=SOURCE,
        source_ref=ref,
    )


def parse_list_records(content: bytes, url: str = "") -> HarvestPage | None:
    """One ListRecords response -> HarvestPage; None for `noRecordsMatch`."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise HarvestError(f"{url}: response is not XML: {exc}") from exc
    if root is None or root.tag != OAI + "OAI-PMH":
        raise HarvestError(f"{url}: not an OAI-PMH response")
    errors = root.findall(OAI + "error")
    if errors:
        codes = [e.get("code", "") for e in errors]
        if codes == ["noRecordsMatch"]:
            return None
        detail = "; ".join(f"{e.get('code')}: {normalize_space(e.text or '')}" for e in errors)
        raise HarvestError(f"{url}: OAI-PMH error {detail}")
    list_records = root.find(OAI + "ListRecords")
    if list_records is None:
        raise HarvestError(f"{url}: OAI-PMH response has no ListRecords element")
    page = HarvestPage()
    for record in list_records.iterfind(OAI + "record"):
        header = record.find(OAI + "header")
        identifier = _text(header, OAI + "identifier") if header is not None else ""
        if header is not None and header.get("status") == "deleted":
            page.deleted.append(identifier)
            continue
        meta = record.find(f"{OAI}metadata/{ARXIV}arXiv")
        ref = identifier or url
        if meta is None:
            page.skipped.append(SkippedRecord(ref, "record without arXiv metadata"))
            continue
        result = _record(meta, ref)
        if isinstance(result, Paper):
            page.papers.append(result)
        else:
            page.skipped.append(result)
    token = list_records.find(OAI + "resumptionToken")
    if token is not None:
        page.next_token = (token.text or "").strip() or None  # empty token = last page
        size = token.get("completeListSize")
        page.complete_list_size = int(size) if size and size.isdigit() else None
    return page


class OaiHarvester:
    """Iterate the pages of one selective harvest (set + date range)."""

    def __init__(
        self,
        base_url: str = DEFAULT_OAI_URL,
        set_spec: str | None = "cs",
        from_date: date | str | None = None,
        until: date | str | None = None,
        client: httpx.Client | None = None,
        delay_s: float = 3.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        metadata_prefix: str = "arXiv",
        on_retry: Callable[[Retry], object] | None = None,
    ) -> None:
        self.base_url = base_url
        self.set_spec = set_spec
        self.from_date = str(from_date) if from_date else None
        self.until = str(until) if until else None
        self.metadata_prefix = metadata_prefix
        self.fetcher = PoliteFetcher(client, delay_s=delay_s, max_retries=max_retries, sleep=sleep,
                                     on_retry=on_retry)

    def _params(self, token: str | None) -> dict[str, str]:
        if token:  # the token carries the original arguments; OAI forbids repeating them
            return {"verb": "ListRecords", "resumptionToken": token}
        params = {"verb": "ListRecords", "metadataPrefix": self.metadata_prefix}
        if self.set_spec:
            params["set"] = self.set_spec
        if self.from_date:
            params["from"] = self.from_date
        if self.until:
            params["until"] = self.until
        return params

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> OaiHarvester:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def iter_pages(self, resumption_token: str | None = None) -> Iterator[HarvestPage]:
        """Yield pages until the last one (empty or missing resumptionToken)."""
        token = resumption_token
        while True:
            response = self.fetcher.get(self.base_url, self._params(token))
            if response.status_code != 200:
                # Some servers send OAI errors with a 4xx status: report the OAI error then.
                try:
                    page = parse_list_records(response.content, str(response.url))
                except HarvestError as exc:
                    if "OAI-PMH error" in str(exc):
                        raise
                else:
                    if page is None:
                        return
                raise HarvestError(
                    f"{response.url}: HTTP {response.status_code} from the OAI-PMH server"
                )
            page = parse_list_records(response.content, str(response.url))
            if page is None:  # noRecordsMatch: nothing new, not an error
                return
            yield page
            if not page.next_token:
                return
            token = page.next_token

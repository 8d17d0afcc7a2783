"""Harvesting arXiv by OAI-PMH into the store: resumable, one page per transaction.

Used by `paperfeed harvest arxiv` and by the worker's schedule (`harvest_recent`). The
endpoint has no default here: callers pass `settings.arxiv_oai_url`
(PAPERFEED_ARXIV_OAI_URL, or `--url`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..catalog import Catalog, IngestReport
from ..errors import PaperfeedError
from ..settings import Settings
from ..sources.arxiv_oai import HarvestPage, OaiHarvester
from ..sources.http import Retry

LEASE_S = 6 * 3600  # longer than any harvest; a crashed harvester's lease lapses after it
RECENT_DAYS = 3  # arXiv lists late and revises: each run re-reads the last three days
log = logging.getLogger("paperfeed.jobs.harvest")


@dataclass
class HarvestResult:
    pages: int
    records: int
    resumed: bool


def harvest_arxiv(catalog: Catalog, *, url: str, set_spec: str, from_date: str | None = None,
                  until: str | None = None, delay_s: float = 3.0,
                  max_retries: int = 5, restart: bool = False,
                  on_page: Callable[[HarvestPage, IngestReport], object] | None = None,
                  on_retry: Callable[[Retry], object] | None = None) -> HarvestResult:
    name = f"arxiv-oai:{set_spec}:{from_date or ''}:{until or ''}"
    cursor = None if restart else catalog.store.harvests.cursor(name)
    token = cursor.resumption_token if cursor else None
    pages = cursor.pages if cursor and token else 0
    records = cursor.records if cursor and token else 0
    harvester = OaiHarvester(base_url=url, set_spec=set_spec, from_date=from_date,
                             until=until, delay_s=delay_s, max_retries=max_retries,
                             on_retry=on_retry)
    for page in harvester.iter_pages(resumption_token=token):
        report = catalog.ingest(page.papers)
        pages += 1
        records += len(page.papers)
        # Only after the page is stored: a crash redoes at most one page.
        catalog.store.harvests.save(name, resumption_token=page.next_token,
                                    from_date=from_date, pages=pages, records=records)
        if on_page:
            on_page(page, report)
    return HarvestResult(pages, records, resumed=bool(token))


def harvest_recent(catalog: Catalog, settings: Settings, owner: str) -> HarvestResult | None:
    """The scheduled harvest: the last days of `settings.harvest_set`, then indexed.

    One process at a time across hosts: it runs under the store's "harvest" lease, and
    returns None at once when another `owner` holds it. Failures are logged, not raised.
    """
    leases = catalog.store.leases
    if not leases.acquire("harvest", owner, LEASE_S):
        log.info("another process is harvesting; skipped")
        return None
    try:
        since = (datetime.now(UTC) - timedelta(days=RECENT_DAYS)).date().isoformat()
        result = harvest_arxiv(catalog, set_spec=settings.harvest_set, from_date=since,
                               url=settings.arxiv_oai_url,
                               on_retry=lambda retry: log.warning("%s", retry))
        catalog.reindex()
        log.info("harvested %d records in %d pages", result.records, result.pages)
        return result
    except PaperfeedError as exc:
        log.error("harvest failed: %s", exc)
        return None
    finally:
        leases.release("harvest", owner)

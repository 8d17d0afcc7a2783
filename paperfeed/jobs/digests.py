"""The scheduled digest jobs: a period's digests, and outbox deliveries between runs.

Both are safe to run in several processes at once: planning is idempotent per subscription
and period, and each digest is claimed by one sender (digests/outbox.py).
"""

from __future__ import annotations

import logging

from ..catalog import Catalog
from ..digests import DigestSender
from ..errors import PaperfeedError
from ..settings import Settings

log = logging.getLogger("paperfeed.jobs.digests")


def send_digests(catalog: Catalog, settings: Settings, frequency: str) -> None:
    """Plan and send `frequency`'s digests; temporary failures are left to `deliver_due`.
    The caller brings the indexes up to date first: saved searches run on them."""
    try:
        report = DigestSender(catalog, settings).send(frequency, max_wait_s=0)
        log.info("%s digests: %s", frequency, report.summary())
    except PaperfeedError as exc:
        log.error("%s digests failed: %s", frequency, exc)


def deliver_due(catalog: Catalog, settings: Settings) -> None:
    """Deliver whatever is due: retries, and digests another process left behind."""
    try:
        report = DigestSender(catalog, settings).deliver()
        if report.sent or report.failed or report.retried:
            log.info("outbox: %s", report.summary())
    except PaperfeedError as exc:
        log.error("outbox delivery failed: %s", exc)

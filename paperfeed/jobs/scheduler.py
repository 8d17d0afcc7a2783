"""`paperfeed worker`: harvesting and digests on a schedule (APScheduler cron triggers).

Safe to run as several processes: a harvest takes a lease in the database so
only one process harvests at a time; digest planning is idempotent per
subscription and period, and each digest is claimed by one sender (see
`digests.outbox`). So a second worker, or a `paperfeed digest send` run by
hand, never sends anything twice.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..catalog import Catalog
from ..digests import DigestSender
from ..errors import ConfigError, PaperfeedError
from ..settings import Settings
from ..store.digests import DigestStore
from .harvest import harvest_arxiv

log = logging.getLogger("paperfeed.worker")
HARVEST_LEASE_S = 6 * 3600


def cron(expression: str, setting: str) -> CronTrigger:
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise ConfigError(f"PAPERFEED_{setting.upper()}={expression!r} is not a cron "
                          f"expression ({exc})") from None


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.catalog = Catalog(settings)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def harvest(self) -> None:
        if not self.settings.harvest_set:
            return
        digests = DigestStore(self.catalog.store)
        if not digests.try_lock("harvest", self.owner, HARVEST_LEASE_S):
            log.info("another process is harvesting; skipped")
            return
        try:
            since = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
            result = harvest_arxiv(self.catalog, set_spec=self.settings.harvest_set,
                                   from_date=since, url=self.settings.arxiv_oai_url)
            self.catalog.reindex()
            log.info("harvested %d records in %d pages", result.records, result.pages)
        except PaperfeedError as exc:
            log.error("harvest failed: %s", exc)
        finally:
            digests.unlock("harvest", self.owner)

    def digests(self, frequency: str) -> None:
        try:
            self.catalog.refresh()  # pick up what other processes indexed since the last job
            report = DigestSender(self.catalog, self.settings).send(frequency, max_wait_s=0)
            log.info("%s digests: %s", frequency, report.summary())
        except PaperfeedError as exc:
            log.error("%s digests failed: %s", frequency, exc)

    def retry(self) -> None:
        """Deliver whatever is due: retries, and digests another process left behind."""
        try:
            report = DigestSender(self.catalog, self.settings).deliver()
            if report.sent or report.failed or report.retried:
                log.info("outbox: %s", report.summary())
        except PaperfeedError as exc:
            log.error("outbox delivery failed: %s", exc)

    def scheduler(self) -> BlockingScheduler:
        s = self.settings
        scheduler = BlockingScheduler(timezone=UTC)
        options = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        scheduler.add_job(self.harvest, cron(s.schedule_harvest, "schedule_harvest"),
                          id="harvest", **options)
        scheduler.add_job(self.digests, cron(s.schedule_daily_digest, "schedule_daily_digest"),
                          args=["daily"], id="daily-digest", **options)
        scheduler.add_job(self.digests, cron(s.schedule_weekly_digest,
                                             "schedule_weekly_digest"),
                          args=["weekly"], id="weekly-digest", **options)
        scheduler.add_job(self.retry, IntervalTrigger(minutes=1), id="outbox", **options)
        return scheduler

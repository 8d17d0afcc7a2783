"""`paperfeed worker`: harvesting, digests and index following on a schedule (APScheduler).

Safe to run as several processes, on several hosts: a harvest takes a lease in the store so
only one process harvests at a time; digest planning is idempotent per subscription and
period, and each digest is claimed by one sender (see `digests.outbox`). So a second worker,
or a `paperfeed digest send` run by hand, never sends anything twice. Each worker keeps its
own indexes following the store (`follower.py`), which its saved-search digests read.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..catalog import Catalog
from ..errors import ConfigError
from ..settings import Settings
from .digests import deliver_due, send_digests
from .follower import IndexFollower
from .harvest import harvest_recent

FOLLOW_EVERY_S = 10  # the worker's index serves digests, not requests: no need for 1 s


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
        self.follower = IndexFollower(self.catalog)
        self.owner = f"{socket.gethostname()}:{os.getpid()}"

    def harvest(self) -> None:
        if self.settings.harvest_set:
            harvest_recent(self.catalog, self.settings, self.owner)

    def digests(self, frequency: str) -> None:
        self.follower.step(backfill=False)  # search what the store holds now, whoever stored it
        send_digests(self.catalog, self.settings, frequency)

    def retry(self) -> None:
        deliver_due(self.catalog, self.settings)

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
        scheduler.add_job(self.follower.step, IntervalTrigger(seconds=FOLLOW_EVERY_S),
                          id="index", **options)
        return scheduler

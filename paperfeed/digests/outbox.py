"""Planning and sending digests through the outbox, exactly once per subscription and period.

1. Plan: for every active subscription of a frequency, pick this period's papers
   and queue one outbox row. `UNIQUE (subscription, period)` makes planning
   idempotent (reruns, several processes), and the chosen papers are reserved
   for the address in the same transaction: no address gets a paper twice.
2. Deliver: claim due rows with one guarded UPDATE (a lease with the sender's
   identity), send over one SMTP connection, and record the outcome per row.
   A temporary failure (4xx, timeout, dropped connection) is retried with
   exponential backoff; a permanent one (5xx) fails the row, releases its
   papers, and counts against the subscription, which pauses after N.
3. Crashes: a row a killed sender was holding stays `sending`; the next run
   takes it back at once when that process is gone, or when its lease ends.

Exactly once, and its limit (RFC 1047): whether a server accepted a message is
only known from its reply, and a sender can die before reading it. So the outbox
records the hand-over just before sending the message's final "." line (the
moment after which the server may accept it), and a digest handed over by a
sender that died is recorded as sent, unconfirmed, never sent again. What is left
is the microseconds between that record and the "." leaving: a crash exactly
there loses one digest rather than duplicating it. A message that is resent for
any other reason carries the Message-ID fixed at planning.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from ..catalog import Catalog
from ..discover.foryou import Recommender
from ..discover.visibility import visible
from ..errors import ConfigError, MailError
from ..mail import Mailer
from ..mail.smtp import MailConnection
from ..models import OutboxItem, Subscription
from ..settings import Settings
from .compose import digest_message, render_digest
from .content import (
    CANDIDATES,
    DigestPeriod,
    digest_period,
    period_label,
    search_candidates,
    trending_candidates,
)
from .subscriptions import Subscriptions

log = logging.getLogger("paperfeed.digests")
CLAIM_BATCH = 20
# A weekly digest offers papers up to 7 days old: the record that one went to an address
# must outlive that, or it could go out again.
MIN_KEEP_DAYS = 8
MAX_BACKOFF_S = 3600.0

Progress = Callable[[int], object]


@dataclass
class SendReport:
    planned: int = 0          # digests queued this run
    empty: int = 0            # subscriptions with nothing new this period: nothing sent
    already_planned: int = 0  # queued by an earlier run or another process
    sent: int = 0
    retried: int = 0          # temporary failures, queued again with backoff
    failed: int = 0           # given up: permanent failure or out of attempts
    paused: int = 0           # subscriptions paused by this run's failures
    unrenderable: int = 0     # of `failed`: the message could not be built (a bug, logged)
    pruned: int = 0           # settled digests older than digest_keep_days, deleted
    seconds: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, started: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

    def summary(self) -> str:
        broken = f" ({self.unrenderable} could not be rendered)" if self.unrenderable else ""
        return (f"{self.sent} sent, {self.empty} skipped (nothing new), {self.failed} failed"
                f"{broken}, "
                f"{self.retried} retries, {self.paused} paused, "
                f"{self.already_planned} planned earlier"
                + (f", {self.pruned} old digests pruned" if self.pruned else ""))


def _owner_is_dead(owner: str) -> bool:
    """True if `owner` was a process on this machine that no longer exists."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class DigestSender:
    def __init__(self, catalog: Catalog, settings: Settings, mailer: Mailer | None = None,
                 *, sleep: Callable[[float], None] = time.sleep) -> None:
        if settings.digest_keep_days < MIN_KEEP_DAYS:
            raise ConfigError(f"PAPERFEED_DIGEST_KEEP_DAYS={settings.digest_keep_days}: keep "
                              f"digests at least {MIN_KEEP_DAYS} days, or a paper a weekly "
                              "digest can still offer may be sent twice")
        self.catalog = catalog
        self.settings = settings
        self.outbox = catalog.store.outbox
        self.subscriptions = Subscriptions(catalog.store.subscriptions, settings)
        self._mailer = mailer
        self.sleep = sleep
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._search_cache: dict[tuple[str, str], list[int]] = {}
        self.recommender = Recommender(catalog)  # members' For-you models, fitted once a run

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            self._mailer = Mailer(self.settings)
        return self._mailer

    # -- planning -------------------------------------------------------------------

    def candidates(self, subscription: Subscription, period: DigestPeriod,
                   trending: list[int]) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        # First, so a paper both recommended and trending is shown under For you.
        if subscription.user_id and self.catalog.store.ratings.digest_for_you(
                subscription.user_id):
            ranked = self.recommender.recommend_between(subscription.user_id, period.start,
                                                        period.end, CANDIDATES)
            if ranked.items:
                found["for_you"] = [item.paper.key for item in ranked.items]
        if subscription.trending:
            found["trending"] = trending
        if subscription.query:
            key = (subscription.query.lower(), period.key)
            if key not in self._search_cache:  # subscribers share popular queries
                self._search_cache[key] = search_candidates(self.catalog, subscription.query,
                                                            period)
            found["search"] = self._search_cache[key]
        return found

    def plan(self, frequency: str, now: datetime | None = None, *, dry_run: bool = False,
             progress: Progress | None = None, report: SendReport | None = None) -> SendReport:
        report = report or SendReport()
        period = digest_period(frequency, now)
        trending = trending_candidates(self.catalog, period)
        domain = self.settings.mail_from.rpartition("@")[2].strip("> ") or "paperfeed.invalid"
        planned_at = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        for subscription in self.subscriptions.stored.due(frequency):
            started = time.perf_counter()
            if self.outbox.is_planned(subscription.id, period.key):
                report.already_planned += 1
            else:
                candidates = self.candidates(subscription, period, trending)
                report.add_time("choose papers", started)
                started = time.perf_counter()
                if dry_run:
                    taken = self.outbox.already_sent(
                        subscription.email, [r for rs in candidates.values() for r in rs])
                    fresh = any(r not in taken for rs in candidates.values() for r in rs)
                    report.planned += fresh
                    report.empty += not fresh
                else:
                    item = self.outbox.plan(subscription, period.key, candidates,
                                             self.settings.digest_size, make_msgid(domain=domain),
                                             planned_at)
                    if item is None:
                        report.already_planned += 1
                    elif item.status == "empty":
                        report.empty += 1
                    else:
                        report.planned += 1
                report.add_time("queue", started)
            if progress:
                progress(1)
        return report

    # -- delivery -------------------------------------------------------------------

    def build(self, item: OutboxItem) -> tuple[Subscription, EmailMessage]:
        subscription = self.subscriptions.stored.get(item.subscription_id)
        assert subscription is not None
        keys = [r for rs in item.sections.values() for r in rs]
        stored = self.catalog.store.papers.get_many(keys)
        # A paper hidden since the digest was planned is left out of it.
        papers = {p.key: p for p in visible(self.catalog, stored, key=lambda p: p.key)}
        sections = {name: [papers[r] for r in rs if r in papers]
                    for name, rs in item.sections.items()}
        urls = self.subscriptions.urls(subscription)
        subject, text, html = render_digest(subscription, sections,
                                            self.catalog.store.community.vote_counts(keys),
                                            period_label(item.period), urls)
        return subscription, digest_message(self.settings, subscription, item.message_id,
                                            subject, text, html, urls)

    def deliver(self, *, progress: Progress | None = None,
                report: SendReport | None = None) -> SendReport:
        """Send every due digest; returns when nothing is due right now."""
        report = report or SendReport()
        lease_s = CLAIM_BATCH * (self.settings.smtp_timeout * 2 + 5) + 60
        while True:
            dead = [o for o in self.outbox.sending_owners() if _owner_is_dead(o)]
            items = self.outbox.claim(self.owner, lease_s, CLAIM_BATCH, dead)
            if not items:
                return report
            with self.mailer.connection() as connection:
                for item in items:
                    self._send_one(connection, item, report)
                    if progress:
                        progress(1)

    def _send_one(self, connection: MailConnection, item: OutboxItem,
                  report: SendReport) -> None:
        started = time.perf_counter()
        try:
            subscription, message = self.build(item)
        except Exception as exc:  # one digest that cannot be built must not stop the run
            log.exception("digest %d could not be rendered", item.id)
            self.outbox.mark_failed(item.id, self.owner,
                                     f"could not render: {type(exc).__name__}: {exc}")
            report.failed += 1
            report.unrenderable += 1
            return
        report.add_time("render", started)
        started = time.perf_counter()
        handed_over = False

        def hand_over() -> None:
            nonlocal handed_over
            self.outbox.mark_handed_over(item.id, self.owner)
            handed_over = True

        try:
            connection.send(message, before_final_dot=hand_over)
        except MailError as exc:
            report.add_time("smtp", started)
            if handed_over and exc.code is None:
                # The connection died while the server answered the whole message: it
                # may well have been accepted. Never send it again.
                self.outbox.mark_sent(item.id, self.owner, note=f"unconfirmed: {exc}")
                report.sent += 1
            else:
                self._failed(item, subscription, exc, report)
            return
        report.add_time("smtp", started)
        started = time.perf_counter()
        self.outbox.mark_sent(item.id, self.owner)
        if subscription.failures:
            self.subscriptions.stored.record_success(subscription.id)
        report.sent += 1
        report.add_time("record", started)

    def _failed(self, item: OutboxItem, subscription: Subscription, exc: MailError,
                report: SendReport) -> None:
        error = f"{exc.code or ''} {exc}".strip()
        if not exc.permanent and item.attempts + 1 < self.settings.digest_max_attempts:
            delay = min(MAX_BACKOFF_S,
                        self.settings.digest_retry_base_s * 2 ** item.attempts)
            delay *= random.uniform(0.8, 1.2)  # spread retries out
            self.outbox.mark_retry(item.id, self.owner, error, time.time() + delay)
            report.retried += 1
            return
        self.outbox.mark_failed(item.id, self.owner, error)
        report.failed += 1
        if self.subscriptions.stored.record_failure(subscription.id, error,
                                       self.settings.digest_pause_after):
            report.paused += 1

    def send(self, frequency: str, now: datetime | None = None, *, max_wait_s: float = 600,
             plan_progress: Progress | None = None,
             send_progress: Progress | None = None) -> SendReport:
        """Plan this period's digests, deliver them, and keep retrying temporary failures
        while the next retry is due within `max_wait_s` (the worker retries the rest)."""
        report = self.plan(frequency, now, progress=plan_progress)
        deadline = time.monotonic() + max_wait_s
        while True:
            self.deliver(progress=send_progress, report=report)
            next_at = self.outbox.next_retry_at()
            if next_at is None:
                break
            wait = max(0.0, next_at - time.time())
            if time.monotonic() + wait > deadline:
                break
            self.sleep(wait + 0.01)
        report.pruned = self.prune(now)
        return report

    def prune(self, now: datetime | None = None) -> int:
        """Delete settled digests planned more than digest_keep_days before `now`."""
        before = (now or datetime.now(UTC)) - timedelta(days=self.settings.digest_keep_days)
        return self.outbox.prune(before.isoformat(timespec="seconds"))

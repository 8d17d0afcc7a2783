"""`paperfeed worker`: its schedule, the harvest lease, and digests run twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperfeed.catalog import Catalog
from paperfeed.errors import ConfigError
from paperfeed.jobs.scheduler import Worker
from paperfeed.models import Paper

from ..conftest import REPO, LocalServer, make_settings, stop_process
from ..smtp_server import SmtpSink

PAGE = (Path(__file__).parents[1] / "fixtures" / "oai_listrecords_page2_last.xml").read_bytes()


def test_schedule_comes_from_cron_settings(tmp_path: Path) -> None:
    worker = Worker(make_settings(tmp_path, load_demo=False,
                                  schedule_weekly_digest="30 6 * * fri"))
    jobs = {job.id: job for job in worker.scheduler().get_jobs()}
    assert set(jobs) == {"harvest", "daily-digest", "weekly-digest", "outbox", "index"}
    friday = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
    after = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert jobs["weekly-digest"].trigger.get_next_fire_time(None, after) == friday
    with pytest.raises(ConfigError, match="PAPERFEED_SCHEDULE_DAILY_DIGEST"):
        Worker(make_settings(tmp_path, load_demo=False,
                             schedule_daily_digest="every morning")).scheduler()


def test_only_one_process_harvests_at_a_time(tmp_path: Path,
                                            local_server: LocalServer) -> None:
    local_server.route = lambda params: (200, {"Content-Type": "text/xml"}, PAGE)
    settings = make_settings(tmp_path, load_demo=False, harvest_set="physics:hep-th",
                             arxiv_oai_url=local_server.url)
    worker = Worker(settings)
    store = worker.catalog.store
    assert store.leases.acquire("harvest", "other-host:1", 3600)
    worker.harvest()
    assert local_server.requests == [], "another process holds the harvest lease"
    store.leases.release("harvest", "other-host:1")
    worker.harvest()
    assert local_server.requests and worker.catalog.store.papers.count() == 3
    assert worker.catalog.indexes.semantic.stamp.count == 3, "harvested papers are indexed"
    assert store.leases.acquire("harvest", "other-host:1", 3600), "the lease was released"


def test_digest_job_twice_sends_once(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        worker = Worker(make_settings(tmp_path, load_demo=False, **sink.overrides))
        today = datetime.now(UTC).date()
        worker.catalog.ingest([Paper(title="A paper from today about ranking", arxiv_id=
                                     "2611.00001", published=today, source="t", source_ref="1")])
        store = worker.catalog.store
        subscription = store.subscriptions.add("reader@example.org", "weekly", True, None)
        store.subscriptions.set_status(subscription.id, "active")
        worker.digests("weekly")
        worker.digests("weekly")  # a second process, or a rerun, on the same schedule
        worker.retry()
        [item] = store.outbox.items()
        assert item.status == "sent"
        [message] = sink.messages
        assert "A paper from today about ranking" in message.get_body(("plain",)).get_content()


def test_digest_job_searches_what_another_process_stored(tmp_path: Path) -> None:
    with SmtpSink() as sink:
        worker = Worker(make_settings(tmp_path, load_demo=False, **sink.overrides))
        Catalog(worker.settings).ingest([Paper(  # e.g. `paperfeed ingest --no-index`
            title="Speculative decoding with draft models", arxiv_id="2611.00002",
            abstract="A small draft model proposes tokens that the large model verifies.",
            published=datetime.now(UTC).date(), source="t", source_ref="2")])
        subscriptions = worker.catalog.store.subscriptions
        subscription = subscriptions.add("reader@example.org", "weekly", False,
                                         "speculative decoding")
        subscriptions.set_status(subscription.id, "active")
        worker.digests("weekly")
        [message] = sink.messages
    assert "Speculative decoding with draft models" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_worker_stops_cleanly_on_sigterm_and_sigint_even_if_started_ignoring_it(
        tmp_path: Path, sig: int) -> None:
    """systemd stops with SIGTERM, a terminal with SIGINT; `nohup paperfeed worker &` starts
    it with SIGINT ignored, which left the README test's worker running for good."""
    env = {**os.environ, "PAPERFEED_HOME": str(tmp_path / "data"), "PAPERFEED_LOAD_DEMO": "0"}
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "paperfeed", "worker"], env=env, cwd=REPO, stderr=out,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    deadline = time.monotonic() + 60
    schedule = re.compile(r"^outbox +interval", re.M)  # the line it prints once it listens
    while not schedule.search(log.read_text()) and time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()
        time.sleep(0.1)
    assert stop_process(worker, sig, timeout=30) == 0, log.read_text()
    assert "stopping once the running jobs finish" in log.read_text()

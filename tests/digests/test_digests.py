"""Digests end to end against a real SMTP server on loopback (aiosmtpd) and a real store:
SQLite, and for the exactly-once tests PostgreSQL too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from paperfeed.catalog import Catalog
from paperfeed.digests import DigestSender, digest_period
from paperfeed.digests.content import search_candidates
from paperfeed.errors import ConfigError
from paperfeed.http.headers import EMAIL_CSP
from paperfeed.models import Paper
from paperfeed.web import create_app

from ..conftest import REPO, make_settings
from ..smtp_server import SmtpSink

TODAY = datetime.now(UTC).date()
TOPICS = [
    ("Pairwise ranking losses for learning to rank", "We study pairwise loss functions for "
     "ranking: a pairwise hinge loss over document pairs improves learning to rank."),
    ("Listwise and pairwise objectives in neural ranking", "Pairwise loss and listwise loss "
     "compared for neural rankers trained on click logs."),
    ("Galaxy cluster lensing with weak shear", "We measure weak gravitational lensing shear "
     "around galaxy clusters with a new telescope survey."),
    ("Protein folding with diffusion models", "A diffusion model predicts protein structures "
     "from sequences."),
    ("Graph neural networks for molecules", "Message passing networks predict molecular "
     "properties."),
    ("Efficient transformers with linear attention", "Linear attention approximates softmax "
     "attention in transformers at lower cost."),
]


def _corpus() -> list[Paper]:
    return [Paper(title=title, abstract=abstract, arxiv_id=f"2611.{i:05d}",
                  published=TODAY - timedelta(days=i % 2), categories=["cs.LG"],
                  authors=["Ada Lovelace", "Alan Turing"], source="test", source_ref=str(i))
            for i, (title, abstract) in enumerate(TOPICS)]


def _catalog(tmp_path: Path, sink: SmtpSink | None = None, **overrides: object) -> Catalog:
    overrides = {"digest_retry_base_s": 0.02, **(sink.overrides if sink else {}), **overrides}
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url="http://testserver", **overrides))
    catalog.ingest(_corpus())
    catalog.reindex()
    return catalog


def _subscribe(catalog: Catalog, email: str, *, trending: bool = True, query: str | None = None,
               frequency: str = "daily") -> int:
    store = catalog.store
    subscription = store.subscriptions.add(email, frequency, trending, query)
    store.subscriptions.set_status(subscription.id, "active")
    return subscription.id


def _paper_links(message: EmailMessage) -> list[str]:
    text = message.get_body(("plain",)).get_content()
    return re.findall(r"/papers/(\S+)", text)


def test_subscribe_confirm_and_nothing_before_the_click(tmp_path: Path,
                                                         smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink)
    client = TestClient(create_app(catalog.settings, catalog))
    client.get("/subscribe")
    answer = client.post("/subscribe", data={
        "email": "reader@example.org", "frequency": "daily", "trending": "1",
        "query": "pairwise loss", "csrf_token": client.cookies["pf_csrf"]})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    [confirmation] = smtp_sink.wait_for(1)
    assert confirmation["To"] == "reader@example.org"
    sender = DigestSender(catalog, catalog.settings)
    assert sender.send("daily").planned == 0, "nothing is sent before confirmation"
    link = re.search(r"http://testserver(/subscribe/confirm\?token=\S+)",
                     confirmation.get_body(("plain",)).get_content()).group(1)
    assert client.get(link[:-3] + "xyz").status_code == 400, "a tampered token is refused"
    confirmed = client.get(link)
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    report = sender.send("daily")
    assert report.sent == 1
    digest = smtp_sink.wait_for(2)[1]
    assert digest["To"] == "reader@example.org" and "paperfeed" in digest["Subject"]
    assert digest.get_body(("html",)) is not None and digest.get_body(("plain",)) is not None


def test_bad_subscriptions_are_refused(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink)
    client = TestClient(create_app(catalog.settings, catalog))
    client.get("/subscribe")
    token = client.cookies["pf_csrf"]
    for data, problem in (({"email": "x@example.org", "frequency": "daily"}, "Choose trending"),
                          ({"email": "nope", "trending": "1", "frequency": "daily"}, "email"),
                          ({"email": "x@example.org", "trending": "1", "frequency": "hourly"},
                           "frequency")):
        answer = client.post("/subscribe", data={**data, "csrf_token": token})
        assert answer.status_code == 400 and problem in answer.text
    assert smtp_sink.messages == []


def test_one_click_unsubscribe_by_post_to_the_header_url(tmp_path: Path,
                                                          smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink)
    subscription_id = _subscribe(catalog, "reader@example.org")
    DigestSender(catalog, catalog.settings).send("daily")
    [digest] = smtp_sink.wait_for(1)
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(\S+)>", digest["List-Unsubscribe"]).group(1)
    parts = urlsplit(url)
    mail_client = TestClient(create_app(catalog.settings, catalog))  # no cookies at all
    page = mail_client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and "Unsubscribe?" in page.text
    store = catalog.store
    assert store.subscriptions.get(subscription_id).status == "active", "GET changes nothing"
    answer = mail_client.post(f"{parts.path}?{parts.query}",
                              content=b"List-Unsubscribe=One-Click",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    assert store.subscriptions.get(subscription_id).status == "unsubscribed"
    assert mail_client.post("/unsubscribe?token=forged").status_code == 400
    assert DigestSender(catalog, catalog.settings).send(
        "daily", now=datetime.now(UTC) + timedelta(days=1)).planned == 0


def test_no_paper_twice_to_an_address_across_subscriptions_and_days(
        tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink, digest_size=3)
    voter = catalog.store.members.add_user("voter", "voter@example.org", "hash")
    for paper_id in ("2611.00000", "2611.00005"):  # trending: these two first
        catalog.store.community.vote(voter.id, catalog.store.papers.get(paper_id).key, True)
    _subscribe(catalog, "reader@example.org", trending=True)
    _subscribe(catalog, "Reader@Example.org", trending=False, query="pairwise ranking loss")
    _subscribe(catalog, "other@example.org", trending=False, query="pairwise ranking loss")
    sender = DigestSender(catalog, catalog.settings)
    assert sender.send("daily").sent == 3
    messages = smtp_sink.wait_for(3)
    trending, search = sorted((m for m in messages if m["To"].lower() == "reader@example.org"),
                              key=lambda m: "trending" not in m["Subject"])
    assert _paper_links(trending)[:2] == ["2611.00000", "2611.00005"]
    assert "2611.00000" not in _paper_links(search), "sent once, in the trending digest"
    assert "2611.00001" in _paper_links(search)
    links = _paper_links(trending) + _paper_links(search)
    assert len(links) == len(set(links)), "no paper twice to one address"
    other = [m for m in messages if m["To"] == "other@example.org"]
    assert set(_paper_links(other[0])) >= {"2611.00000", "2611.00001"}
    rerun = sender.send("daily")
    assert rerun.already_planned == 3 and len(smtp_sink.messages) == 3
    tomorrow = sender.send("daily", now=datetime.now(UTC) + timedelta(days=1))
    assert tomorrow.sent == 1 and tomorrow.empty == 2
    [later] = smtp_sink.wait_for(4)[3:]
    assert later["To"] == "reader@example.org" and "trending" in later["Subject"]
    assert _paper_links(later) and not set(_paper_links(later)) & set(links), \
        "the next day's digest brings only papers this address has not had"


def test_saved_search_sends_nothing_for_an_empty_period(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    period = digest_period("daily")
    relevant = search_candidates(catalog, "pairwise ranking loss", period)
    assert catalog.store.papers.get("2611.00000").key in relevant
    assert catalog.store.papers.get("2611.00002").key not in relevant, "lensing is not ranking"
    assert search_candidates(catalog, "volcanic eruptions on Venus", period) == []


def test_thirty_percent_smtp_failures_end_with_one_copy_each(
        tmp_path: Path, store_backend: dict[str, str]) -> None:
    with SmtpSink(fail_rate=0.3, fail_code=451, seed=7) as sink:
        catalog = _catalog(tmp_path, sink, digest_max_attempts=15, digest_retry_base_s=0.001,
                           **store_backend)
        addresses = [f"reader{i}@example.org" for i in range(40)]
        for address in addresses:
            _subscribe(catalog, address)
        report = DigestSender(catalog, catalog.settings).send("daily", max_wait_s=60)
        assert report.sent == 40 and report.failed == 0 and report.retried > 0
        assert sink.failures == report.retried > 5
        received = Counter(m["To"] for m in sink.messages)
    assert received == Counter(addresses)
    outbox = catalog.store.outbox.items()
    assert {item.status for item in outbox} == {"sent"}
    assert max(item.attempts for item in outbox) > 1, "failures were retried, and recorded"


def test_hard_failures_are_recorded_and_pause_the_subscription(tmp_path: Path) -> None:
    with SmtpSink(refuse={"gone@example.org"}, fail_code=550) as sink:
        catalog = _catalog(tmp_path, sink, digest_pause_after=2)
        gone = _subscribe(catalog, "gone@example.org")
        _subscribe(catalog, "fine@example.org")
        sender = DigestSender(catalog, catalog.settings)
        first = sender.send("daily")
        assert (first.sent, first.failed, first.paused) == (1, 1, 0)
        store = catalog.store
        assert store.subscriptions.get(gone).failures == 1
        assert "550" in store.subscriptions.get(gone).last_error
        second = sender.send("daily", now=datetime.now(UTC) + timedelta(days=1))
        assert second.paused == 1 and store.subscriptions.get(gone).status == "paused"
        third = sender.send("daily", now=datetime.now(UTC) + timedelta(days=2))
        assert third.failed == 0, "a paused subscription is not tried again"


def _send_in_subprocess(catalog: Catalog, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PAPERFEED_SMTP_HOST": catalog.settings.smtp_host,
           "PAPERFEED_SMTP_PORT": str(catalog.settings.smtp_port),
           "PAPERFEED_SMTP_SECURITY": "none", "PAPERFEED_DIGEST_RETRY_BASE_S": "0.05",
           "PAPERFEED_LOAD_DEMO": "false", "PAPERFEED_BASE_URL": "http://testserver",
           "PAPERFEED_DATABASE_URL": catalog.settings.database_url}
    return subprocess.Popen(
        [sys.executable, "-m", "paperfeed", "--data-dir", str(catalog.settings.home),
         "digest", "send", "--period", "daily", *extra],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_9_mid_run_then_rerun_sends_exactly_one_copy_each(
        tmp_path: Path, store_backend: dict[str, str]) -> None:
    with SmtpSink(rcpt_delay_s=0.02) as sink:
        catalog = _catalog(tmp_path, sink, **store_backend)
        addresses = [f"reader{i}@example.org" for i in range(120)]
        for address in addresses:
            _subscribe(catalog, address)
        first = _send_in_subprocess(catalog)
        deadline = time.monotonic() + 60
        while len(sink.messages) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait()
        delivered_before = len(sink.messages)
        assert 30 <= delivered_before < 120, "killed mid-run"
        recorded = catalog.store.outbox.counts().get("sent", 0)
        assert recorded < 120, "digests were left queued or in flight"
        rerun = _send_in_subprocess(catalog)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err.decode()
        sent_by_rerun = int(re.search(r"(\d+) sent", out.decode()).group(1))
        assert sent_by_rerun <= 120 - recorded
        received = Counter(m["To"] for m in sink.messages)
    duplicates = {to: n for to, n in received.items() if n > 1}
    assert duplicates == {} and set(received) == set(addresses)
    assert catalog.store.outbox.counts() == {"sent": 120}


def test_two_senders_at_once_never_double_send(tmp_path: Path,
                                              store_backend: dict[str, str]) -> None:
    with SmtpSink(rcpt_delay_s=0.005) as sink:
        catalog = _catalog(tmp_path, sink, **store_backend)
        addresses = [f"reader{i}@example.org" for i in range(80)]
        for address in addresses:
            _subscribe(catalog, address, query="pairwise ranking loss")
        senders = [_send_in_subprocess(catalog) for _ in range(2)]
        outputs = [s.communicate(timeout=120) for s in senders]
        assert [s.returncode for s in senders] == [0, 0], [e.decode() for _, e in outputs]
        received = Counter(m["To"] for m in sink.messages)
    assert received == Counter(addresses)
    sent_by = [int(re.search(r"(\d+) sent", out.decode()).group(1)) for out, _ in outputs]
    assert sum(sent_by) == 80


def test_dry_run_counts_without_sending(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink)
    _subscribe(catalog, "a@example.org")
    _subscribe(catalog, "b@example.org", trending=False, query="volcanic eruptions on Venus")
    dry = _send_in_subprocess(catalog, "--dry-run")
    out, err = dry.communicate(timeout=60)
    assert dry.returncode == 0, err.decode()
    assert "2 active subscriptions; 1 would get a digest, 1 have nothing new" in out.decode()
    assert smtp_sink.messages == [] and catalog.store.outbox.counts() == {}


def test_preview_shows_the_next_digest(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    catalog = _catalog(tmp_path, smtp_sink)
    subscription_id = _subscribe(catalog, "reader@example.org", trending=False,
                                 query="pairwise ranking loss")
    sender = DigestSender(catalog, catalog.settings)
    token = sender.subscriptions.link_token(catalog.store.subscriptions.get(
        subscription_id))
    client = TestClient(create_app(catalog.settings, catalog))
    preview = client.get(f"/digest/preview?token={token}")
    assert preview.status_code == 200 and "Pairwise ranking losses" in preview.text
    assert "Galaxy cluster" not in preview.text
    # The email's own HTML, styled inline: inline styles allowed, scripts not.
    assert preview.headers["content-security-policy"] == EMAIL_CSP
    sender.send("daily")
    after = client.get(f"/digest/preview?token={token}")
    assert "Nothing new yet" in after.text, "what was sent is not previewed again"


def _sent_paper_rows(catalog: Catalog) -> int:
    return catalog.store.outbox.db.scalar(text("SELECT count(*) FROM sent_papers"))


def test_settled_digests_are_pruned_after_the_keep_days_and_queued_ones_stay(
        tmp_path: Path, smtp_sink: SmtpSink, store_backend: dict[str, str]) -> None:
    catalog = _catalog(tmp_path, smtp_sink, digest_keep_days=30, **store_backend)
    _subscribe(catalog, "reader@example.org")
    _subscribe(catalog, "nothing@example.org", trending=False, query="volcanic eruptions on Venus")
    sender = DigestSender(catalog, catalog.settings)
    today = sender.send("daily")
    assert (today.sent, today.empty, today.pruned) == (1, 1, 0)
    assert _sent_paper_rows(catalog) > 0
    waiting = _subscribe(catalog, "later@example.org")
    catalog.store.outbox.plan(catalog.store.subscriptions.get(waiting), "daily:2000-01-01",
                              {"trending": [1]}, 10, "<queued@example.org>")
    # A month less a day on, nothing is old enough; a day later, the settled two go.
    assert sender.prune(datetime.now(UTC) + timedelta(days=29)) == 0
    assert sender.prune(datetime.now(UTC) + timedelta(days=31)) == 2
    assert catalog.store.outbox.counts() == {"queued": 1}
    assert _sent_paper_rows(catalog) == 1, "only the queued digest's paper is still recorded"
    assert sender.deliver().sent == 1, "the queued digest is still delivered"
    assert "pruned" not in today.summary()
    month_on = sender.send("daily", now=datetime.now(UTC) + timedelta(days=31), max_wait_s=0)
    assert month_on.pruned == 1 and "1 old digests pruned" in month_on.summary()
    assert catalog.store.outbox.counts() == {"empty": 3}, "this period's digests are kept"


def test_a_keep_shorter_than_a_week_is_refused(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, digest_keep_days=3)
    with pytest.raises(ConfigError, match="at least 8 days"):
        DigestSender(catalog, catalog.settings)

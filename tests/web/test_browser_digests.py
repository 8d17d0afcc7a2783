"""Email digests in a real headless Chromium (Debian's), driven by Playwright, with a real
SMTP server (tests/smtp_server.py) receiving every message.

Double opt-in from the daily page to the first digest, unsubscribing from a digest's
List-Unsubscribe link, a member's digest page (add, confirm, preview, pause, resume), and
nobody subscribing an address they cannot read. Every test has its own data directory,
server and SMTP sink. The site's base_url is its real address (see `_site`), so the links
in the emails are opened exactly as they were sent.
"""

from __future__ import annotations

import html
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from paperfeed.catalog import Catalog
from paperfeed.digests import DigestSender
from paperfeed.models import Paper, Subscription

from ..conftest import LiveServer, make_settings
from ..smtp_server import SmtpSink
from .browser import SCREENSHOTS, needs_chromium, sign_up

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
EMAIL_WIDTH = {"width": 640, "height": 900}
QUERY = "pairwise ranking loss"

pytestmark = needs_chromium



# -- the corpus: two ranking papers match the saved search, two others trend -----------------

TODAY = datetime.now(UTC).date()
PAIRWISE = ("Pairwise ranking losses for learning to rank",
            "Listwise and pairwise objectives in neural ranking")
LENSING = "Galaxy cluster lensing with weak shear"
PROTEIN = "Protein folding with diffusion models"
GRAPHS = "Graph neural networks for molecules"
OLD_PAIRWISE = "A survey of pairwise preference learning for ranking"
PAPERS = [  # (title, abstract, age in days)
    (PAIRWISE[0], "We study pairwise loss functions for ranking: a pairwise hinge loss over "
     "document pairs improves learning to rank.", 0),
    (PAIRWISE[1], "Pairwise loss and listwise loss compared for neural rankers trained on "
     "click logs.", 1),
    (LENSING, "We measure weak gravitational lensing shear around galaxy clusters with a new "
     "telescope survey.", 0),
    (PROTEIN, "A diffusion model predicts protein structures from sequences.", 1),
    (GRAPHS, "Message passing networks predict molecular properties.", 0),
    ("Efficient transformers with linear attention", "Linear attention approximates softmax "
     "attention in transformers at lower cost.", 1),
    # Relevant to the search, but listed three weeks ago: in no daily or weekly digest.
    (OLD_PAIRWISE, "Pairwise ranking losses and pairwise preference learning, surveyed.", 21),
]
ARXIV = {title: f"2611.{i:05d}" for i, (title, _, _) in enumerate(PAPERS)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _site(tmp_path: Path, sink: SmtpSink) -> Iterator[tuple[Catalog, str]]:
    """A served catalog whose base_url is its own address.

    LiveServer chooses its port when constructed, after the settings (frozen) exist; so
    choose the port first, put it in base_url, and have LiveServer bind that port.
    """
    port = _free_port()
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False, digest_size=2,
                                    base_url=f"http://127.0.0.1:{port}",
                                    digest_retry_base_s=0.02, **sink.overrides))
    catalog.ingest([Paper(title=title, abstract=abstract, arxiv_id=ARXIV[title],
                          published=TODAY - timedelta(days=age), categories=["cs.LG"],
                          authors=["Ada Lovelace", "Alan Turing"], source="test",
                          source_ref=str(i))
                    for i, (title, abstract, age) in enumerate(PAPERS)])
    catalog.reindex()
    # Trending, most upvoted first: GRAPHS (2 votes), PROTEIN (1). digest_size=2 keeps those.
    voters = [catalog.store.members.add_user(f"voter{i}", f"voter{i}@example.org", "x",
                                         is_admin=False) for i in range(2)]
    for voter, title in ((voters[0], GRAPHS), (voters[1], GRAPHS), (voters[0], PROTEIN)):
        found = catalog.store.papers.get(ARXIV[title])
        assert found is not None
        catalog.store.community.vote(voter.id, found.key, True)
    server = LiveServer(catalog)
    server.port = server.server.config.port = port
    with server:
        assert server.url == catalog.settings.public_url
        yield catalog, server.url


# -- helpers ------------------------------------------------------------------------------

def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None, "no text/plain part"
    return part.get_content()


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None, "no text/html part"
    return part.get_content()


def _confirm_link(message: EmailMessage, base: str) -> str:
    """The confirmation URL; the text and the HTML part must carry the same one."""
    in_text = re.findall(r"\S+/subscribe/confirm\?token=\S+", _text(message))
    in_html = {html.unescape(href) for href in
               re.findall(r'href="([^"]*/subscribe/confirm\?token=[^"]*)"', _html(message))}
    assert in_text, _text(message)
    assert set(in_text) == in_html, f"text part {in_text} != HTML part {in_html}"
    assert in_text[0].startswith(base + "/subscribe/confirm?token="), in_text[0]
    return in_text[0]


def _to(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in sink.messages if m["To"].lower() == address.lower()]


def _status(catalog: Catalog, subscription_id: int) -> str:
    found = catalog.store.subscriptions.get(subscription_id)
    assert found is not None
    return found.status


def _subscriptions(catalog: Catalog, email: str) -> list[Subscription]:
    return catalog.store.subscriptions.of_email(email)


def _submit(page: Any, form: Any) -> None:
    """Submit the subscribe form and expect the "Check your inbox" page."""
    from playwright.sync_api import expect

    with page.expect_navigation() as nav:
        form.get_by_role("button", name="Subscribe").click()
    assert nav.value.status == 200, page.locator("main").inner_text()
    expect(page.locator("main h1")).to_have_text("Check your inbox")


def _fill(form: Any, email: str | None, frequency: str, *, trending: bool, query: str) -> None:
    if email is not None:
        form.get_by_label("Email").fill(email)
    form.get_by_label(frequency).check()
    form.get_by_label("Trending papers").set_checked(trending)
    form.get_by_label("New papers matching a search").fill(query)


def _no_sideways_scroll(page: Any, width: int, where: str) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where} scrolls sideways at {width}px: {scroll}"


# -- 1. double opt-in, end to end -----------------------------------------------------------

def test_opt_in_from_the_daily_page_to_the_first_digest(
        browser: Any, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from playwright.sync_api import expect

    reader = "reader@example.org"
    with _site(tmp_path, smtp_sink) as (catalog, base):
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        page.goto(base + "/")
        page.locator("header.site").get_by_role("link", name="Subscribe", exact=True).click()
        page.wait_for_url(base + "/subscribe")
        form = page.locator("main form.stacked")
        _fill(form, reader, "Daily", trending=True, query=QUERY)
        _submit(page, form)
        expect(page.locator("main")).to_contain_text(f"We sent a confirmation link to {reader}")

        [pending] = _subscriptions(catalog, reader)
        assert (pending.status, pending.frequency, pending.trending, pending.query,
                pending.user_id) == ("pending", "daily", True, QUERY, None)
        [confirmation] = smtp_sink.wait_for(1)
        assert confirmation["To"] == reader
        assert confirmation["Subject"] == "Confirm your paperfeed digest"
        link = _confirm_link(confirmation, base)
        assert link.split("token=")[1] not in page.content(), "the page must not confirm"

        sender = DigestSender(catalog, catalog.settings)
        before = sender.send("daily")
        assert (before.planned, before.sent) == (0, 0), "nothing before the click"
        assert len(smtp_sink.messages) == 1 and catalog.store.outbox.counts() == {}

        response = page.goto(link)
        assert response is not None and response.status == 200
        expect(page.locator("main h1")).to_have_text("You are subscribed")
        expect(page.locator("main")).to_contain_text(
            f"Daily: trending papers and new papers matching “{QUERY}”, to {reader}")
        assert _status(catalog, pending.id) == "active"

        report = sender.send("daily")
        assert (report.planned, report.sent, report.failed) == (1, 1, 0)
        digest = smtp_sink.wait_for(2)[1]
        assert len(smtp_sink.messages) == 2
        assert digest["To"] == reader
        assert digest["Subject"].startswith("paperfeed · ")
        assert digest["Subject"].endswith(TODAY.strftime(" · %A, %B %-d, %Y")), digest["Subject"]
        unsubscribe = re.fullmatch(r"<(\S+)>", digest["List-Unsubscribe"])
        assert unsubscribe and unsubscribe.group(1).startswith(base + "/unsubscribe?token=")
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, body = _text(digest), _html(digest)
        wanted = [GRAPHS, PROTEIN, *PAIRWISE]  # top two trending, then the search's two
        for title in wanted:
            assert title in text and html.escape(title) in body, title
        for title in (LENSING, OLD_PAIRWISE):  # third in trending; out of the period
            assert title not in text and html.escape(title) not in body, title
        assert f"New for “{QUERY}”" in text
        assert "<script" not in body.lower()

        # The HTML part as a mail client would show it, 640px wide.
        mail = browser.new_context(viewport=EMAIL_WIDTH)
        view = mail.new_page()
        view.set_content(body)
        assert view.locator("script").count() == 0
        _no_sideways_scroll(view, EMAIL_WIDTH["width"], "the digest email")
        hrefs = view.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
        for href in hrefs:
            parts = urlsplit(href)
            assert (f"{parts.scheme}://{parts.netloc}" == base
                    or href.startswith("https://arxiv.org/pdf/")), f"link off the site: {href}"
        papers = {urlsplit(h).path.removeprefix("/papers/") for h in hrefs
                  if urlsplit(h).path.startswith("/papers/")}
        assert papers == {ARXIV[t] for t in wanted}, papers
        assert base + "/subscriptions" in hrefs and unsubscribe.group(1) in hrefs
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        view.screenshot(path=str(SCREENSHOTS / "digest-email.png"), full_page=True)

        # A paper link from the email opens that paper on the site.
        view.get_by_role("link", name=PAIRWISE[0]).click()
        view.wait_for_url(f"{base}/papers/{ARXIV[PAIRWISE[0]]}")
        expect(view.locator("main h1")).to_contain_text(PAIRWISE[0])
        mail.close()
        ctx.close()


# -- 2. unsubscribing from a digest --------------------------------------------------------

def test_unsubscribe_link_in_a_digest_asks_then_unsubscribes(
        browser: Any, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from playwright.sync_api import expect

    reader = "leaving@example.org"
    with _site(tmp_path, smtp_sink) as (catalog, base):
        store = catalog.store
        subscription = store.subscriptions.add(reader, "daily", True, None)
        store.subscriptions.set_status(subscription.id, "active")
        sender = DigestSender(catalog, catalog.settings)
        assert sender.send("daily").sent == 1
        [digest] = smtp_sink.wait_for(1)
        found = re.fullmatch(r"<(\S+)>", digest["List-Unsubscribe"])
        assert found is not None
        url = found.group(1)
        assert url in _text(digest) and html.escape(url) in _html(digest), \
            "the footer's unsubscribe link is the header's"

        ctx = browser.new_context(viewport=DESKTOP)  # no cookies: opened from a mail client
        page = ctx.new_page()
        for _ in range(2):  # a link scanner's GET, then the reader's: neither unsubscribes
            response = page.goto(url)
            assert response is not None and response.status == 200
            expect(page.locator("main h1")).to_have_text("Unsubscribe?")
            expect(page.locator("main")).to_contain_text(f"{reader} gets: Daily: trending papers")
            assert _status(catalog, subscription.id) == "active", "a GET must not unsubscribe"

        with page.expect_navigation() as nav:
            page.locator("main").get_by_role("button", name="Unsubscribe").click()
        assert nav.value.status == 200
        expect(page.locator("main h1")).to_have_text("Unsubscribed")
        expect(page.locator("main")).to_contain_text(f"{reader} will get no more of")
        assert _status(catalog, subscription.id) == "unsubscribed"

        tomorrow = sender.send("daily", now=datetime.now(UTC) + timedelta(days=1))
        assert tomorrow.planned == 0 and len(smtp_sink.messages) == 1
        page.goto(url)
        expect(page.locator("main")).to_contain_text("This subscription has already ended.")
        assert page.locator("main").get_by_role("button", name="Unsubscribe").count() == 0
        ctx.close()


# -- 3. a member's digests page, and screenshots -------------------------------------------

def test_member_adds_confirms_previews_pauses_and_resumes(
        browser: Any, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from playwright.sync_api import expect

    with _site(tmp_path, smtp_sink) as (catalog, base):
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        sign_up(page, base, "maya", smtp_sink)
        email = "maya@example.org"
        page.locator("nav.account").get_by_role("link", name="Digests").click()
        page.wait_for_url(base + "/subscriptions")
        main = page.locator("main")
        expect(main).to_contain_text("No subscriptions yet.")
        form = main.locator("form.stacked")
        assert form.get_by_label("Email").input_value() == email
        assert form.get_by_label("Weekly").is_checked()
        assert form.get_by_label("Trending papers").is_checked()
        _submit(page, form)

        page.locator("nav.account").get_by_role("link", name="Digests").click()
        page.wait_for_url(base + "/subscriptions")
        card = page.locator("main article.subscription")
        expect(card).to_have_count(1)
        expect(card.locator("h2")).to_have_text("Weekly: trending papers")
        expect(card.locator(".status")).to_have_text(
            "Waiting for you to confirm (check your inbox)")
        assert card.get_by_role("link", name="Preview next").count() == 0
        [subscription] = _subscriptions(catalog, email)
        user = catalog.store.members.user_by_name("maya")
        assert user is not None and subscription.user_id == user.id
        assert subscription.status == "pending"

        [confirmation] = smtp_sink.wait_for(1)
        assert confirmation["To"] == email
        page.goto(_confirm_link(confirmation, base))
        expect(page.locator("main h1")).to_have_text("You are subscribed")
        page.goto(base + "/subscriptions")
        expect(card.locator(".status")).to_have_text("Active")
        assert _status(catalog, subscription.id) == "active"

        card.get_by_role("link", name="Preview next").click()
        page.wait_for_url(f"{base}/subscriptions/{subscription.id}/preview")
        body = page.locator("body")
        expect(body).to_contain_text("Trending papers")
        expect(body).to_contain_text(GRAPHS)
        expect(body).to_contain_text(PROTEIN)
        assert LENSING not in body.inner_text(), "a digest section holds digest_size papers"
        assert "Nothing new yet" not in body.inner_text()
        assert page.locator("script").count() == 0
        # Its inline styles apply under the preview's own CSP (a browser default h1 is 32px).
        expect(page.locator("h1").first).to_have_css("font-size", "20px")
        page.go_back()
        page.wait_for_url(base + "/subscriptions")

        for button, shown, status in (("Pause", "Paused", "paused"),
                                      ("Resume", "Active", "active")):
            with page.expect_navigation():
                card.get_by_role("button", name=button).click()
            page.wait_for_url(base + "/subscriptions")
            expect(card.locator(".status")).to_have_text(shown)
            assert _status(catalog, subscription.id) == status, button
        assert len(smtp_sink.messages) == 1, "pausing and resuming send no email"

        # A second, daily saved search for the screenshot.
        store = catalog.store
        second = store.subscriptions.add(email, "daily", False, QUERY, user.id)
        store.subscriptions.set_status(second.id, "active")
        page.reload()
        expect(card).to_have_count(2)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "subscriptions.png"))
        ctx.close()

        for suffix, viewport in (("", DESKTOP), ("-phone", PHONE)):
            ctx = browser.new_context(viewport=viewport)
            page = ctx.new_page()
            response = page.goto(base + "/subscribe")
            assert response is not None and response.status == 200
            form = page.locator("main form.stacked")
            _fill(form, "you@example.org", "Weekly", trending=True, query=QUERY)
            page.evaluate("document.activeElement.blur()")
            if suffix:
                _no_sideways_scroll(page, viewport["width"], "/subscribe")
            page.screenshot(path=str(SCREENSHOTS / f"subscribe{suffix}.png"))
            if suffix:
                sign_up(page, base, "maya2", smtp_sink)
                page.goto(base + "/subscriptions")
                _no_sideways_scroll(page, viewport["width"], "/subscriptions")
            ctx.close()


# -- 4. nobody subscribes an address they cannot read --------------------------------------

def test_subscribing_someone_else_sends_only_the_confirmation(
        browser: Any, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from playwright.sync_api import expect

    victim = "victim@example.org"
    with _site(tmp_path, smtp_sink) as (catalog, base):
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        page.goto(base + "/subscribe")
        form = page.locator("main form.stacked")
        _fill(form, victim, "Daily", trending=True, query=QUERY)
        _submit(page, form)
        attacker_sees = page.content()

        [subscription] = _subscriptions(catalog, victim)
        assert subscription.status == "pending" and subscription.user_id is None
        [confirmation] = smtp_sink.wait_for(1)
        assert confirmation["To"] == victim
        token = _confirm_link(confirmation, base).split("token=")[1]
        assert token not in attacker_sees, "the confirmation token must only be in the email"

        report = DigestSender(catalog, catalog.settings).send("daily")
        assert (report.planned, report.sent) == (0, 0)
        assert len(_to(smtp_sink, victim)) == 1 == len(smtp_sink.messages), \
            "the victim gets the confirmation, and no digest"
        assert _status(catalog, subscription.id) == "pending"

        # Nor can the form flood the address with confirmations, however it is spelt.
        for spelling in ("Victim@example.org", "VICTIM@example.org", "victim@Example.org",
                         "vIctim@example.ORG"):
            page.goto(base + "/subscribe")
            _fill(form, spelling, "Weekly", trending=True, query="")
            _submit(page, form)
        page.goto(base + "/subscribe")
        _fill(form, "victiM@example.org", "Weekly", trending=True, query="")
        with page.expect_navigation() as nav:
            form.get_by_role("button", name="Subscribe").click()
        assert nav.value.status == 400
        expect(page.locator("main")).to_contain_text("asked for several subscriptions today")
        assert len(_to(smtp_sink, victim)) == 5, "at most five confirmations a day"
        assert {s.status for s in _subscriptions(catalog, victim)} == {"pending"}
        ctx.close()

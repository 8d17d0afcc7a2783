"""The site in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperfeed.catalog import Catalog
from paperfeed.models import Paper

from ..conftest import LiveServer, make_settings
from .browser import SCREENSHOTS, needs_chromium
from .test_pages import HOSTILE_TITLE

pytestmark = needs_chromium



def test_search_then_open_paper(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    assert page.locator("article.paper").count() > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # the community pages: test_browser_community
    page.fill("input[name=q]", "pairwise ranking loss")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=pairwise*")
    results = page.locator("article.paper")
    assert results.count() >= 10
    assert page.locator("article.paper mark").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "search.png"))
    first = results.first.locator("h2 a")
    title = first.inner_text().strip()
    first.click()
    page.wait_for_url("**/papers/**")
    assert page.locator("h1").inner_text().strip() == title
    assert page.locator("section.similar article").count() == 10
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(live_server.url + "/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"


def test_hostile_title_is_inert_in_browser(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog = Catalog(make_settings(tmp_path, load_demo=False))
    catalog.ingest([Paper(title=HOSTILE_TITLE, abstract="About graphs.",
                          published=date(2025, 1, 2), source="test", source_ref="t")])
    catalog.reindex()
    with LiveServer(catalog) as server:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server.url + "/search?q=hostile")
        link = page.locator("article.paper h2 a").first
        assert "<script>" in link.inner_text()  # shown as text
        link.click()
        page.wait_for_url("**/papers/**")
        assert page.locator("h1").inner_text() == HOSTILE_TITLE.strip()
        assert page.locator("img[src=x]").count() == 0
        assert dialogs == []


MAIN_PAGES = ["/", "/trending", "/papers/week", "/papers/month", "/search?q=pairwise+ranking",
              "/login", "/signup", "/forgot", "/subscribe", "/api", "/no/such/page"]


def test_no_page_breaks_the_content_security_policy(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """Chromium reports every blocked inline script, style or load on the console."""
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{page.url}: {message.text}"))
    for path in MAIN_PAGES:
        answer = page.goto(live_server.url + path)
        assert answer is not None and "'self'" in answer.headers["content-security-policy"]
    page.goto(live_server.url + "/")
    page.locator("article.paper h2 a").first.click()  # a paper page, with its similar papers
    page.wait_for_url("**/papers/**")
    page.locator("form.vote button").first.click()  # app.js: a logged-out vote goes to login
    page.wait_for_url("**/login?next=*")
    assert [line for line in console if "Content Security Policy" in line] == []

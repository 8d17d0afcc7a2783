"""Lists and search in a real headless Chromium (issue 9, items 18-19)."""

from __future__ import annotations

from ..conftest import LiveServer
from .browser import needs_chromium

pytestmark = needs_chromium


def test_api_page_fits_a_phone(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(live_server.url + "/api")
    assert phone.locator("section.api article").count() > 3
    overflow = phone.evaluate("""() => [...document.querySelectorAll('section.api *')]
        .filter(e => e.getBoundingClientRect().right > 390.5)
        .map(e => e.tagName + ': ' + e.textContent.slice(0, 40))""")
    assert overflow == [], "wider than the screen"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scroll"


def test_header_search_does_not_submit_an_empty_query(browser, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/papers/month")
    page.locator("form.search button").click()
    page.wait_for_timeout(300)
    assert page.url == live_server.url + "/papers/month"
    assert page.evaluate("document.querySelector('form.search input').validity.valueMissing")

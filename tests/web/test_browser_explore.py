"""Cards, compact view, dark mode, keyboard shortcuts and author pages in a real headless
Chromium (issue 13, part 1 and 2)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from ..conftest import LiveServer
from .browser import SCREENSHOTS, needs_chromium
from .explore import HOSTILE_NAME, explore_catalog

pytestmark = needs_chromium
DAY_URL = "/papers/date/2019-05-17"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    catalog = explore_catalog(tmp_path_factory.mktemp("explore-browser"))
    with LiveServer(catalog) as server:
        yield server


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def _cards_in_view(page) -> int:  # type: ignore[no-untyped-def]
    """Cards wholly inside the viewport."""
    return int(page.evaluate("""() => [...document.querySelectorAll('article.paper')]
        .filter(a => { const r = a.getBoundingClientRect();
                       return r.top >= 0 && r.bottom <= innerHeight; }).length"""))


def test_keyboard_moves_between_cards_opens_and_shows_help(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site.url + DAY_URL)
    focused_id = "document.activeElement.closest('article.paper')?.id ?? null"
    ids = page.eval_on_selector_all("article.paper", "all => all.map(a => a.id)")
    page.keyboard.press("j")
    assert page.evaluate(focused_id) == ids[0]
    outline = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert outline != "none", "the focused card is visibly marked"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.evaluate(focused_id) == ids[1]
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    page.keyboard.press("j")  # keys do nothing behind the open dialog
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate(focused_id) == ids[1]
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("jk")  # typing in the search box is text, not navigation
    assert page.input_value("form.search input") == "jk"
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("j")
    page.keyboard.press("j")
    title = page.locator(f"#{ids[1]} h2 a").inner_text()
    page.keyboard.press("o")
    page.wait_for_url("**/papers/**")
    assert page.locator("h1").first.inner_text().strip() == title.strip()


def test_upvote_key_asks_a_visitor_to_log_in(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site.url + DAY_URL)
    page.keyboard.press("j")
    page.keyboard.press("u")
    page.wait_for_url("**/login?next=*why=upvote*")


def test_dark_mode_toggle_changes_the_background_and_persists(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    page = context.new_page()
    page.goto(site.url + DAY_URL)
    background = "getComputedStyle(document.documentElement).backgroundColor"
    light = page.evaluate(background)
    page.get_by_role("button", name="Dark").click()
    dark = page.evaluate(background)
    assert dark != light
    assert page.get_by_role("button", name="Dark").get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.evaluate(background) == dark, "remembered across a reload"
    _shot(page, "explore-dark.png")
    phone = context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(site.url + DAY_URL)
    assert phone.evaluate(background) == dark
    _shot(phone, "explore-dark-phone.png")
    phone.close()
    page.get_by_role("button", name="Dark").click()
    assert page.evaluate(background) == light
    context.close()
    system_dark = browser.new_context(viewport=DESKTOP, color_scheme="dark").new_page()
    system_dark.goto(site.url + DAY_URL)
    assert system_dark.evaluate(background) == dark, "follows prefers-color-scheme"
    system_dark.context.close()


def test_compact_view_shows_eight_papers_and_is_remembered(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(site.url + DAY_URL)
    roomy = _cards_in_view(page)
    page.get_by_role("button", name="Compact").click()
    assert _cards_in_view(page) >= 8 > roomy
    page.goto(site.url + "/papers/date/2019-05-17?sort=newest")
    assert _cards_in_view(page) >= 8, "remembered on the next page"
    _shot(page, "explore-compact.png")
    phone = context.new_page()
    phone.set_viewport_size(PHONE)
    phone.goto(site.url + DAY_URL)
    _shot(phone, "explore-compact-phone.png")
    context.close()


def test_phone_shows_a_paper_above_the_fold(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    phone = browser.new_page(viewport=PHONE)
    phone.goto(site.url + DAY_URL)
    first = phone.locator("article.paper").first
    title = first.locator("h2").bounding_box()
    abstract = first.locator(".abstract").bounding_box()
    assert title and abstract
    assert title["y"] + title["height"] <= PHONE["height"]
    assert abstract["y"] + 40 <= PHONE["height"], "the abstract's first lines show too"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(phone, "explore-daily-phone.png")


def test_phone_header_shows_every_list_link(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    """At 390 px the nav scrolled sideways and "Authors" sat past the edge, unseen."""
    phone = browser.new_page(viewport=PHONE)
    phone.goto(site.url + DAY_URL)
    links = phone.locator("nav.views a")
    assert links.count() >= 7
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], \
            links.nth(i).inner_text()
    assert phone.evaluate("(n => n.scrollWidth <= n.clientWidth)("
                          "document.querySelector('nav.views'))")
    _shot(phone, "explore-header-phone.png")


def test_author_page_from_a_card(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site.url + DAY_URL)
    page.locator("article.paper .authors a", has_text="Ada Lovelace").first.click()
    page.wait_for_url("**/authors/Ada%20Lovelace")
    assert page.locator("h1").inner_text() == "Ada Lovelace"
    assert page.locator("article.paper").count() == 3
    assert page.title() != "pwned", "the hostile co-author and title stay text"
    page.get_by_role("link", name="Charles Babbage").first.click()
    page.wait_for_url("**/authors/Charles%20Babbage")
    assert page.locator("article.paper").count() == 2
    page.goto(site.url + "/authors/Ada%20Lovelace")
    _shot(page, "explore-author.png")
    phone = browser.new_page(viewport=PHONE)
    phone.goto(site.url + "/authors/" + quote(HOSTILE_NAME, safe=""))
    assert phone.title() != "pwned"
    assert HOSTILE_NAME in phone.locator("h1").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.goto(site.url + "/authors/Ada%20Lovelace")
    _shot(phone, "explore-author-phone.png")


def test_category_filter_applies_on_change(browser, site: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site.url + DAY_URL)
    page.select_option("select[name=category]", "hep-ex")
    page.wait_for_url("**category=hep-ex*")
    assert page.locator("article.paper").count() == 1
    page.fill("input[name=day]", "2019-05-10")
    page.wait_for_url("**/papers/date/2019-05-10*")
    assert page.locator("h1").inner_text().endswith("May 10, 2019") or \
        "May 10" in page.locator("h1").inner_text()

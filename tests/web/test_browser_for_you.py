"""For you's cold start in a real headless Chromium: a new member picks papers from a
search ("More like this" toggles in place, no reload), rates a round of 10, and gets
recommendations that say why; the same buttons work without JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperfeed.catalog import Catalog

from ..conftest import LiveServer, make_settings
from .browser import SCREENSHOTS, needs_chromium, sign_up

pytestmark = needs_chromium
DESKTOP = {"width": 1280, "height": 900}


def test_cold_start_pick_rate_ten_then_recommendations_with_why(browser: Any,
                                                                 tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data"))  # the demo corpus
    with LiveServer(catalog) as server:
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_up(page, server.url, "ada")
        page.get_by_role("link", name="For you").click()
        page.wait_for_url("**/for-you")
        assert "Nothing rated yet" in page.locator("p.prompt").inner_text()

        # Pick papers from a search: the button toggles in place (no navigation).
        page.goto(server.url + "/search?q=knowledge+distillation")
        cards = page.locator("article.paper")
        for i in range(2):
            more = cards.nth(i).locator("button.rate-button.more")
            more.click()
            page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'",
                                   arg=more.element_handle())
        assert page.url.endswith("/search?q=knowledge+distillation")

        # One round of 10: the papers the model is least sure of.
        page.goto(server.url + "/for-you/rate")
        round_cards = page.locator("article.paper")
        assert round_cards.count() == 10
        for i in range(10):
            kind = "more" if i < 3 else "less"
            button = round_cards.nth(i).locator(f"button.rate-button.{kind}")
            button.click()
            page.wait_for_function("b => b.getAttribute('aria-pressed') === 'true'",
                                   arg=button.element_handle())
        page.get_by_role("link", name="your recommendations").click()
        page.wait_for_url("**/for-you")
        assert "5 liked, 7 not" in page.locator("p.count").first.inner_text()
        why = page.locator("p.why-for-you").first
        assert why.is_visible() and why.locator("a").count() >= 1
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "for-you.png"))
        why.locator("a").first.click()  # the liked paper it is close to
        page.wait_for_url("**/papers/**")
        assert page.locator("button.rate-button.more").get_attribute("aria-pressed") == "true"
        assert not errors, errors
        ctx.close()


def test_rating_without_javascript_posts_and_comes_back(browser: Any, tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path / "data"))
    with LiveServer(catalog) as server:
        ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
        page = ctx.new_page()
        sign_up(page, server.url, "bea")
        card = page.locator("article.paper").nth(2)
        card_id = card.get_attribute("id")
        card.locator("button.rate-button.less").click()
        page.wait_for_url(f"**/#{card_id}")
        again = page.locator(f"#{card_id} button.rate-button.less")
        assert again.get_attribute("aria-pressed") == "true"
        again.click()  # pressed again: taken back
        page.wait_for_url(f"**/#{card_id}")
        assert page.locator(f"#{card_id} button.rate-button.less").get_attribute(
            "aria-pressed") == "false"
        ctx.close()

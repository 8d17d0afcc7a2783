"""Save in real headless Chromium: in place with JavaScript (no page load), and as a plain
form post without it; the collection page and its share link."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..conftest import LiveServer
from .browser import needs_chromium
from .test_browser_community import DESKTOP, add_member, log_in_on_form, small_corpus

pytestmark = needs_chromium


def _save(page: Any, paper_id: str) -> Any:
    return page.locator(f'article.paper[data-id="{paper_id}"] button.save-button')


def test_save_toggles_in_place_with_js_and_by_form_without(browser: Any,
                                                          tmp_path: Path) -> None:
    from playwright.sync_api import expect

    catalog = small_corpus(tmp_path)
    dora = add_member(catalog, "dora")
    with LiveServer(catalog) as server:
        base = server.url
        ctx = browser.new_context(viewport=DESKTOP)
        page = ctx.new_page()
        page.goto(base + "/login")
        log_in_on_form(page, "dora")
        page.wait_for_url(base + "/")
        loads: list[str] = []
        page.on("load", lambda: loads.append(page.url))
        posts: list[tuple[str, int]] = []
        page.on("response", lambda r: posts.append((urlsplit(r.url).path, r.status))
                if r.request.method == "POST" else None)
        button = _save(page, "2401.00002")
        expect(button).to_have_attribute("aria-pressed", "false")
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true")
        expect(button).to_have_accessible_name("Saved “Graph transformers at scale”")
        assert posts == [("/api/papers/2401.00002/save", 200)] and loads == []
        assert catalog.store.library.saved_keys(dora.id) == {
            catalog.store.papers.get("2401.00002").key}  # type: ignore[union-attr]
        page.reload()
        expect(_save(page, "2401.00002")).to_have_attribute("aria-pressed", "true")
        ctx.close()

        ctx = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
        page = ctx.new_page()
        page.goto(base + "/login")
        log_in_on_form(page, "dora")
        page.wait_for_url(base + "/")
        _save(page, "2401.00004").click()
        page.wait_for_url("**/#paper-*")
        expect(_save(page, "2401.00004")).to_have_attribute("aria-pressed", "true")
        page.get_by_role("link", name="Library").click()
        page.get_by_role("link", name="Saved").click()
        expect(page.locator("article.paper")).to_have_count(2)
        page.get_by_role("button", name="Share by link").click()
        link = page.locator("a.share-link").get_attribute("href")
        ctx.close()

        stranger = browser.new_context(viewport=DESKTOP).new_page()
        stranger.goto(base + link)
        expect(stranger.locator("article.paper")).to_have_count(2)
        expect(stranger.locator("main h1")).to_have_text("Saved")

"""The admin page in a real headless Chromium: reached from the account menu, rendered
without a Content Security Policy complaint, fitting a phone; a screenshot for the docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperfeed.catalog import Catalog
from paperfeed.members.accounts import hash_password

from ..conftest import LiveServer, make_settings
from .browser import PASSWORD, SCREENSHOTS, needs_chromium
from .test_browser_community import DESKTOP, PHONE, log_in

pytestmark = needs_chromium


def test_an_admin_opens_the_admin_page_from_the_account_menu(browser: Any,
                                                             tmp_path: Path) -> None:
    from playwright.sync_api import expect

    catalog = Catalog(make_settings(tmp_path, load_demo=True))
    catalog.store.members.add_user("ada", "ada@example.org", hash_password(PASSWORD),
                                   is_admin=True)
    papers = catalog.store.papers.count()
    with LiveServer(catalog) as server:
        base = server.url
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for suffix, viewport in (("", DESKTOP), ("-phone", PHONE)):
            ctx = browser.new_context(viewport=viewport)
            page = ctx.new_page()
            console: list[str] = []
            page.on("console", lambda message, seen=console: seen.append(message.text))
            log_in(page, base, "ada")
            page.locator("nav.account").get_by_role("link", name="Admin").click()
            page.wait_for_url(base + "/admin")
            main = page.locator("main")
            expect(main.locator("h1")).to_have_text("Site status")
            expect(main.locator("p.hint")).to_contain_text(f"{papers} papers in the store")
            for tier in ("keyword", "vectors-static", "vectors-transformer"):
                row = main.locator(f"tr[data-index='{tier}']")
                expect(row.locator("td.done")).to_contain_text(f"{papers}/{papers}")
                expect(row.locator("td.eta")).to_have_text("done")  # the demo opens embedded
            expect(main.locator("p.members")).to_have_text("Members: 1.")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"/admin scrolls sideways: {width}"
            assert [line for line in console if "Content Security Policy" in line] == []
            page.screenshot(path=str(SCREENSHOTS / f"admin{suffix}.png"), full_page=True)
            ctx.close()

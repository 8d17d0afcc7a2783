"""The discussion in a real headless Chromium (Debian's), driven by Playwright: a member
posts a comment full of hostile Markdown and a reply through the plain forms of the
shared (cached) paper page; nothing in it runs, no element from it is live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..conftest import LiveServer
from .browser import SCREENSHOTS, needs_chromium, sign_up
from .test_browser_community import DESKTOP, PHONE, add_member, small_corpus

pytestmark = needs_chromium

HOSTILE = "\n\n".join([
    "Careful with **this** one:",
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2;alert(2)">',
    "[click](javascript:window.__pwned=3)",
    "<svg onload=alert(4)></svg>",
    '<div onmouseover="alert(5)">hover me</div>',
    "![pixel](http://127.0.0.1:9/pixel.png)",
])


def test_post_and_reply_with_hostile_markdown_inert(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    catalog = small_corpus(tmp_path)
    add_member(catalog, "root")  # the first member (an admin) exists: bea's page is shared
    with LiveServer(catalog) as server:
        base = server.url
        page = browser.new_context(viewport=DESKTOP).new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_up(page, base, "bea")
        page.goto(base + "/papers/2401.00001")
        expect(page.locator("#comments")).to_contain_text("No comments yet.")

        page.fill("#new-comment", HOSTILE)
        with page.expect_navigation():
            page.get_by_role("button", name="Post comment").click()
        assert "#comment-" in page.url
        comment = page.locator("article.comment").first
        expect(comment.locator(".comment-body strong")).to_have_text("this")
        expect(comment.locator(".comment-body")).to_contain_text("<script>window.__pwned=1")
        comment.locator(".comment-body").hover()

        thread = page.locator(".thread").first
        thread.locator("details.reply-form summary").click()
        thread.locator("details.reply-form textarea").fill("A reply with `code`.")
        with page.expect_navigation():
            thread.locator("details.reply-form button[type=submit]").click()
        reply = page.locator("article.comment.reply")
        expect(reply).to_have_count(1)
        expect(reply.locator("code")).to_have_text("code")
        expect(reply.locator(".author")).to_have_text("bea")
        expect(reply.locator("summary", has_text="Edit")).to_be_visible()  # filled per member

        assert dialogs == [], dialogs
        assert page.evaluate("typeof window.__pwned") == "undefined"
        live = page.locator("#comments script, #comments img, #comments svg, "
                            "#comments iframe, #comments div[onmouseover]")
        assert live.count() == 0
        # The only scripts on the page are the site's own, from /static/.
        sources = page.evaluate("[...document.scripts].map(s => s.src)")
        assert sources and all(src.startswith(base + "/static/") for src in sources), sources
        assert page.locator("#comments a[href^='javascript']").count() == 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#comments").screenshot(path=str(SCREENSHOTS / "comments.png"))
        phone = page.context.new_page()
        phone.set_viewport_size(PHONE)
        phone.goto(base + "/papers/2401.00001#comments")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.screenshot(path=str(SCREENSHOTS / "comments-phone.png"))

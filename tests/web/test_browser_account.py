"""The account page in a real headless Chromium: verify by the emailed link, make and
revoke an API token with a hostile label, on a desktop and a phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperfeed.catalog import Catalog

from ..conftest import LiveServer, make_settings
from ..smtp_server import SmtpSink
from .browser import needs_chromium, sign_up
from .test_workers import _free_port

pytestmark = needs_chromium
HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def test_account_page_verify_make_and_revoke_a_token(browser: Any, tmp_path: Path,
                                                     smtp_sink: SmtpSink) -> None:
    from playwright.sync_api import expect

    port = _free_port()
    catalog = Catalog(make_settings(tmp_path / "data", load_demo=False,
                                    base_url=f"http://127.0.0.1:{port}", **smtp_sink.overrides))
    server = LiveServer(catalog)
    server.port = server.server.config.port = port
    with server:
        base = server.url
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            ctx = browser.new_context(viewport=viewport)
            page = ctx.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda dialog, seen=dialogs: (seen.append(dialog.message),
                                                            dialog.dismiss()))
            name = f"ada{viewport['width']}"
            sign_up(page, base, name, smtp_sink)  # lands on /account, verified
            main = page.locator("main")
            expect(main.locator(".notice")).to_contain_text("Your address is verified")
            expect(main).to_contain_text(f"{name}@example.org · verified")

            main.get_by_label("Label").fill(HOSTILE)
            main.get_by_role("button", name="Create a token").click()
            token = main.locator("code.token").inner_text()
            assert token.startswith("pf_")
            expect(main.locator("table.tokens td").first).to_have_text(HOSTILE)
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= viewport["width"], f"/account scrolls sideways: {scroll}"

            main.get_by_role("button", name="Revoke").click()
            page.wait_for_url(base + "/account?notice=revoked")
            expect(main).to_contain_text("No tokens yet.")
            assert dialogs == [], "the label ran no script"
            ctx.close()

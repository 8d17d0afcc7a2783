"""Headless Chromium (Debian's) for the browser tests, driven by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (or $PAPERFEED_CHROMIUM).
Screenshots go to the git-ignored build/screenshots/, so a test run leaves the tree clean;
the README's are refreshed on purpose with PAPERFEED_SCREENSHOTS=docs/screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from ..smtp_server import SmtpSink
from .members import link_in, mail_to

CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / os.environ.get("PAPERFEED_SCREENSHOTS", "build/screenshots")

needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(),
    reason=f"Chromium not found at {CHROMIUM}")

PASSWORD = "correct horse battery"


def sign_up(page: Any, base: str, name: str, sink: SmtpSink | None = None) -> None:
    """Sign up through the header's link and form; logged in, on the daily page. On a
    site that sends email (`sink`): "check your inbox", then the emailed link and its
    button, landing on the account page with a verified address (the sink is cleared)."""
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/signup*")
    page.fill("input[name=username]", name)
    page.fill("input[name=email]", f"{name}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    if sink is None:
        page.wait_for_url(base + "/")
    else:
        page.wait_for_url(base + "/signup")
        assert page.locator("main h1").inner_text() == "Check your inbox"
        page.goto(base + link_in(mail_to(sink, f"{name}@example.org", "Verify"), "/verify"))
        page.get_by_role("button", name="Verify and log in").click()
        page.wait_for_url(base + "/account?notice=verified")
        sink.clear()
    assert page.locator("nav.account").get_by_role("link", name=name).is_visible()

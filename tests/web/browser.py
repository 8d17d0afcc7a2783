"""Headless Chromium (Debian's) for the browser tests, driven by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (or $PAPERFEED_CHROMIUM).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(),
    reason=f"Chromium not found at {CHROMIUM}")

PASSWORD = "correct horse battery"


def sign_up(page: Any, base: str, name: str) -> None:
    """Sign up through the header's link and form; lands on the daily page, logged in."""
    page.goto(base + "/")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/signup*")
    page.fill("input[name=username]", name)
    page.fill("input[name=email]", f"{name}@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(base + "/")
    assert page.locator("nav.account").get_by_role("link", name=name).is_visible()

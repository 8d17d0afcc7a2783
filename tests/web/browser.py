"""Headless Chromium (Debian's) for the browser tests, driven by Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (or $PAPERFEED_CHROMIUM).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PAPERFEED_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists(),
    reason=f"Chromium not found at {CHROMIUM}")

"""scripts/: `setup` installs once, and a test run leaves the git tree as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO
from .web.browser import SCREENSHOTS

FAKE_PIP = """#!/usr/bin/env bash
echo "$@" >> "$(dirname "$0")/../../pip.log"
"""


def _fake_checkout(tmp_path: Path) -> Path:
    """scripts/setup and pyproject.toml beside a .venv whose pip only logs its calls."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "setup", tmp_path / "scripts" / "setup")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in (("python", "#!/usr/bin/env bash\n"), ("pip", FAKE_PIP)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def _installs(checkout: Path, *extras: str) -> list[str]:
    subprocess.run(["bash", str(checkout / "scripts" / "setup"), *extras], check=True,
                   capture_output=True)
    log = checkout / "pip.log"
    return log.read_text().splitlines() if log.exists() else []


def test_setup_installs_once_until_pyproject_changes(tmp_path: Path) -> None:
    checkout = _fake_checkout(tmp_path)
    assert _installs(checkout) == ["install -q -e ."]
    assert len(_installs(checkout)) == 1, "a second start does not reinstall"
    assert _installs(checkout, "test")[-1] == "install -q -e .[test]"
    assert len(_installs(checkout, "test")) == 2
    assert len(_installs(checkout)) == 2
    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# a new dependency\n")
    assert len(_installs(checkout)) == 3, "a changed pyproject.toml reinstalls"


@pytest.mark.skipif("PAPERFEED_SCREENSHOTS" in os.environ,
                    reason="screenshots are being refreshed on purpose")
def test_browser_screenshots_go_to_an_ignored_folder_by_default() -> None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(SCREENSHOTS / "daily.png")],
                             cwd=REPO)
    assert ignored.returncode == 0, f"{SCREENSHOTS} is tracked: a test run dirties the tree"
    assert (REPO / "docs" / "screenshots") not in SCREENSHOTS.parents

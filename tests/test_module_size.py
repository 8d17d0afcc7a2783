"""No module over ~500 lines (the style guide), bench scripts and tests included: a module
that grows past it has more than one job and is split before it is merged."""

from __future__ import annotations

from .conftest import REPO

MAX_LINES = 500
FOLDERS = ("paperfeed", "bench", "scripts", "tests")


def test_no_module_over_500_lines() -> None:
    modules = [path for folder in FOLDERS for path in (REPO / folder).rglob("*.py")]
    assert len(modules) > 100, "the check found the code"
    sizes = {str(path.relative_to(REPO)): len(path.read_text().splitlines()) for path in modules}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}

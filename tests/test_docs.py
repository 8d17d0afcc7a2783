"""Docs that must stay complete: every setting in docs/settings.md and in the README's table."""

from __future__ import annotations

import re

import pytest

from paperfeed.settings import NOT_SETTINGS, PARSERS, declared

from .conftest import REPO

ENTRY = re.compile(r"^`(?P<type>\w+)`(?P<secret>, secret)?; default "
                   r"(?:`(?P<value>[^`]*)`|(?P<empty>empty))\.")


def _sections(markdown: str) -> dict[str, str]:
    """`### PAPERFEED_X` heading -> the text under it."""
    parts = re.split(r"^### (PAPERFEED_\w+)\n", markdown, flags=re.M)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def _mentioned(text: str) -> set[str]:
    names = set(re.findall(r"PAPERFEED_[A-Z0-9_]*[A-Z0-9]", text))
    return {n.removesuffix("_FILE") for n in names} - NOT_SETTINGS


def test_every_setting_has_an_entry_in_docs_settings_md() -> None:
    sections = _sections((REPO / "docs" / "settings.md").read_text())
    rows = {row.env: row for row in declared().values()}
    assert sorted(sections) == sorted(rows), "docs/settings.md: one ### heading per setting"
    for env, body in sections.items():
        row = rows[env]
        entry = ENTRY.match(body)
        assert entry, f"{env}: start with '`type`; default `value`.' (or 'default empty.')"
        assert entry["type"] == row.type.__name__, env
        assert bool(entry["secret"]) == row.secret, f"{env}: say whether it is a secret"
        documented = "" if entry["empty"] else PARSERS[row.type](entry["value"])
        assert documented == row.default, f"{env}: the documented default is not the real one"


@pytest.mark.parametrize("document", ["README.md", "docs/settings.md", "docs/digests.md",
                                      "docs/community.md", "docs/deploy.md", "docs/store.md",
                                      "deploy/paperfeed.env",
                                      "deploy/systemd/paperfeed-web@.service",
                                      "deploy/systemd/paperfeed-worker.service",
                                      "deploy/systemd/paperfeed-backup.service"])
def test_docs_name_no_setting_that_does_not_exist(document: str) -> None:
    known = {row.env for row in declared().values()}
    assert _mentioned((REPO / document).read_text()) <= known


def test_readme_configuration_table_lists_every_setting() -> None:
    readme = (REPO / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## Architecture")]
    rows = [line for line in table.splitlines() if line.startswith("| `PAPERFEED_")]
    first_column = {re.match(r"\| `(PAPERFEED_\w+)`", line)[1] for line in rows}  # type: ignore[index]
    assert first_column == {row.env for row in declared().values()}

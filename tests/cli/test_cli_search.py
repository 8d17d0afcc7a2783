"""`paperfeed search` refuses what it cannot answer, as the API does (issue 9, item 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.cli import main

from ..conftest import FIXTURES


def _search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr("sys.argv", ["paperfeed", "--data-dir", str(tmp_path), "search",
                                     *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    return int(exit_info.value.code or 0)


def test_empty_query_and_reversed_range_exit_nonzero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.argv", ["paperfeed", "--data-dir", str(tmp_path), "ingest",
                                     str(FIXTURES / "arxiv_cs_excerpt.jsonl")])
    with pytest.raises(SystemExit) as ingested:
        main()
    assert ingested.value.code == 2  # the excerpt holds one malformed line, reported
    capsys.readouterr()
    for blank in ("", "  "):
        assert _search(tmp_path, monkeypatch, blank) == 1
        captured = capsys.readouterr()
        assert captured.err == "error: QUERY must not be empty: give words to search for\n"
        assert "no results" not in captured.out
    assert _search(tmp_path, monkeypatch, "neural", "--from", "2024-02-01",
                   "--to", "2024-01-01") == 1
    assert "from=2024-02-01 is after to=2024-01-01" in capsys.readouterr().err

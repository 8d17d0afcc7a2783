"""`paperfeed ingest` and `harvest arxiv` on what goes wrong: unknown files in a folder,
records skipped or amended at the ingest gate, a server that asks to retry."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from paperfeed.cli import cli

from ..sources.conftest import FIXTURES, LocalServer, Reply, fixture_bytes, local_server  # noqa: F401

XML = {"Content-Type": "text/xml; charset=utf-8"}


def run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(home), *args])


def test_a_folder_is_ingested_around_a_file_of_unknown_format(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(FIXTURES / "references.bib", folder / "a.bib")
    (folder / "b-notes.xyz").write_text("not a paper format\n")
    shutil.copy(FIXTURES / "arxiv_cs_excerpt.jsonl", folder / "c.jsonl")
    result = run(tmp_path / "data", "ingest", "--no-index", str(folder))
    assert "skipped " + str(folder / "b-notes.xyz") + ": cannot tell the format" in result.stderr
    assert f"{folder / 'c.jsonl'}: 20 new" in result.stdout, "the file after it is ingested"
    assert result.exit_code == 2, "the exit status says something was skipped"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "0704.0001", "title": "A paper", "abstract": "Text."}))
    assert run(tmp_path / "data2", "ingest", "--no-index", str(good)).exit_code == 0


def test_a_wrong_format_name_is_one_usage_error(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "ingest", "--format", "pdf", str(FIXTURES / "references.bib"))
    assert result.exit_code == 1 and "unknown source format 'pdf'" in str(result.exception)


def test_stored_is_reported_before_indexed(tmp_path: Path) -> None:
    result = run(tmp_path / "data", "ingest", str(FIXTURES / "references.bib"))
    assert result.exit_code == 2, result.output  # the fixture has one broken entry
    stored, indexed = result.stdout.index("stored in"), result.stdout.index("indexed 7 papers")
    assert stored < indexed, result.stdout


def test_skipped_and_amended_records_are_listed_with_file_and_line(tmp_path: Path) -> None:
    base = {"abstract": "An abstract.", "authors": "A. Author"}
    lines = [{**base, "id": "0704.0001", "title": "T" * 5_000_000},
             {**base, "id": "0704.0002", "title": "Big", "abstract": "word " * 4_000_000},
             {**base, "id": "0704.0003", "title": "Fine"}]
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = run(tmp_path / "data", "ingest", "--no-index", str(path))
    assert "skipped big.jsonl:1: title of 5,000,000 characters (limit 2,000)" in result.stderr
    assert "amended big.jsonl:2: abstract cut from 19,999,999 to 20,000 characters" in \
        result.stderr
    assert "2 new, 0 updated, 0 unchanged, 1 skipped" in result.stdout
    assert result.exit_code == 2


def test_harvest_shows_each_retry_and_each_amended_record(
        tmp_path: Path, local_server: LocalServer) -> None:  # noqa: F811
    answers = iter([503, 503, 200])
    page = re.sub(r"<license>[^<]*</license>", "<license>javascript:alert(1)</license>",
                  fixture_bytes("oai_listrecords_page2_last.xml").decode(), count=1)

    def busy_twice(params: dict[str, str]) -> Reply:
        status = next(answers)
        if status == 503:
            return 503, {"Retry-After": "0"}, b"busy"
        return 200, XML, page.encode()

    local_server.route = busy_twice
    result = run(tmp_path / "data", "harvest", "arxiv", "--set", "physics:hep-ex",
                 "--url", local_server.url, "--delay", "0", "--no-index")
    assert result.exit_code == 0, result.output
    retries = [line for line in result.stderr.splitlines() if line.startswith("retrying")]
    assert retries == [f"retrying: HTTP 503 from {local_server.url}; retry {n} of 5 in 0s"
                       for n in (1, 2)]
    assert re.search(r"amended oai:arXiv.org:\S+: dropped link 'license'", result.stderr)
    assert "harvested 3 records in 1 pages" in result.stdout

"""The `paperfeed` command, run in-process with click's CliRunner on real data dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed.cli import cli, main
from paperfeed.errors import ConfigError

from ..sources.conftest import FIXTURES, LocalServer, Reply, fixture_bytes, local_server  # noqa: F401

XML = {"Content-Type": "text/xml; charset=utf-8"}
TOKEN = "4230296|1001"


def run(home: Path, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--data-dir", str(home), *args], catch_exceptions=False)
    return result


def test_ingest_is_idempotent_and_reports_bad_lines(tmp_path: Path) -> None:
    jsonl = FIXTURES / "arxiv_cs_excerpt.jsonl"
    first = run(tmp_path, "ingest", str(jsonl))
    assert first.exit_code == 2, first.output  # 2: something was skipped
    assert "20 new, 0 updated, 0 unchanged, 1 skipped" in first.output
    assert "arxiv_cs_excerpt.jsonl:11" in first.output
    second = run(tmp_path, "ingest", str(jsonl))
    assert "0 new, 0 updated, 20 unchanged, 1 skipped" in second.output
    assert "20 papers in the store" in second.output


def test_search_and_similar_json(tmp_path: Path) -> None:
    run(tmp_path, "ingest", str(FIXTURES / "arxiv_cs_excerpt.jsonl"))
    result = run(tmp_path, "search", "neural network", "--limit", "5", "--json")
    items = json.loads(result.output)
    assert 0 < len(items) <= 5
    assert all({"id", "title", "score"} <= item.keys() for item in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    similar = json.loads(run(tmp_path, "similar", items[0]["id"], "--limit", "3",
                             "--json").output)
    assert len(similar) == 3 and items[0]["id"] not in {s["id"] for s in similar}
    text = run(tmp_path, "search", "neural network", "--limit", "2").output
    assert items[0]["title"] in text


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    run(tmp_path, "ingest", str(FIXTURES / "arxiv_cs_excerpt.jsonl"))
    monkeypatch.setattr("sys.argv", ["paperfeed", "--data-dir", str(tmp_path), "similar",
                                     "0000.00000"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.strip() == "error: no paper with id '0000.00000'"
    bogus = tmp_path / "notes.xyz"
    bogus.write_text("hello")
    monkeypatch.setattr("sys.argv", ["paperfeed", "--data-dir", str(tmp_path), "ingest",
                                     str(bogus)])
    with pytest.raises(SystemExit):
        main()
    assert "notes.xyz" in capsys.readouterr().err


def test_harvest_resumes_after_a_failure(tmp_path: Path,
                                         local_server: LocalServer) -> None:  # noqa: F811
    broken = {"on": True}

    def route(params: dict[str, str]) -> Reply:
        if params.get("resumptionToken") == TOKEN:
            if broken["on"]:
                return 500, {}, b"overloaded"
            return 200, XML, fixture_bytes("oai_listrecords_page2_last.xml")
        return 200, XML, fixture_bytes("oai_listrecords_page1.xml")

    local_server.route = route
    args = ("harvest", "arxiv", "--set", "physics:hep-ex", "--from", "2017-12-14",
            "--url", local_server.url, "--delay", "0", "--max-retries", "0", "--no-index")
    failed = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args])
    assert failed.exit_code != 0
    assert "no answer" in str(failed.exception)
    broken["on"] = False
    resumed = run(tmp_path, *args)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming after page 1 (3 records so far)" in resumed.output
    assert "harvested 6 records in 2 pages" in resumed.output
    # The resumed run asked for page 2 by token, never for page 1 again.
    assert local_server.requests[-1] == {"verb": "ListRecords", "resumptionToken": TOKEN}
    assert sum(1 for r in local_server.requests if "resumptionToken" not in r) == 1


def test_user_add_admin_password_and_list(tmp_path: Path) -> None:
    from paperfeed.members import Accounts
    from paperfeed.store import Store

    from ..conftest import make_settings

    ok = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "user", "add", "ada",
                                  "--email", "ada@example.org"],
                            input="correct horse battery\ncorrect horse battery\n")
    assert ok.exit_code == 0 and "added ada (admin)" in ok.output, ok.output
    second = run(tmp_path, "user", "add", "bob", "--email", "bob@example.org",
                 "--password", "another long password")
    assert "added bob" in second.output and "(admin)" not in second.output
    assert "bob is now an admin" in run(tmp_path, "user", "admin", "bob").output
    run(tmp_path, "user", "password", "bob", "--password", "a changed password")
    listing = run(tmp_path, "user", "list").output
    assert "ada@example.org" in listing and listing.count("admin") == 2
    settings = make_settings(tmp_path)
    accounts = Accounts(Store(settings.store_url).members, settings)
    assert accounts.log_in("bob", "a changed password", "127.0.0.1").is_admin
    taken = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "user", "add", "ada",
                                     "--email", "x@example.org", "--password", "long enough pw"])
    assert taken.exit_code != 0 and "already registered" in str(taken.exception)


def test_harvest_asks_the_configured_oai_endpoint(tmp_path: Path,
                                                  local_server: LocalServer) -> None:  # noqa: F811
    """Regression: `harvest arxiv` without --url ignored PAPERFEED_ARXIV_OAI_URL."""
    local_server.route = lambda params: (200, XML, fixture_bytes("oai_listrecords_page2_last.xml"))
    args = ["--data-dir", str(tmp_path), "harvest", "arxiv", "--set", "physics:hep-ex",
            "--delay", "0", "--max-retries", "0", "--no-index"]
    result = CliRunner().invoke(cli, args, env={"PAPERFEED_ARXIV_OAI_URL": local_server.url})
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert local_server.requests == [{"verb": "ListRecords", "metadataPrefix": "arXiv",
                                      "set": "physics:hep-ex"}]
    assert "harvested 3 records in 1 pages" in result.output
    # A flag still beats the environment.
    other = CliRunner().invoke(cli, [*args, "--url", local_server.url + "-flag", "--restart"],
                               env={"PAPERFEED_ARXIV_OAI_URL": "http://127.0.0.1:9/oai"})
    assert other.exit_code == 0, f"{other.output}\n{other.exception!r}"
    assert len(local_server.requests) == 2


def test_errors_are_one_line_and_debug_shows_the_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_PASWORD", "x")
    monkeypatch.setattr("sys.argv", ["paperfeed", "--data-dir", str(tmp_path), "settings"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == ("error: unknown setting PAPERFEED_SMTP_PASWORD; did you "
                                       "mean PAPERFEED_SMTP_PASSWORD?\n")
    monkeypatch.setattr("sys.argv", ["paperfeed", "--debug", "--data-dir", str(tmp_path),
                                     "settings"])
    with pytest.raises(ConfigError, match="PAPERFEED_SMTP_PASWORD"):
        main()

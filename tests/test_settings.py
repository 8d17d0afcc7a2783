"""The settings table: one declaration per setting, everything else derived from it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperfeed import settings as settings_mod
from paperfeed.cli import cli
from paperfeed.errors import ConfigError
from paperfeed.settings import PARSERS, REDACTED, Settings, declared, load_settings
from paperfeed.sources import arxiv_api, arxiv_oai


def test_every_setting_is_declared_once_with_type_default_and_help() -> None:
    rows = declared()
    assert list(rows) == [f.name for f in fields(Settings)]
    for row in rows.values():
        assert row.type in PARSERS, f"{row.name}: no parser for {row.type}"
        assert isinstance(row.default, row.type), f"{row.name}: default is not a {row.type}"
        assert row.help.endswith((".", ")")), f"{row.name}: help should be a sentence"
        assert row.env == "PAPERFEED_" + row.name.upper()
    assert {row.name for row in rows.values() if row.secret} == {"secret_key", "smtp_password",
                                                                     "database_url"}


def test_environment_values_are_parsed_by_type() -> None:
    loaded = load_settings({"PAPERFEED_PORT": "9000", "PAPERFEED_COOKIE_SECURE": "yes",
                            "PAPERFEED_DIGEST_RETRY_BASE_S": "0.5", "PAPERFEED_HOME": "~/pf",
                            "PAPERFEED_SMTP_HOST": "mail.example.org"})
    assert loaded.port == 9000 and loaded.cookie_secure is True
    assert loaded.digest_retry_base_s == 0.5
    assert loaded.home == Path("~/pf").expanduser()
    assert loaded.smtp_host == "mail.example.org"
    assert load_settings({}) == Settings()
    for variable, raw, kind in (("PAPERFEED_PORT", "80x", "int"),
                                ("PAPERFEED_LOAD_DEMO", "maybe", "bool"),
                                ("PAPERFEED_DIGEST_RETRY_BASE_S", "soon", "float")):
        with pytest.raises(ConfigError, match=f"{variable}='{raw}' is not a valid {kind}"):
            load_settings({variable: raw})


def test_precedence_defaults_then_environment_then_flags() -> None:
    env = {"PAPERFEED_HOST": "0.0.0.0", "PAPERFEED_PORT": "9000"}
    loaded = load_settings(env, port=7000, host=None)
    assert (loaded.host, loaded.port, loaded.page_size) == ("0.0.0.0", 7000, 30)


def test_unknown_and_obsolete_names_fail_helpfully(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown setting PAPERFEED_SMTP_PASSWRD; did you mean "
                                          "PAPERFEED_SMTP_PASSWORD"):
        load_settings({"PAPERFEED_SMTP_PASSWRD": "x"})
    with pytest.raises(ConfigError, match="unknown setting PAPERFEED_XYZZY; known: "
                                          "PAPERFEED_HOME, PAPERFEED_DATABASE_URL"):
        load_settings({"PAPERFEED_XYZZY": "x"})
    monkeypatch.setitem(settings_mod.OBSOLETE_SETTINGS, "workers", "use `serve --workers N`")
    with pytest.raises(ConfigError, match="PAPERFEED_WORKERS is no longer a setting: use "):
        load_settings({"PAPERFEED_WORKERS": "4"})
    # Variables read by one command or by the tests are not settings, and not errors.
    assert load_settings({"PAPERFEED_NEW_PASSWORD": "x", "PAPERFEED_SHARED": "/x"}) == Settings()
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({}, colour="blue")


def test_the_store_is_the_sqlite_file_in_home_unless_a_database_url_is_set(
        tmp_path: Path) -> None:
    assert load_settings({}, home=tmp_path).store_url == \
        f"sqlite:///{(tmp_path / 'paperfeed.sqlite').resolve()}"
    url = "postgresql://pf:pw@db.example/pf"
    assert load_settings({"PAPERFEED_DATABASE_URL": url}, home=tmp_path).store_url == url
    (tmp_path / "url").write_text(url + "\n")  # it holds a password: a secret, from a file too
    from_file = load_settings({"PAPERFEED_DATABASE_URL_FILE": str(tmp_path / "url")})
    assert from_file.store_url == url and "pw" not in repr(from_file)


def test_secrets_from_files_and_hidden_from_repr(tmp_path: Path) -> None:
    secret = tmp_path / "smtp_password"
    secret.write_text("hunter2 with spaces\n")
    loaded = load_settings({"PAPERFEED_SMTP_PASSWORD_FILE": str(secret)})
    assert loaded.smtp_password == "hunter2 with spaces"
    assert "hunter2" not in repr(loaded)
    with pytest.raises(ConfigError, match="PAPERFEED_SMTP_PASSWORD or "
                                          "PAPERFEED_SMTP_PASSWORD_FILE, not both"):
        load_settings({"PAPERFEED_SMTP_PASSWORD_FILE": str(secret),
                       "PAPERFEED_SMTP_PASSWORD": "other"})
    with pytest.raises(ConfigError, match="PAPERFEED_SECRET_KEY_FILE: cannot read"):
        load_settings({"PAPERFEED_SECRET_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ConfigError, match="only secrets are read from a file"):
        load_settings({"PAPERFEED_SMTP_HOST_FILE": str(secret)})


def test_settings_command_lists_every_setting_with_secrets_redacted(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("s3cret-key-from-a-file")
    env = {"PAPERFEED_SMTP_PASSWORD": "hunter2", "PAPERFEED_SECRET_KEY_FILE": str(key),
           "PAPERFEED_SMTP_USERNAME": "mailer", "PAPERFEED_MAX_LIMIT": "42"}
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "settings"], env=env)
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output and "s3cret" not in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert list(lines) == list(declared())
    assert REDACTED in lines["smtp_password"] and REDACTED in lines["secret_key"]
    assert "mailer" in lines["smtp_username"] and "= 42 " in lines["max_limit"]
    unset = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "settings"])
    assert REDACTED not in unset.output, "an empty secret is shown as empty"


def test_cli_flags_take_help_and_defaults_from_the_table() -> None:
    result = CliRunner().invoke(cli, ["harvest", "arxiv", "--help"])
    assert "$PAPERFEED_ARXIV_OAI_URL" in result.output
    assert declared()["arxiv_oai_url"].default in result.output
    serve = CliRunner().invoke(cli, ["serve", "--help"]).output
    assert "$PAPERFEED_PORT" in serve and "8000" in serve


def test_sources_default_to_the_configured_endpoints() -> None:
    # The sources keep their own defaults for use as a library; they must agree.
    assert Settings().arxiv_oai_url == arxiv_oai.DEFAULT_OAI_URL
    assert Settings().arxiv_api_url == arxiv_api.DEFAULT_API_URL

"""Accounts: hashing, throttling and reset tokens against a real store."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.errors import BadRequest, LoginFailed, TooManyAttempts
from paperfeed.members import Accounts
from paperfeed.members import accounts as accounts_mod
from paperfeed.store import Store, sqlite_url

from ..conftest import make_settings

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    return Accounts(Store(sqlite_url(tmp_path / "pf.sqlite")).members, make_settings(tmp_path))


def test_passwords_are_argon2id_hashes(accounts: Accounts) -> None:
    user = accounts.sign_up("ada", "ada@example.org", PASSWORD)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert accounts.log_in("ADA", PASSWORD, "127.0.0.1").id == user.id
    with pytest.raises(LoginFailed):
        accounts.log_in("ada", PASSWORD + "x", "127.0.0.1")


@pytest.mark.parametrize("username,email,problem", [
    ("a", "a@example.org", "username"), ("bad name", "a@example.org", "username"),
    ("<script>", "a@example.org", "username"), ("ada", "not-an-email", "email address"),
    ("ada", "Ada <ada@example.org>", "email address"), ("ada", "a@b.c\r\nBcc: x@y.z", "email"),
])
def test_sign_up_checks_names_and_addresses(accounts: Accounts, username: str, email: str,
                                            problem: str) -> None:
    with pytest.raises(BadRequest, match=problem):
        accounts.sign_up(username, email, PASSWORD)


def test_failures_from_one_address_are_limited_across_accounts(accounts: Accounts) -> None:
    accounts.sign_up("ada", "ada@example.org", PASSWORD)
    for i in range(accounts_mod.ADDRESS_FAILURES):
        with pytest.raises(LoginFailed):
            accounts.log_in(f"guess{i}", "wrong password", "10.0.0.9")
    with pytest.raises(TooManyAttempts):
        accounts.log_in("ada", PASSWORD, "10.0.0.9")
    assert accounts.log_in("ada", PASSWORD, "10.0.0.10").username == "ada"


def test_reset_tokens_expire_and_are_single_use(accounts: Accounts,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    user = accounts.sign_up("ada", "ada@example.org", PASSWORD)
    token = accounts.reset_token(user)
    with pytest.raises(BadRequest, match="not valid"):
        accounts.user_for_reset(token[:-2] + "xx")
    monkeypatch.setattr(accounts_mod, "RESET_MAX_AGE_S", -1)
    with pytest.raises(BadRequest, match="expired"):
        accounts.user_for_reset(token)
    monkeypatch.undo()
    session = accounts.start_session(user)
    accounts.reset_password(token, "another long password")
    assert accounts.session_user(session) is None, "a reset ends existing sessions"
    with pytest.raises(BadRequest, match="already been used"):
        accounts.reset_password(token, "a third long password")


def test_site_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = accounts_mod.site_secret(settings)
    assert len(first) >= 40 and accounts_mod.site_secret(settings) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert accounts_mod.site_secret(settings.with_overrides(secret_key="given")) == "given"

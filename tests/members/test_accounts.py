"""Accounts: hashing, throttling and reset tokens against a real store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from paperfeed.errors import BadRequest, LoginFailed, NotFound, TooManyAttempts
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


def _outcome(accounts: Accounts, login: str, password: str, address: str) -> str:
    try:
        accounts.log_in(login, password, address)
    except LoginFailed:
        return "failed"
    except TooManyAttempts:
        return "throttled"
    return "ok"


def test_failures_count_per_account_whichever_name_is_typed(accounts: Accounts) -> None:
    """Issue 9.11: counting keyed on what was typed gave `ada` and `ada@example.org`
    five tries each."""
    accounts.sign_up("ada", "ada@example.org", PASSWORD)
    outcomes = [_outcome(accounts, "ada" if i % 2 else "ADA@example.org ", "wrong password",
                         f"10.0.0.{i}") for i in range(10)]
    assert outcomes == ["failed"] * 5 + ["throttled"] * 5
    assert _outcome(accounts, "ada", PASSWORD, "10.0.1.1") == "throttled", \
        "even the right password waits"


def test_probing_unknown_names_is_limited_per_name(accounts: Accounts) -> None:
    outcomes = [_outcome(accounts, "Nobody" if i % 2 else "nobody", "wrong password",
                         f"10.0.0.{i}") for i in range(accounts_mod.ACCOUNT_FAILURES + 1)]
    assert outcomes == ["failed"] * accounts_mod.ACCOUNT_FAILURES + ["throttled"]
    assert _outcome(accounts, "somebody", "wrong password", "10.0.2.1") == "failed"


def test_register_returns_the_owner_of_a_taken_address(accounts: Accounts) -> None:
    ada = accounts.register("ada", "ada@example.org", PASSWORD)
    assert ada.created and not ada.user.verified
    again = accounts.register("carol", "ADA@example.org", PASSWORD)
    assert not again.created and again.user.id == ada.user.id
    assert accounts.members.user_by_name("carol") is None
    with pytest.raises(BadRequest, match="username is taken"):
        accounts.register("Ada", "someone@example.org", PASSWORD)
    with pytest.raises(BadRequest, match="username is taken"):
        accounts.register("ada", "ada@example.org", PASSWORD)  # name first, whatever address


def test_verification_links_are_bound_to_the_address_and_spent_once(
        accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    user = accounts.sign_up("ada", "ada@example.org", PASSWORD)
    token = accounts.verification_token(user)
    with pytest.raises(BadRequest, match="not valid"):
        accounts.verify(token[:-2] + "xx")
    monkeypatch.setattr(accounts_mod, "VERIFY_MAX_AGE_S", -1)
    with pytest.raises(BadRequest, match="expired"):
        accounts.verify(token)
    monkeypatch.undo()
    other = accounts.sign_up("bob", "bob@example.org", PASSWORD)
    assert accounts.verification_token(other) != token
    verified = accounts.verify(token)
    assert verified.verified and verified.email_verified_at
    assert not accounts.members.user_by_name("bob").verified
    with pytest.raises(BadRequest, match="verified already"):
        accounts.verify(token)
    assert not accounts.members.set_verified(other.id, "ada@example.org"), \
        "verifying is bound to the member's current address"


def test_api_tokens_are_stored_hashed_listed_and_revoked(accounts: Accounts,
                                                         tmp_path: Path) -> None:
    ada = accounts.sign_up("ada", "ada@example.org", PASSWORD)
    bob = accounts.sign_up("bob", "bob@example.org", PASSWORD)
    token, listed = accounts.tokens.create(ada, "my\x1b[31m <b>script</b>\n" + "x" * 200)
    assert token.startswith("pf_") and len(token) > 40
    assert "\x1b" not in listed.label and "\n" not in listed.label and len(listed.label) == 100
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("pf.sqlite*"))  # and -wal
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    assert token.encode() not in stored
    assert accounts.tokens.user_for(token) == ada and accounts.tokens.user_for(token + "x") is None
    [shown] = accounts.tokens.of(ada)
    assert shown.id == listed.id and shown.last_used_at is not None, "using it is recorded"
    assert accounts.tokens.of(bob) == []
    with pytest.raises(NotFound):
        accounts.tokens.revoke(bob, listed.id)  # one member cannot revoke another's token
    assert accounts.tokens.user_for(token) == ada
    accounts.tokens.revoke(ada, listed.id)
    assert accounts.tokens.user_for(token) is None and accounts.tokens.of(ada) == []

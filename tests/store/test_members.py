"""Members, sessions and rate-limit counters."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from paperfeed.errors import Conflict
from paperfeed.store import Store


def test_first_member_is_admin_and_names_are_unique(store: Store) -> None:
    members = store.members
    first = members.add_user("ada", "ada@example.org", "h")
    second = members.add_user("bob", "bob@example.org", "h")
    assert first.is_admin and not second.is_admin
    with pytest.raises(Conflict):
        members.add_user("ADA", "other@example.org", "h")  # names are case-blind
    with pytest.raises(Conflict):
        members.add_user("carol", "BOB@example.org", "h")  # and so are addresses
    assert members.name_or_email_taken("x", "BOB@example.org") == "email"
    assert members.name_or_email_taken("Ada", "new@example.org") == "username"
    assert members.name_or_email_taken("carol", "carol@example.org") is None
    assert members.user_by_login("Ada@Example.org") == first
    assert members.user_by_name("BOB") == second and members.user_by_id(second.id) == second
    assert [u.username for u in members.users()] == ["ada", "bob"]


def test_admin_flag_and_password_change(store: Store) -> None:
    members = store.members
    members.add_user("ada", "ada@example.org", "h")
    bob = members.add_user("bob", "bob@example.org", "h", is_admin=False)
    members.set_admin(bob.id, True)
    members.set_password(bob.id, "new-hash")
    found = members.user_by_id(bob.id)
    assert found is not None and found.is_admin and found.password_hash == "new-hash"


def test_sessions_expire_and_password_change_ends_them(store: Store) -> None:
    members = store.members
    ada = members.add_user("ada", "ada@example.org", "h")
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat(timespec="seconds")
    members.add_session("live", ada.id, future)
    members.add_session("stale", ada.id, past)
    assert members.session_user("live") == ada
    assert members.session_user("stale") is None
    members.add_session("other", ada.id, future)
    members.end_session("other")
    assert members.session_user("other") is None and members.session_user("live") == ada
    members.set_password(ada.id, "new-hash")
    assert members.session_user("live") is None


def test_attempt_counters_per_key(store: Store) -> None:
    members = store.members
    start = time.time()
    members.count_attempt(["account:ada", "address:10.0.0.1"])
    members.count_attempt(["account:ada"])
    count, oldest = members.attempts("account:ada", start - 1)
    assert count == 2 and oldest is not None and start - 1 <= oldest <= time.time()
    assert members.attempts("address:10.0.0.1", start - 1)[0] == 1
    assert members.attempts("account:ada", time.time() + 1) == (0, None)
    members.clear_attempts("account:ada")
    assert members.attempts("account:ada", start - 1) == (0, None)
    assert members.attempts("address:10.0.0.1", start - 1)[0] == 1


def test_verified_addresses(store: Store) -> None:
    members = store.members
    ada = members.add_user("ada", "ada@example.org", "h")
    assert not ada.verified and ada.email_verified_at is None
    assert not members.set_verified(ada.id, "other@example.org"), "only the member's address"
    assert members.set_verified(ada.id, "ADA@example.org")
    assert not members.set_verified(ada.id, "ada@example.org"), "recorded once"
    found = members.user_by_id(ada.id)
    assert found is not None and found.verified
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    members.add_session("live", ada.id, future)
    assert members.session_user("live") == found


def test_api_tokens(store: Store) -> None:
    members = store.members
    ada = members.add_user("ada", "ada@example.org", "h")
    bob = members.add_user("bob", "bob@example.org", "h")
    first = members.add_token(ada.id, "hash-1", "laptop")
    second = members.add_token(ada.id, "hash-2", "<script>")
    members.add_token(bob.id, "hash-3", "bob's")
    with pytest.raises(Conflict):
        members.add_token(bob.id, "hash-1", "same hash")
    assert [t.label for t in members.tokens(ada.id)] == ["laptop", "<script>"]
    assert first.last_used_at is None and first.created_at
    user, token_id, used = members.token_user("hash-2")
    assert user == ada and token_id == second.id and used is None
    members.touch_token(second.id)
    assert members.token_user("hash-2")[2] is not None
    assert members.token_user("nope") is None
    assert not members.revoke_token(bob.id, first.id), "not bob's to revoke"
    assert members.revoke_token(ada.id, first.id)
    assert members.token_user("hash-1") is None
    assert [t.id for t in members.tokens(ada.id)] == [second.id]

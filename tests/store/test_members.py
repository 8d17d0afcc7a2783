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

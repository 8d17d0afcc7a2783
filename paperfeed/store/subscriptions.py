"""Digest subscriptions: who gets which digest, and the state of their delivery.

The double opt-in, tokens and limits live in `paperfeed.digests.subscriptions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from ..models import Subscription
from .database import Database, now_iso

COLUMNS = ("id, email, user_id, frequency, trending, query, status, created_at, confirmed_at,"
           " failures, last_error")
ADD = text("INSERT INTO subscriptions (email, user_id, frequency, trending, query, created_at)"
           " VALUES (:email, :user_id, :frequency, :trending, :query, :now)"
           f" RETURNING {COLUMNS}")
BY_ID = text(f"SELECT {COLUMNS} FROM subscriptions WHERE id = :id")
OF_EMAIL = text(f"SELECT {COLUMNS} FROM subscriptions WHERE email = :email"
                " AND status != 'unsubscribed' ORDER BY id")
RECENT = text("SELECT count(*) FROM subscriptions WHERE email = :email AND created_at >= :since")
SET_STATUS = text(
    "UPDATE subscriptions SET status = :status,"
    " failures = CASE WHEN :active = 1 THEN 0 ELSE failures END,"
    " confirmed_at = CASE WHEN :active = 1 THEN coalesce(confirmed_at, :now) ELSE confirmed_at END"
    " WHERE id = :id")
DUE = text(f"SELECT {COLUMNS} FROM subscriptions WHERE status = 'active'"
           " AND frequency = :frequency ORDER BY id")
FAILED = text("UPDATE subscriptions SET failures = failures + 1, last_error = :error,"
              " status = CASE WHEN failures + 1 >= :pause_after AND status = 'active'"
              " THEN 'paused' ELSE status END WHERE id = :id RETURNING status, failures")
SUCCEEDED = text("UPDATE subscriptions SET failures = 0 WHERE id = :id AND failures > 0")


def to_subscription(row: Mapping[Any, Any]) -> Subscription:
    return Subscription(id=row["id"], email=row["email"], user_id=row["user_id"],
                        frequency=row["frequency"], trending=bool(row["trending"]),
                        query=row["query"], status=row["status"], created_at=row["created_at"],
                        confirmed_at=row["confirmed_at"], failures=row["failures"],
                        last_error=row["last_error"])


class Subscriptions:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, email: str, frequency: str, trending: bool, query: str | None,
            user_id: int | None = None) -> Subscription:
        with self.db.write() as tx:
            row = tx.one(ADD, {"email": email, "user_id": user_id, "frequency": frequency,
                               "trending": int(trending), "query": query, "now": now_iso()})
        return to_subscription(row._asdict())

    def get(self, subscription_id: int) -> Subscription | None:
        row = self.db.one(BY_ID, {"id": subscription_id})
        return to_subscription(row._asdict()) if row else None

    def of_email(self, email: str) -> list[Subscription]:
        """An address's subscriptions, except the ones it left."""
        return [to_subscription(row._asdict()) for row in self.db.all(OF_EMAIL, {"email": email})]

    def recent(self, email: str, since: str) -> int:
        """Subscriptions made for `email` since `since` (ISO time), whatever their state."""
        return int(self.db.scalar(RECENT, {"email": email, "since": since}))

    def set_status(self, subscription_id: int, status: str) -> None:
        """Activating clears the failure count and records the first confirmation."""
        with self.db.write() as tx:
            tx.run(SET_STATUS, {"status": status, "active": int(status == "active"),
                                "now": now_iso(), "id": subscription_id})

    def due(self, frequency: str) -> list[Subscription]:
        return [to_subscription(row._asdict())
                for row in self.db.all(DUE, {"frequency": frequency})]

    def record_failure(self, subscription_id: int, error: str, pause_after: int) -> bool:
        """Count a hard failure; True if this one paused the subscription."""
        with self.db.write() as tx:
            row = tx.one(FAILED, {"error": error[:500], "pause_after": pause_after,
                                  "id": subscription_id})
        return row is not None and row.status == "paused" and row.failures >= pause_after

    def record_success(self, subscription_id: int) -> None:
        with self.db.write() as tx:
            tx.run(SUCCEEDED, {"id": subscription_id})

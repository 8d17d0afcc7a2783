"""The digest outbox and the papers already sent to each address.

Every state change is one transaction, and every claim is a single UPDATE
guarded by the row's current state, so several sender processes can work the
same outbox without ever both owning a digest. How digests are planned and sent
(and why that is exactly once) is in `paperfeed.digests.outbox`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text

from ..models import OutboxItem, Subscription
from .database import Database, now_iso

COLUMNS = ("id, subscription_id, period, email, sections, message_id, status, attempts,"
           " last_error")
ALREADY_SENT = text("SELECT paper_key FROM sent_papers WHERE email = :email"
                    " AND paper_key IN :keys")
IS_PLANNED = text("SELECT 1 FROM outbox WHERE subscription_id = :id AND period = :period")
PLAN = text("INSERT INTO outbox (subscription_id, period, email, sections, message_id, status,"
            " next_attempt_at, created_at) VALUES (:subscription_id, :period, :email,"
            " :sections, :message_id, :status, :now, :created_at)"
            " ON CONFLICT (subscription_id, period) DO NOTHING"
            f" RETURNING {COLUMNS}")
RESERVE = text("INSERT INTO sent_papers (email, paper_key, outbox_id)"
               " VALUES (:email, :paper_key, :outbox_id)")
# PostgreSQL: planners of one address (several subscriptions) take turns, as SQLite's
# single writer makes them, so no paper is reserved twice for it.
PG_ADDRESS_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(lower(:email)))")

# A digest a dead or overdue sender was holding is abandoned.
ABANDONED = "status = 'sending' AND (lease_until < :now OR lease_owner IN :dead)"
SETTLE_HANDED_OVER = text(
    "UPDATE outbox SET status = 'sent', sent_at = :sent_at, lease_owner = NULL,"
    " lease_until = NULL, last_error = 'unconfirmed: the sender stopped after"
    f" handing the message over' WHERE handed_over_at IS NOT NULL AND {ABANDONED}")
SENDING_OWNERS = text("SELECT DISTINCT lease_owner FROM outbox WHERE status = 'sending'")
HANDED_OVER = text("UPDATE outbox SET handed_over_at = :now"
                   " WHERE id = :id AND lease_owner = :owner")
SENT = text("UPDATE outbox SET status = 'sent', sent_at = :sent_at, attempts = attempts + 1,"
            " lease_owner = NULL, lease_until = NULL, last_error = :note"
            " WHERE id = :id AND status = 'sending' AND lease_owner = :owner")
RETRY = text("UPDATE outbox SET status = 'queued', attempts = attempts + 1, last_error = :error,"
             " next_attempt_at = :retry_at, lease_owner = NULL, lease_until = NULL,"
             " handed_over_at = NULL WHERE id = :id AND status = 'sending'"
             " AND lease_owner = :owner")
FAILED = text("UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = :error,"
              " lease_owner = NULL, lease_until = NULL"
              " WHERE id = :id AND status = 'sending' AND lease_owner = :owner")
RELEASE = text("DELETE FROM sent_papers WHERE outbox_id = :id")
# Settled digests of an earlier day; their `sent_papers` rows go with them (ON DELETE CASCADE).
PRUNE = text("DELETE FROM outbox WHERE status IN ('sent', 'failed', 'empty')"
             " AND created_at < :before")
NEXT_RETRY = text("SELECT min(next_attempt_at) FROM outbox WHERE status IN ('queued', 'sending')")


def to_item(row: Mapping[Any, Any]) -> OutboxItem:
    return OutboxItem(id=row["id"], subscription_id=row["subscription_id"],
                      period=row["period"], email=row["email"],
                      sections=json.loads(row["sections"]),
                      message_id=row["message_id"], status=row["status"],
                      attempts=row["attempts"], last_error=row["last_error"])


class Outbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        # PostgreSQL: concurrent claimers skip rows another claim has locked.
        skip_locked = " FOR UPDATE SKIP LOCKED" if db.dialect == "postgresql" else ""
        self._claim = text(
            "UPDATE outbox SET status = 'sending', lease_owner = :owner, lease_until = :until"
            " WHERE id IN (SELECT id FROM outbox WHERE"
            f" (status = 'queued' AND next_attempt_at <= :now) OR ({ABANDONED})"
            f" ORDER BY id LIMIT :limit{skip_locked}) RETURNING {COLUMNS}")

    # -- planning -----------------------------------------------------------------------

    def already_sent(self, email: str, keys: Sequence[int]) -> set[int]:
        if not keys:
            return set()
        return {row[0] for row in self.db.all(ALREADY_SENT, {"email": email,
                                                              "keys": list(keys)})}

    def is_planned(self, subscription_id: int, period: str) -> bool:
        return self.db.one(IS_PLANNED, {"id": subscription_id, "period": period}) is not None

    def plan(self, subscription: Subscription, period: str,
             candidates: Mapping[str, Sequence[int]], limit: int,
             message_id: str, planned_at: str | None = None) -> OutboxItem | None:
        """Queue this period's digest: per section, the first `limit` candidates never
        sent to the address (nor earlier in this digest), reserved for the address in the
        same transaction. None if this period's digest was planned already. `planned_at`
        (ISO 8601, UTC; default now) is what retention counts from."""
        email = subscription.email
        with self.db.write() as tx:
            if self.db.dialect == "postgresql":
                tx.run(PG_ADDRESS_LOCK, {"email": email})
            taken = self.already_sent(email, [k for keys in candidates.values() for k in keys])
            sections: dict[str, list[int]] = {}
            for name, keys in candidates.items():
                chosen = [k for k in dict.fromkeys(keys) if k not in taken][:limit]
                taken.update(chosen)
                if chosen:
                    sections[name] = chosen
            row = tx.one(PLAN, {
                "subscription_id": subscription.id, "period": period, "email": email,
                "sections": json.dumps(sections), "message_id": message_id,
                "status": "queued" if sections else "empty", "now": time.time(),
                "created_at": planned_at or now_iso()})
            if row is None:
                return None
            tx.many(RESERVE, [{"email": email, "paper_key": key, "outbox_id": row.id}
                              for keys in sections.values() for key in keys])
        return to_item(row._asdict())

    # -- delivery -----------------------------------------------------------------------

    def claim(self, owner: str, lease_s: float, limit: int,
              dead_owners: Sequence[str] = ()) -> list[OutboxItem]:
        """Take up to `limit` due digests: queued ones, or ones whose sender's lease ran
        out or whose sender is known to be dead (killed mid-send).

        A dead sender's digest that was already handed over (its final "." was going
        out) is not sent again: the server has most likely accepted it. It is recorded
        as sent, unconfirmed. Any other digest a dead sender held was never accepted."""
        now = time.time()
        dead = list(dead_owners)
        with self.db.write() as tx:
            tx.run(SETTLE_HANDED_OVER, {"sent_at": now_iso(), "now": now, "dead": dead})
            rows = tx.all(self._claim, {"owner": owner, "until": now + lease_s, "now": now,
                                        "dead": dead, "limit": limit})
        return sorted((to_item(row._asdict()) for row in rows), key=lambda item: item.id)

    def sending_owners(self) -> list[str]:
        return [row[0] for row in self.db.all(SENDING_OWNERS)]

    def mark_handed_over(self, outbox_id: int, owner: str) -> None:
        with self.db.write() as tx:
            tx.run(HANDED_OVER, {"now": time.time(), "id": outbox_id, "owner": owner})

    def mark_sent(self, outbox_id: int, owner: str, note: str | None = None) -> bool:
        with self.db.write() as tx:
            return tx.run(SENT, {"sent_at": now_iso(), "note": note, "id": outbox_id,
                                 "owner": owner}) == 1

    def mark_retry(self, outbox_id: int, owner: str, error: str, retry_at: float) -> None:
        with self.db.write() as tx:
            tx.run(RETRY, {"error": error[:500], "retry_at": retry_at, "id": outbox_id,
                           "owner": owner})

    def mark_failed(self, outbox_id: int, owner: str, error: str) -> None:
        """Give up on a digest; its papers may go out in a later one. Only its owner can:
        a sender whose lease ran out must not release a digest another one now sends."""
        with self.db.write() as tx:
            if tx.run(FAILED, {"error": error[:500], "id": outbox_id, "owner": owner}) == 1:
                tx.run(RELEASE, {"id": outbox_id})

    def next_retry_at(self) -> float | None:
        """When the earliest queued digest becomes due (None if nothing is queued)."""
        found = self.db.scalar(NEXT_RETRY)
        return None if found is None else float(found)

    def prune(self, before: str) -> int:
        """Delete the settled digests planned before `before` (ISO 8601, UTC) and the record
        of their papers; queued and sending ones stay. Returns how many were deleted."""
        with self.db.write() as tx:
            return tx.run(PRUNE, {"before": before})

    def counts(self, period: str | None = None) -> dict[str, int]:
        where = " WHERE period = :period" if period else ""
        rows = self.db.all(text(f"SELECT status, count(*) FROM outbox{where} GROUP BY status"),
                           {"period": period} if period else {})
        return {row[0]: row[1] for row in rows}

    def items(self, subscription_id: int | None = None) -> list[OutboxItem]:
        where = " WHERE subscription_id = :id" if subscription_id is not None else ""
        rows = self.db.all(text(f"SELECT {COLUMNS} FROM outbox{where} ORDER BY id"),
                           {"id": subscription_id})
        return [to_item(row._asdict()) for row in rows]

"""Subscriptions, the digest outbox, sent papers and job leases: their SQL, nothing else.

Every state change is one IMMEDIATE transaction, and every claim is a single
UPDATE guarded by the row's current state, so several sender processes can
work the same outbox without ever both owning a digest.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .sqlite import Tables, now_iso

FREQUENCIES = ("daily", "weekly")


@dataclass(frozen=True)
class Subscription:
    id: int
    email: str
    user_id: int | None
    frequency: str
    trending: bool
    query: str | None
    status: str
    created_at: str
    confirmed_at: str | None
    failures: int
    last_error: str | None

    @property
    def describe(self) -> str:
        parts = (["trending papers"] if self.trending else []) + (
            [f"new papers matching “{self.query}”"] if self.query else [])
        return f"{self.frequency.capitalize()}: " + " and ".join(parts)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    subscription_id: int
    period: str
    email: str
    sections: dict[str, list[int]]  # section name -> paper rowids, in digest order
    message_id: str
    status: str
    attempts: int
    last_error: str | None



def _subscription(row: sqlite3.Row | None) -> Subscription | None:
    if row is None:
        return None
    return Subscription(id=row["id"], email=row["email"], user_id=row["user_id"],
                        frequency=row["frequency"], trending=bool(row["trending"]),
                        query=row["query"], status=row["status"], created_at=row["created_at"],
                        confirmed_at=row["confirmed_at"], failures=row["failures"],
                        last_error=row["last_error"])


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(id=row["id"], subscription_id=row["subscription_id"],
                      period=row["period"], email=row["email"],
                      sections=json.loads(row["sections"]),
                      message_id=row["message_id"], status=row["status"],
                      attempts=row["attempts"], last_error=row["last_error"])


class DigestStore(Tables):
    # -- subscriptions ----------------------------------------------------------

    def add_subscription(self, email: str, frequency: str, trending: bool, query: str | None,
                         user_id: int | None = None) -> Subscription:
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO subscriptions (email, user_id, frequency, trending, query,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (email, user_id, frequency, int(trending), query, now_iso()))
            new_id = int(cur.lastrowid or 0)
        found = self.subscription(new_id)
        assert found is not None
        return found

    def subscription(self, subscription_id: int) -> Subscription | None:
        return _subscription(self.conn.execute(
            "SELECT * FROM subscriptions WHERE id = ?", (subscription_id,)).fetchone())

    def subscriptions_of(self, email: str) -> list[Subscription]:
        rows = self.conn.execute("SELECT * FROM subscriptions WHERE email = ?"
                                 " AND status != 'unsubscribed' ORDER BY id", (email,))
        return [s for s in map(_subscription, rows) if s is not None]

    def recent_pending(self, email: str, since: str) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM subscriptions WHERE email = ? AND created_at >= ?",
            (email, since)).fetchone()[0]

    def set_status(self, subscription_id: int, status: str) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE subscriptions SET status = ?, failures = CASE WHEN ? = 'active'"
                " THEN 0 ELSE failures END, confirmed_at = CASE WHEN ? = 'active'"
                " THEN coalesce(confirmed_at, ?) ELSE confirmed_at END WHERE id = ?",
                (status, status, status, now_iso(), subscription_id))

    def due(self, frequency: str) -> list[Subscription]:
        rows = self.conn.execute("SELECT * FROM subscriptions WHERE status = 'active'"
                                 " AND frequency = ? ORDER BY id", (frequency,))
        return [s for s in map(_subscription, rows) if s is not None]

    def record_failure(self, subscription_id: int, error: str, pause_after: int) -> bool:
        """Count a hard failure; True if this one paused the subscription."""
        with self._write() as conn:
            row = conn.execute(
                "UPDATE subscriptions SET failures = failures + 1, last_error = ?,"
                " status = CASE WHEN failures + 1 >= ? AND status = 'active' THEN 'paused'"
                " ELSE status END WHERE id = ? RETURNING status, failures",
                (error[:500], pause_after, subscription_id)).fetchone()
        return row is not None and row["status"] == "paused" and row["failures"] >= pause_after

    def record_success(self, subscription_id: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE subscriptions SET failures = 0 WHERE id = ? AND failures > 0",
                         (subscription_id,))

    # -- planning ---------------------------------------------------------------

    def already_sent(self, email: str, rowids: Sequence[int]) -> set[int]:
        if not rowids:
            return set()
        marks = ",".join("?" * len(rowids))
        return {r[0] for r in self.conn.execute(
            f"SELECT paper_rowid FROM sent_papers WHERE email = ? AND paper_rowid IN ({marks})",
            [email, *rowids])}

    def is_planned(self, subscription_id: int, period: str) -> bool:
        return self.conn.execute("SELECT 1 FROM outbox WHERE subscription_id = ? AND period = ?",
                                 (subscription_id, period)).fetchone() is not None

    def plan(self, subscription: Subscription, period: str,
             candidates: dict[str, Sequence[int]], limit: int,
             message_id: str) -> OutboxItem | None:
        """Queue this period's digest: per section, the first `limit` candidates never
        sent to the address (nor earlier in this digest), reserved for the address in the
        same transaction. None if this period's digest was planned already."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM outbox WHERE subscription_id = ? AND period = ?",
                            (subscription.id, period)).fetchone():
                return None
            taken = self.already_sent(
                subscription.email, [r for rowids in candidates.values() for r in rowids])
            sections: dict[str, list[int]] = {}
            for name, rowids in candidates.items():
                chosen = [r for r in dict.fromkeys(rowids) if r not in taken][:limit]
                taken.update(chosen)
                if chosen:
                    sections[name] = chosen
            cur = conn.execute(
                "INSERT INTO outbox (subscription_id, period, email, sections, message_id,"
                " status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (subscription.id, period, subscription.email, json.dumps(sections), message_id,
                 "queued" if sections else "empty", time.time(), now_iso()))
            outbox_id = int(cur.lastrowid or 0)
            conn.executemany("INSERT INTO sent_papers (email, paper_rowid, outbox_id)"
                             " VALUES (?, ?, ?)",
                             [(subscription.email, r, outbox_id)
                              for rowids in sections.values() for r in rowids])
            row = conn.execute("SELECT * FROM outbox WHERE id = ?", (outbox_id,)).fetchone()
        return _item(row)

    # -- delivery -----------------------------------------------------------------

    def claim(self, owner: str, lease_s: float, limit: int,
              dead_owners: Sequence[str] = ()) -> list[OutboxItem]:
        """Take up to `limit` due digests: queued ones, or ones whose sender's lease ran
        out or whose sender is known to be dead (killed mid-send).

        A dead sender's digest that was already handed over (its final "." was going
        out) is not sent again: the server has most likely accepted it. It is recorded
        as sent, unconfirmed. Any other digest a dead sender held was never accepted."""
        now = time.time()
        marks = ",".join("?" * len(dead_owners)) or "NULL"
        abandoned = (f"status = 'sending' AND (lease_until < ? OR lease_owner IN ({marks}))")
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, lease_owner = NULL,"
                " lease_until = NULL, last_error = 'unconfirmed: the sender stopped after"
                f" handing the message over' WHERE handed_over_at IS NOT NULL AND {abandoned}",
                (now_iso(), now, *dead_owners))
            rows = conn.execute(
                "UPDATE outbox SET status = 'sending', lease_owner = ?, lease_until = ?"
                " WHERE id IN (SELECT id FROM outbox WHERE"
                "  (status = 'queued' AND next_attempt_at <= ?)"
                "  OR (status = 'sending' AND (lease_until < ?"
                f"      OR lease_owner IN ({marks})))"
                "  ORDER BY id LIMIT ?) RETURNING *",
                (owner, now + lease_s, now, now, *dead_owners, limit)).fetchall()
        return sorted((_item(r) for r in rows), key=lambda item: item.id)

    def sending_owners(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT lease_owner FROM outbox WHERE status = 'sending'")]

    def mark_handed_over(self, outbox_id: int, owner: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE outbox SET handed_over_at = ? WHERE id = ? AND lease_owner = ?",
                         (time.time(), outbox_id, owner))

    def mark_sent(self, outbox_id: int, owner: str, note: str | None = None) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1,"
                " lease_owner = NULL, lease_until = NULL, last_error = ?"
                " WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                (now_iso(), note, outbox_id, owner))
        return cur.rowcount == 1

    def mark_retry(self, outbox_id: int, owner: str, error: str, retry_at: float) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'queued', attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL,"
                " handed_over_at = NULL"
                " WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                (error[:500], retry_at, outbox_id, owner))

    def mark_failed(self, outbox_id: int, owner: str, error: str) -> None:
        """Give up on a digest; its papers may go out in a later one."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,"
                " lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                (error[:500], outbox_id, owner))
            conn.execute("DELETE FROM sent_papers WHERE outbox_id = ?", (outbox_id,))

    def next_retry_at(self) -> float | None:
        """When the earliest queued digest becomes due (None if nothing is queued)."""
        return self.conn.execute("SELECT min(next_attempt_at) FROM outbox"
                                 " WHERE status IN ('queued', 'sending')").fetchone()[0]

    def counts(self, period: str | None = None) -> dict[str, int]:
        sql = "SELECT status, count(*) FROM outbox"
        args: tuple[str, ...] = ()
        if period:
            sql += " WHERE period = ?"
            args = (period,)
        return dict(self.conn.execute(sql + " GROUP BY status", args).fetchall())

    def outbox(self, subscription_id: int | None = None) -> list[OutboxItem]:
        sql, args = "SELECT * FROM outbox", ()
        if subscription_id is not None:
            sql, args = sql + " WHERE subscription_id = ?", (subscription_id,)
        return [_item(r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    # -- job leases ---------------------------------------------------------------

    def try_lock(self, name: str, owner: str, lease_s: float) -> bool:
        now = time.time()
        with self._write() as conn:
            cur = conn.execute(
                "INSERT INTO job_locks (name, owner, until) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
                " WHERE job_locks.until < ? OR job_locks.owner = excluded.owner",
                (name, owner, now + lease_s, now))
        return cur.rowcount == 1

    def unlock(self, name: str, owner: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM job_locks WHERE name = ? AND owner = ?", (name, owner))

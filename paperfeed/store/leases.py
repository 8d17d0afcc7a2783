"""Leases: jobs only one process may run at a time, across processes and hosts
(harvesting). A lease is a row with an owner and an end: taking it succeeds if it
is free, expired, or already ours; a crashed owner's lease simply runs out."""

from __future__ import annotations

import time

from sqlalchemy import text

from .database import Database

TAKE = text("INSERT INTO job_locks (name, owner, until) VALUES (:name, :owner, :until)"
            " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
            " WHERE job_locks.until < :now OR job_locks.owner = excluded.owner")
RELEASE = text("DELETE FROM job_locks WHERE name = :name AND owner = :owner")


class Leases:
    def __init__(self, db: Database) -> None:
        self.db = db

    def acquire(self, name: str, owner: str, lease_s: float) -> bool:
        """Take (or extend) the lease `name` for `lease_s` seconds; False if another
        owner holds it."""
        now = time.time()
        with self.db.write() as tx:
            return tx.run(TAKE, {"name": name, "owner": owner, "until": now + lease_s,
                                 "now": now}) == 1

    def release(self, name: str, owner: str) -> None:
        with self.db.write() as tx:
            tx.run(RELEASE, {"name": name, "owner": owner})

"""Harvest cursors: where each resumable harvest stopped, saved after every page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from ..models import HarvestCursor
from .database import Database, now_iso

GET = text("SELECT name, resumption_token, from_date, pages, records, last_error, updated_at"
           " FROM harvest_state WHERE name = :name")
LATEST = text("SELECT name, resumption_token, from_date, pages, records, last_error, updated_at"
              " FROM harvest_state ORDER BY updated_at DESC, name LIMIT 1")
SAVE = text("INSERT INTO harvest_state (name, resumption_token, from_date, pages, records,"
            " last_error, updated_at) VALUES (:name, :resumption_token, :from_date, :pages,"
            " :records, :last_error, :now) ON CONFLICT (name) DO UPDATE SET"
            " resumption_token = excluded.resumption_token, from_date = excluded.from_date,"
            " pages = excluded.pages, records = excluded.records,"
            " last_error = excluded.last_error, updated_at = excluded.updated_at")


class Harvests:
    def __init__(self, db: Database) -> None:
        self.db = db

    def cursor(self, name: str) -> HarvestCursor | None:
        return _cursor(self.db.one(GET, {"name": name}))

    def latest(self) -> HarvestCursor | None:
        """The harvest that saved a page last, whichever it was (the admin page's)."""
        return _cursor(self.db.one(LATEST))

    def save(self, name: str, *, resumption_token: str | None, from_date: str | None,
             pages: int, records: int, last_error: str | None = None) -> None:
        with self.db.write() as tx:
            tx.run(SAVE, {"name": name, "resumption_token": resumption_token,
                                "from_date": from_date, "pages": pages, "records": records,
                                "last_error": last_error, "now": now_iso()})


def _cursor(row: Any) -> HarvestCursor | None:
    if row is None:
        return None
    return HarvestCursor(name=row.name, resumption_token=row.resumption_token,
                         from_date=row.from_date, pages=row.pages, records=row.records,
                         last_error=row.last_error, updated_at=row.updated_at)

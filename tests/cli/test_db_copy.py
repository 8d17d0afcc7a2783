"""`paperfeed db copy --to postgresql://…`: a populated SQLite store moved onto a real
PostgreSQL (tests/postgres.py), through the real CLI, nothing lost."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paperfeed.cli import cli
from paperfeed.models import Paper
from paperfeed.store import Store, copy_store

from .populated import populate, rows


def run(home: Path, *args: str, database_url: str | None = None) -> Any:
    return CliRunner().invoke(cli, ["--data-dir", str(home), *args],
                              env={"PAPERFEED_DATABASE_URL": database_url})


def sqlite_store(home: Path) -> str:
    url = f"sqlite:///{home / 'paperfeed.sqlite'}"
    store = Store(url)
    populate(store)
    store.close()
    return url


def test_copy_to_postgresql_loses_nothing_and_new_rows_get_new_ids(tmp_path: Path,
                                                                   postgres: Any) -> None:
    source = sqlite_store(tmp_path)
    target = postgres.empty_database()  # no schema yet: the copy migrates it (citext too)
    result = run(tmp_path, "db", "copy", "--to", target)
    assert result.exit_code == 0, result.output
    assert "every table has the same rows count" in result.output
    assert "papers                       20         20" in result.output
    assert rows(target) == rows(source)

    store = Store(target)  # the store keeps working: sequences are past the copied ids
    try:
        version = store.community.version()
        carol = store.members.add_user("carol", "carol@example.org", "hash-c")
        assert carol.id == 3
        stats = store.papers.upsert([Paper(title="A new paper", arxiv_id="2612.00001",
                                           published=date(2026, 12, 1))])
        assert stats.inserted == 1
        new_key = store.papers.get("2612.00001").key  # type: ignore[union-attr]
        assert new_key == 21
        store.community.vote(carol.id, new_key, True)
        assert store.community.vote_counts([new_key]) == {new_key: 1}
        comment = store.comments.add(carol.id, new_key, "First!")
        assert comment.id == 3
        collection = store.library.create(carol.id, "Mine")
        assert collection.id == 2
        assert store.community.version() == version + 2  # the triggers are back on
    finally:
        store.close()


def test_text_postgresql_cannot_hold_is_copied_without_its_nul(tmp_path: Path,
                                                              postgres: Any) -> None:
    """SQLite stores NUL; PostgreSQL's text refuses it. A comment stored with one (before
    comments were cleaned) is copied without it and the copy says so, rather than the whole
    move failing on one value."""
    source = sqlite_store(tmp_path)
    with closing(sqlite3.connect(tmp_path / "paperfeed.sqlite")) as db:
        db.execute("UPDATE comments SET body = ? WHERE body = 'Agreed'", ("Agreed\x00, really",))
        db.commit()
    target = postgres.empty_database()
    result = run(tmp_path, "db", "copy", "--to", target)
    assert result.exit_code == 0, result.output
    assert "comments: NUL characters removed from 1 values" in result.output
    before, after = rows(source), rows(target)
    assert any(("body", "Agreed\x00, really") in row for row in before["comments"])
    assert any(("body", "Agreed, really") in row for row in after["comments"])
    before.pop("comments"), after.pop("comments")
    assert after == before


def test_copy_refuses_a_target_that_holds_rows(tmp_path: Path, postgres: Any) -> None:
    sqlite_store(tmp_path)
    target = postgres.fresh_database()
    assert run(tmp_path, "db", "copy", "--to", target).exit_code == 0
    before = rows(target)
    again = run(tmp_path, "db", "copy", "--to", target)
    assert again.exit_code == 1
    assert "the target database is not empty (table " in str(again.exception)
    assert rows(target) == before


def test_copy_from_postgresql_back_to_sqlite(tmp_path: Path, postgres: Any) -> None:
    source = postgres.fresh_database()
    store = Store(source)
    populate(store)
    store.close()
    target = f"sqlite:///{tmp_path / 'back.sqlite'}"
    result = run(tmp_path, "db", "copy", "--to", target, database_url=source)
    assert result.exit_code == 0, result.output
    assert rows(target) == rows(source)


def test_a_target_that_cannot_be_reached_is_one_line_without_its_password(tmp_path: Path
                                                                           ) -> None:
    result = run(tmp_path, "db", "copy", "--to", "postgresql://user:hunter2@127.0.0.1:1/db")
    assert result.exit_code == 1
    message = str(result.exception)
    assert message.startswith("cannot open the target database postgresql+psycopg://user:***@")
    assert "hunter2" not in message


@pytest.mark.parametrize("source_backend", ["sqlite", "postgresql"])
def test_the_copy_is_one_snapshot_of_a_store_being_written(tmp_path: Path, postgres: Any,
                                                           source_backend: str) -> None:
    """What the site writes while a copy runs is not half in it: the copy (and a backup
    from PostgreSQL, which is one) holds the store as it was when the copy began."""
    sqlite, pg = f"sqlite:///{tmp_path / 'pf.sqlite'}", postgres.fresh_database()
    source, target = (sqlite, pg) if source_backend == "sqlite" else (pg, sqlite)
    store = Store(source)
    try:
        populate(store)
        before = rows(source)
        key = store.papers.keys_changed_since(0)[0]
        written: list[int] = []

        def write_meanwhile(table: str, copied: int, total: int) -> None:
            if not written:  # after the first batch: the copy is reading
                late = store.members.add_user("late", "late@example.org", "hash")
                store.community.vote(late.id, key, True)
                written.append(store.comments.add(late.id, key, "meanwhile").id)

        report = copy_store(source, target, progress=write_meanwhile)
        assert written and not report.differing
        assert rows(target) == before
        assert rows(source) != before  # the writes are in the source
    finally:
        store.close()

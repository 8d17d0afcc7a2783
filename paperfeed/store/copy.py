"""Copy a whole store into another database: `paperfeed db copy` (SQLite to PostgreSQL, or
back), and the store half of `paperfeed backup` / `restore`.

What makes it safe:

- The target is brought to this paperfeed's schema first (the migrations, which create the
  citext extension on PostgreSQL), and must hold no rows: a copy never merges two stores.
  `replace=True` (restore --force) empties it instead, in the same transaction.
- The source is read in one snapshot (a read transaction on SQLite, REPEATABLE READ on
  PostgreSQL), so a copy taken while `serve` runs is consistent; rows stream in batches
  (a server-side cursor on PostgreSQL), never a whole table in memory.
- The target is written in one transaction: a failed copy leaves it as it was (empty), so
  it can simply be run again. PostgreSQL takes the rows by COPY, SQLite by executemany.
- Counts per table are compared at the end, source (in the snapshot) against target
  (committed); the caller reports a difference as a failure.

Triggers. The community-version triggers (revisions 0004, 0008) would fire once per copied
vote, submission and comment. On PostgreSQL each firing updates the one `community_version`
row inside the copy's transaction, so every update walks that row's growing chain of
versions: quadratic in the number of votes and comments (COPY of 10k / 20k / 40k votes:
2.2 / 7.3 / 39 s with the triggers, 0.4 / 0.5 / 0.6 s without). They are disabled on the copied
tables for the copy (`ALTER TABLE … DISABLE TRIGGER USER`, the owner's right, inside the
transaction: a failure re-enables them with the rollback). Not `session_replication_role =
replica`: it needs a superuser, and it would also skip the foreign-key checks, which here
prove that nothing dangles. On SQLite the triggers stay (an in-place update, cheap). Either
way `community_version` itself is copied last, so it ends at the source's value.

NUL. PostgreSQL's text cannot hold the NUL character, which SQLite stores (member text from
before it was cleaned, paperfeed 0.x comments): such values are copied without it and
counted (`CopyReport.nul_removed`), rather than the whole copy failing on one of them.

Ids. Integer primary keys are copied as they are (papers' keys are in the index files and
the outbox); PostgreSQL's sequences are then set past the largest copied id, else the next
new member, comment or paper would collide with a copied one.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from ..errors import ConfigError, Conflict
from .database import Database, Executor, sqlite_url
from .migrate import current_revision, migrate

BATCH = 5000
# Tables the migrations fill: the revision's own bookkeeping, equal on both sides at one
# revision (so not copied); the community version and the store's identity (replaced by the
# source's, last: a copy continues the source's history, and indexes built from it hold).
BOOKKEEPING = ("alembic_version", "schema_version")
SEEDED = ("community_version", "store_identity")
Progress = Callable[[str, int, int], None]  # (table, rows just copied, rows in all)


@dataclass
class TableCount:
    table: str
    source: int
    target: int


@dataclass
class CopyReport:
    revision: str
    counts: list[TableCount] = field(default_factory=list)
    seconds: float = 0.0
    nul_removed: dict[str, int] = field(default_factory=dict)  # table -> values cleaned

    @property
    def rows(self) -> int:
        return sum(count.source for count in self.counts)

    @property
    def differing(self) -> list[TableCount]:
        return [count for count in self.counts if count.source != count.target]


def copy_store(source_url: str, target_url: str, *, replace: bool = False,
               progress: Progress | None = None) -> CopyReport:
    """Copy every row of the store at `source_url` into `target_url` (see the module's
    docstring). Raises Conflict if the target has rows and `replace` is false; ConfigError
    if either database was made by a newer paperfeed."""
    started = time.perf_counter()
    source, target = Database(source_url), Database(target_url)
    try:
        revision = _prepare(source, "source")
        _prepare(target, "target")
        tables = data_tables(source)
        with source.read() as tx:  # before the snapshot: SQLAlchemy's reads stay out of it
            layout = {table: _columns(tx, table) for table in tables}
        with snapshot(source) as reader, target.write() as writer:
            counts = {table: _count(reader, table) for table in tables}
            if replace:
                _empty(writer, target.dialect, tables)
            else:
                _refuse_rows(writer, tables)
            total = sum(counts.values())
            nul_removed = dict.fromkeys(tables, 0)
            with _triggers_off(writer, target.dialect, tables):
                for table in sorted(tables, key=lambda name: name in SEEDED):  # seeded last
                    nul_removed[table] = _copy_table(reader, writer, table, layout[table],
                                                     total, progress)
            if target.dialect == "postgresql":
                _reset_sequences(writer)
        report = CopyReport(revision, seconds=time.perf_counter() - started,
                            nul_removed={t: n for t, n in nul_removed.items() if n})
        copied = table_counts(target, tables)
        report.counts = [TableCount(table, counts[table], copied[table]) for table in tables]
        return report
    finally:
        source.close()
        target.close()


def renew_identity(url: str) -> str:
    """Give the store at `url` a new identity (after a restore: its change sequence went
    back, so every host's indexes must be rebuilt, not followed on); the new token."""
    token = uuid.uuid4().hex
    db = Database(url)
    try:
        with db.write() as writer:
            writer.run(text("UPDATE store_identity SET token = :token"), {"token": token})
    finally:
        db.close()
    return token


def _prepare(db: Database, role: str) -> str:
    """Migrate `db`; a database that cannot be reached is a one-line error naming it."""
    try:
        return migrate(db)
    except DBAPIError as exc:  # cannot connect, no such database, no right to
        shown = db.url.render_as_string(hide_password=True)
        raise ConfigError(f"cannot open the {role} database {shown}: "
                          f"{str(exc.orig or exc).strip()}") from None


def data_tables(db: Database) -> list[str]:
    """The store's tables, parents before children (foreign keys), without the
    migrations' bookkeeping."""
    with db.read() as tx:
        ordered = inspect(tx.connection).get_sorted_table_and_fkc_names()
    return [name for name, _ in ordered
            if name and name not in BOOKKEEPING and not name.startswith("sqlite_")]


def table_counts(db: Database, tables: list[str] | None = None) -> dict[str, int]:
    with db.read() as tx:
        return {table: _count(tx, table) for table in tables or data_tables(db)}


@contextmanager
def snapshot(db: Database) -> Iterator[Executor]:
    """This thread's connection inside one read-only transaction: every read sees the
    database as it was at the first."""
    with db.read() as tx:
        tx.run(text("BEGIN" if db.dialect == "sqlite"
                     else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        try:
            yield tx
        finally:
            tx.run(text("ROLLBACK"))


def _count(tx: Executor, table: str) -> int:
    return int(tx.scalar(text(f"SELECT count(*) FROM {_name(table)}")))


def _refuse_rows(writer: Executor, tables: list[str]) -> None:
    for table in tables:
        if table not in SEEDED and writer.scalar(text(f"SELECT 1 FROM {_name(table)} LIMIT 1")):
            raise Conflict(f"the target database is not empty (table {table} has rows): "
                           "copy into a new, empty database")


def _empty(writer: Executor, dialect: str, tables: list[str]) -> None:
    if dialect == "postgresql":
        writer.run(text(f"TRUNCATE {', '.join(_name(table) for table in tables)}"))
        return
    for table in reversed(tables):  # children first: no cascades to run
        writer.run(text(f"DELETE FROM {_name(table)}"))


@contextmanager
def _triggers_off(writer: Executor, dialect: str, tables: list[str]) -> Iterator[None]:
    if dialect != "postgresql":
        yield
        return
    for table in tables:
        writer.run(text(f"ALTER TABLE {_name(table)} DISABLE TRIGGER USER"))
    yield
    for table in tables:
        writer.run(text(f"ALTER TABLE {_name(table)} ENABLE TRIGGER USER"))


def _copy_table(reader: Executor, writer: Executor, table: str,
                layout: tuple[list[str], list[str]], total: int,
                progress: Progress | None) -> int:
    """Copy one table; how many values lost a NUL on the way (PostgreSQL only)."""
    columns, key = layout
    cleaned = 0
    names = ", ".join(_name(column) for column in columns)
    order = f" ORDER BY {', '.join(_name(column) for column in key)}" if key else ""
    select = f"SELECT {names} FROM {_name(table)}{order}"
    if table in SEEDED:
        writer.run(text(f"DELETE FROM {_name(table)}"))
    for rows in _batches(reader, select):
        if writer.database.dialect == "postgresql":
            cleaned += _drop_nul(rows)
        _write(writer, table, names, len(columns), rows)
        if progress is not None:
            progress(table, len(rows), total)
    return cleaned


def _drop_nul(rows: list[Any]) -> int:
    """Remove NUL from the text values of `rows` (in place); how many values had one."""
    cleaned = 0
    for i, row in enumerate(rows):
        if any(isinstance(value, str) and "\x00" in value for value in row):
            rows[i] = tuple(value.replace("\x00", "") if isinstance(value, str) else value
                            for value in row)
            cleaned += sum(isinstance(value, str) and "\x00" in value for value in row)
    return cleaned


def _columns(tx: Executor, table: str) -> tuple[list[str], list[str]]:
    """A table's columns, and its primary key's (the order rows are copied in)."""
    inspector = inspect(tx.connection)
    columns = [column["name"] for column in inspector.get_columns(table)]
    return columns, inspector.get_pk_constraint(table)["constrained_columns"]


def _batches(reader: Executor, select: str) -> Iterator[list[Any]]:
    """The rows of `select`, BATCH at a time: sqlite3 steps through them as fetched;
    psycopg would fetch a whole result at once, so a named (server-side) cursor."""
    driver = reader.driver
    cursor = driver.cursor() if reader.database.dialect == "sqlite" \
        else driver.cursor(name="paperfeed_copy")
    try:
        cursor.execute(select)
        while rows := cursor.fetchmany(BATCH):
            yield rows
    finally:
        cursor.close()


def _write(writer: Executor, table: str, names: str, width: int, rows: list[Any]) -> None:
    cursor = writer.driver.cursor()
    try:
        if writer.database.dialect == "postgresql":
            with cursor.copy(f"COPY {_name(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" * width)
        cursor.executemany(f"INSERT INTO {_name(table)} ({names}) VALUES ({marks})", rows)
    except writer.database.driver_errors as exc:
        raise writer.database.translate(exc) from exc
    finally:
        cursor.close()


def _reset_sequences(writer: Executor) -> None:
    """Every serial or identity column's sequence past the largest id copied."""
    serials = writer.all(text(
        "SELECT table_name, column_name,"
        " pg_get_serial_sequence(quote_ident(table_name), column_name) AS sequence"
        " FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')"))
    for row in serials:
        if row.sequence:
            writer.scalar(text(
                f"SELECT setval(:sequence, coalesce((SELECT max({_name(row.column_name)})"
                f" FROM {_name(row.table_name)}), 0) + 1, false)"), {"sequence": row.sequence})


def _name(identifier: str) -> str:
    """Quoted: `key`, `position`, `until` are column names here, and words in some SQL."""
    return '"' + identifier.replace('"', '""') + '"'


def snapshot_file(source_url: str, path: Path) -> None:
    """A consistent copy of the store at `source_url` as a new SQLite file at `path`.

    From SQLite, the backup API copies the pages in one step (`pages=-1`): it reads one
    snapshot, so `serve` may keep writing meanwhile, and it is the fastest way. From
    PostgreSQL, `copy_store` into the new file: the rows of one REPEATABLE READ snapshot."""
    source = Database(source_url)
    try:
        _prepare(source, "source")
        if source.dialect == "postgresql":
            source.close()
            copy_store(source_url, sqlite_url(path))
            return
        target = sqlite3.connect(path)
        try:
            with source.read() as tx:
                tx.driver.backup(target, pages=-1)
        finally:
            target.close()
    finally:
        source.close()


def store_counts(url: str) -> tuple[str | None, dict[str, int]]:
    """The schema revision of the store at `url` and its rows per table, as they are
    (no migration: for reading a backup's snapshot)."""
    db = Database(url)
    try:
        return current_revision(db), table_counts(db)
    finally:
        db.close()


def sqlite_problem(path: Path) -> str | None:
    """What is wrong with the SQLite file at `path` (`PRAGMA integrity_check`), or None."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else str(result)

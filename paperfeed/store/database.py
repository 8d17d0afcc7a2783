"""The database: one SQLAlchemy engine, a connection per thread, transactions, and
driver errors translated into paperfeed's error tree.

Why SQLAlchemy (Core, no ORM): the same `text()` SQL with `:name` binds runs on
SQLite and PostgreSQL, compiled by SQLAlchemy for each driver; Alembic builds both
schemas from one set of revisions; the engine owns the pool and the connect-time
settings; and its dialect knows each driver's error classes, mapped here once into
`Conflict` and `StoreBusy`.

Why statements run on the driver's cursor: a statement through
`Connection.execute` costs ~60 µs of Python on an idle machine (~15 µs raw
sqlite3), most of it building a result object per call; a cached page needs 1-3
statements and a vote 5 with its BEGIN and COMMIT, so that would slow both down
3-4x. Here SQLAlchemy compiles each statement once for the dialect (its
paramstyle), and every call hands the compiled SQL and its parameters to the
driver: ~20 µs a statement. Rows come back as named tuples.

Lists. `x IN :name` in the store's SQL binds a whole list as one parameter: a JSON
array read by `json_each` on SQLite, an array compared with `= ANY` on PostgreSQL.
SQLAlchemy's expanding parameters would render one bind per item on every call
(measured: 150 µs for 30 keys, against 25 µs this way, and the page's votes are
such a list).

Connections. Each thread keeps one connection (web handler threads, the store
follower, a sender), in driver autocommit: a read runs alone and sees the latest
committed state without taking any lock; `write()` opens the transaction itself
(SQLAlchemy's pysqlite recipe: the driver emits no BEGIN, we do). On SQLite that is
`BEGIN IMMEDIATE`, so writers queue on the database lock (up to BUSY_TIMEOUT_S)
instead of failing halfway with "database is locked"; a nested `write()` joins the
transaction already open on its thread.

Dialects differ in a few statements only; `dialect` ("sqlite" or "postgresql")
lets the store pick them, and nothing outside paperfeed/store sees it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

from ..errors import BadRequest, ConfigError, Conflict, PaperfeedError, StoreBusy

BUSY_TIMEOUT_S = 30.0
SQLITE_PRAGMAS = ("synchronous=NORMAL", "foreign_keys=ON", "cache_size=-65536")
BEGIN = {"sqlite": "BEGIN IMMEDIATE", "postgresql": "BEGIN"}
# PostgreSQL SQLSTATEs that mean "wait and retry": lock timeout, serialization, deadlock.
PG_BUSY = {"55P03", "40001", "40P01"}
MAX_COMPILED = 1024  # statements kept compiled; the store has ~150 distinct ones
LIST_PARAM = re.compile(r"\bIN :(\w+)")
LIST_IN = {"sqlite": r"IN (SELECT value FROM json_each(:\1))", "postgresql": r"= ANY(:\1)"}
Params = Mapping[str, Any]


def now_iso() -> str:
    """Timestamps are stored as ISO 8601 text in UTC: they sort as text on both databases."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


class Executor:
    """Runs statements on this thread's connection (see `Database.read`/`write`)."""

    def __init__(self, database: Database, connection: Connection) -> None:
        self.database = database
        self.connection = connection  # SQLAlchemy's, for Alembic
        self._dbapi = connection.connection.dbapi_connection

    @property
    def driver(self) -> Any:
        """The driver's own connection (sqlite3 or psycopg), for what SQL statements
        cannot do: the SQLite backup API, PostgreSQL's COPY (store/copy.py)."""
        return self._dbapi

    def _execute(self, sql: TextClause, params: Params | None) -> Any:
        statement, values = self.database.compiled(sql, params or {})
        cursor = self._dbapi.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(statement, values)
        except self.database.driver_errors as exc:
            raise self.database.translate(exc, self.connection) from exc
        return cursor

    def all(self, sql: TextClause, params: Params | None = None) -> list[Any]:
        cursor = self._execute(sql, params)
        make = self.database.row_type(sql, cursor.description)
        return [make(row) for row in cursor.fetchall()]

    def one(self, sql: TextClause, params: Params | None = None) -> Any:
        """The first row, or None."""
        cursor = self._execute(sql, params)
        row = cursor.fetchone()
        return None if row is None else self.database.row_type(sql, cursor.description)(row)

    def scalar(self, sql: TextClause, params: Params | None = None) -> Any:
        row = self._execute(sql, params).fetchone()
        return None if row is None else row[0]

    def run(self, sql: TextClause, params: Params | None = None) -> int:
        """A statement for its effect; the number of rows it changed."""
        return int(self._execute(sql, params).rowcount)

    def many(self, sql: TextClause, rows: Sequence[Params]) -> None:
        """`sql` once per row, in one driver call (no expanding lists here)."""
        if not rows:
            return
        compiled, _ = self.database.compiler(sql)
        order = compiled.positiontup  # None for drivers that take named parameters
        values = [tuple(row[name] for name in order) for row in rows] if order else rows
        try:
            self._dbapi.cursor().executemany(compiled.string, values)  # type: ignore[union-attr]
        except self.database.driver_errors as exc:
            raise self.database.translate(exc, self.connection) from exc


class Database:
    def __init__(self, url: str) -> None:
        try:
            self.url = make_url(url)
        except ArgumentError:
            raise ConfigError(f"not a database URL: {url!r}") from None
        self.dialect = self.url.get_backend_name()
        if self.dialect not in BEGIN:
            raise ConfigError(f"unsupported database {self.url.drivername!r}: use sqlite:///PATH "
                              "or postgresql://…")
        if self.url.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.engine = self._engine()
        self.driver_errors: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        self._local = threading.local()
        self._compiled: dict[TextClause, tuple[SQLCompiler, list[str]]] = {}
        self._row_types: dict[TextClause, Callable[[Any], Any]] = {}

    def _engine(self) -> Engine:
        if self.dialect == "sqlite":
            if self.url.database:
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=8,
                                   max_overflow=-1, connect_args={"timeout": BUSY_TIMEOUT_S})
            event.listen(engine, "connect", _sqlite_setup)
            return engine
        try:
            return create_engine(self.url, isolation_level="AUTOCOMMIT", pool_size=8,
                                 max_overflow=-1, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"PostgreSQL needs its driver ({exc.name} is not installed): "
                              "pip install 'paperfeed[postgres]'") from None

    def _executor(self) -> Executor:
        executor: Executor | None = getattr(self._local, "executor", None)
        if executor is None or executor.connection.closed or executor.connection.invalidated:
            executor = Executor(self, self.engine.connect())
            self._local.executor = executor
            self._local.depth = 0
        return executor

    @contextmanager
    def read(self) -> Iterator[Executor]:
        """This thread's connection, outside any transaction (or inside the thread's
        open `write()`, whose changes it then sees)."""
        yield self._executor()

    @contextmanager
    def write(self) -> Iterator[Executor]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        executor = self._executor()
        local = self._local
        if local.depth:
            local.depth += 1
            try:
                yield executor
            finally:
                local.depth -= 1
            return
        executor.run(_BEGIN[self.dialect])
        local.depth = 1
        try:
            yield executor
            local.depth = 0
            executor.run(_COMMIT)
        except BaseException as exc:
            local.depth = 0
            self._rollback(executor)
            if isinstance(exc, DBAPIError) and exc.orig is not None:  # from Alembic's side
                translated = self.translate(exc.orig, executor.connection)
                if translated is not exc.orig:
                    raise translated from exc
            raise

    def _rollback(self, executor: Executor) -> None:
        """Roll back, unless the database already did (SQLite does on some errors) or the
        connection is gone: the error that got us here is the one to report."""
        if executor.connection.invalidated:
            return
        with suppress(PaperfeedError, self.driver_errors):
            executor.run(_ROLLBACK)

    # -- one-statement reads ------------------------------------------------------------

    def one(self, sql: TextClause, params: Params | None = None) -> Any:
        return self._executor().one(sql, params)

    def all(self, sql: TextClause, params: Params | None = None) -> list[Any]:
        return self._executor().all(sql, params)

    def scalar(self, sql: TextClause, params: Params | None = None) -> Any:
        return self._executor().scalar(sql, params)

    # -- compiling ------------------------------------------------------------------------

    def compiler(self, sql: TextClause) -> tuple[SQLCompiler, list[str]]:
        """`sql` compiled for this dialect, and the names of its list parameters."""
        found = self._compiled.get(sql)
        if found is None:
            if len(self._compiled) >= MAX_COMPILED:  # statements built per call: stay bounded
                self._compiled.clear()
                self._row_types.clear()
            lists = LIST_PARAM.findall(sql.text)
            rewritten = text(LIST_PARAM.sub(LIST_IN[self.dialect], sql.text)) if lists else sql
            compiled = rewritten.compile(dialect=self.engine.dialect)
            found = self._compiled[sql] = (compiled, lists)
        return found

    def compiled(self, sql: TextClause, params: Params) -> tuple[str, Any]:
        """The driver's SQL and parameters for `sql` with `params`."""
        compiled, lists = self.compiler(sql)
        if lists:
            params = {**params, **{name: self._list(params[name]) for name in lists}}
        order = compiled.positiontup
        return compiled.string, (tuple(params[name] for name in order) if order else params)

    def _list(self, values: Sequence[Any]) -> Any:
        return json.dumps(list(values)) if self.dialect == "sqlite" else list(values)

    def row_type(self, sql: TextClause, description: Sequence[Sequence[Any]]
                 ) -> Callable[[Any], Any]:
        """Rows of `sql` as named tuples (a statement's columns never change)."""
        make = self._row_types.get(sql)
        if make is None:
            names = [column[0] for column in description]
            make = namedtuple("Row", names, rename=True)._make  # type: ignore[attr-defined]
            self._row_types[sql] = make
        return make

    # -- errors -----------------------------------------------------------------------------

    def translate(self, exc: BaseException, connection: Connection | None = None
                  ) -> BaseException:
        """Clashes and lock timeouts become paperfeed errors; anything else (a bug, a
        broken database) stays the driver's error, with its traceback. A dropped
        connection is let go, so this thread's next statement opens a new one."""
        message = str(exc)
        dbapi = self.engine.dialect.loaded_dbapi
        if isinstance(exc, dbapi.IntegrityError):
            unique = "UNIQUE" in message or _sqlstate(exc) == "23505"
            return Conflict("That already exists." if unique
                            else "That conflicts with what is stored.")
        if isinstance(exc, dbapi.DataError) and "NUL (0x00)" in message:
            # PostgreSQL text cannot hold NUL; SQLite stores it. Member input is cleaned
            # where it is checked; this is the net for any field that is not.
            return BadRequest("Text must not contain NUL (0x00) characters.")
        if "database is locked" in message or "database table is locked" in message \
                or _sqlstate(exc) in PG_BUSY:
            return StoreBusy("The database is busy; try again in a moment.")
        if connection is not None and isinstance(exc, dbapi.Error) \
                and self.engine.dialect.is_disconnect(exc, None, None):
            connection.invalidate()
        return exc

    def close(self) -> None:
        executor = getattr(self._local, "executor", None)
        if executor is not None:
            executor.connection.close()
            self._local.executor = None
        self.engine.dispose()


_BEGIN = {dialect: text(sql) for dialect, sql in BEGIN.items()}
_COMMIT = text("COMMIT")
_ROLLBACK = text("ROLLBACK")


def _sqlite_setup(dbapi_connection: Any, connection_record: object) -> None:
    for pragma in SQLITE_PRAGMAS:
        dbapi_connection.execute(f"PRAGMA {pragma}")
    # WAL belongs to the file: set once, by whichever process gets there first. Switching
    # needs the file to itself, and SQLite answers "locked" at once rather than waiting
    # when processes open a new database together (serve --workers): retry until done.
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)

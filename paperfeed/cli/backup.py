"""`paperfeed backup FILE` / `paperfeed restore FILE`: a consistent snapshot of the store and
the site's secret key, on either backend, restorable onto either.

The format: one tar file (gzip-compressed when FILE ends in .gz or .tgz) holding

    manifest.json  format, paperfeed version, schema revision, rows per table, sha256 per file
    store.sqlite   the store, as an SQLite database at that revision
    secret_key     the data directory's secret key, if the site uses that file

Why an SQLite file for both backends: it is one snapshot (the SQLite backup API, or the rows
of one PostgreSQL REPEATABLE READ transaction, store/copy.py), readable with any `sqlite3`,
and it restores onto SQLite or PostgreSQL through the same verified copy as `db copy`, so a
backup is also the way between backends. `pg_dump -Fc` would tie a backup to PostgreSQL
and to a pg_dump at least as new as the server. Why tar: the standard library writes and
reads it, and `tar tf` shows what is inside.

Indexes are not carried: they are derived from the store and would describe another state
of it. Restore removes this data directory's index artifacts but keeps the embedding cache
(`index/embeddings.sqlite`, vectors keyed by the text they embed), so `paperfeed index` (or
`serve`'s follower) rebuilds them without embedding any paper again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from ..errors import BadRequest, ConfigError
from ..settings import Settings
from .context import Context, pass_context

if TYPE_CHECKING:
    from ..store import CopyReport

FORMAT = "paperfeed-backup"
FORMAT_VERSION = 1
STORE, SECRET, MANIFEST = "store.sqlite", "secret_key", "manifest.json"
KEPT_IN_INDEX = ("embeddings.sqlite", "embeddings.sqlite-wal", "embeddings.sqlite-shm")


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def backup(ctx: Context, file: Path) -> None:
    """Write a backup of the store and the secret key to FILE (.tar, or .tar.gz).

    Consistent while `serve` and `worker` run. FILE holds password hashes and the secret
    key: it is written readable by its owner only."""
    from ..store import snapshot_file, sqlite_url, store_counts

    settings = ctx.settings
    started = time.perf_counter()
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=file.parent, prefix=".paperfeed-backup-") as work:
        store = Path(work) / STORE
        snapshot_file(settings.store_url, store)
        revision, counts = store_counts(sqlite_url(store))  # the snapshot's own counts
        files = {STORE: store}
        secret = settings.home / SECRET
        if secret.is_file():
            files[SECRET] = secret
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION,
                    "paperfeed": version("paperfeed"), "schema_revision": revision,
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "counts": counts, "files": {name: _sha256(path)
                                                for name, path in files.items()}}
        _write_archive(file, files, manifest)
    click.echo(f"backup of {sum(counts.values())} rows in {len(counts)} tables, schema "
               f"revision {revision}, written to {file} "
               f"({file.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s)")
    if settings.secret_key:
        click.echo("note: PAPERFEED_SECRET_KEY is set: keep it with the backup, which does "
                   "not hold it", err=True)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that already holds data.")
@pass_context
def restore(ctx: Context, file: Path, force: bool) -> None:
    """Restore the store and the secret key from FILE, made by `paperfeed backup`.

    Stop `serve` and `worker` first. The store must be empty unless --force; a backup made
    by a newer paperfeed is refused. Every check runs before anything is written: a
    damaged file changes nothing. Rebuild the indexes afterwards: `paperfeed index`."""
    from ..store import copy_store, renew_identity, schema_head, sqlite_url

    settings = ctx.settings
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=settings.home, prefix=".restore-") as work:
        manifest = _extract(file, Path(work))
        revision = str(manifest["schema_revision"])
        if revision > schema_head():
            raise ConfigError(f"the backup is at schema revision {revision}, newer than this "
                              f"paperfeed (which knows up to {schema_head()}); upgrade paperfeed")
        _check_contents(Path(work) / STORE, manifest)
        with progress_bar("restoring") as progress:
            report = copy_store(sqlite_url(Path(work) / STORE), settings.store_url,
                                replace=force, progress=progress)
        # The store's change sequence went back: every host's indexes (on other hosts too,
        # which this command cannot reach) see a new identity and rebuild (index/sync.py).
        renew_identity(settings.store_url)
        if (Path(work) / SECRET).is_file():
            _install_secret(Path(work) / SECRET, settings.home / SECRET)
    _reset_indexes(settings)
    echo_counts(report, "backup", "store")
    click.echo("indexes: run `paperfeed index` (or start `serve`) to rebuild them")
    if report.differing:
        sys.exit(2)


def echo_counts(report: CopyReport, source: str, target: str) -> None:
    """Rows per table on each side, and the tables that differ."""
    click.echo(f"{'table':<20} {source:>10} {target:>10}")
    for count in report.counts:
        flag = "" if count.source == count.target else "  DIFFERS"
        click.echo(f"{count.table:<20} {count.source:>10} {count.target:>10}{flag}")
    verdict = (f"{len(report.differing)} tables differ" if report.differing
               else "every table has the same rows count")
    click.echo(f"{report.rows} rows copied in {report.seconds:.1f}s at schema revision "
               f"{report.revision}: {verdict}")
    for table, values in report.nul_removed.items():
        click.echo(f"{table}: NUL characters removed from {values} values (PostgreSQL's "
                   "text cannot hold them)")


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[str, int, int], None]]:
    with tqdm(desc=description, unit="row", disable=None, file=sys.stderr) as bar:
        def progress(table: str, rows: int, total: int) -> None:
            if bar.total is None:
                bar.total = total
            bar.set_postfix_str(table, refresh=False)
            bar.update(rows)

        yield progress


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _write_archive(file: Path, files: dict[str, Path], manifest: dict[str, object]) -> None:
    """Written under a temporary name, owner-only, then renamed: never half a backup
    under FILE's name."""
    partial = file.with_name(f".{file.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    compressed = file.name.endswith((".gz", ".tgz"))
    with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out,
                                                   mode="w:gz" if compressed else "w") as tar:
        data = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
        tar.addfile(info, io.BytesIO(data))
        for name, path in files.items():
            tar.add(path, arcname=name, filter=_private)
    os.replace(partial, file)


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
    return info


def _extract(file: Path, work: Path) -> dict[str, Any]:
    """The manifest, with every file it lists extracted into `work` and checked against
    its sha256; BadRequest for anything else."""
    try:
        with tarfile.open(file, "r:*") as tar:
            manifest = json.loads(_member(tar, MANIFEST))
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise BadRequest(f"{file} is not a paperfeed backup (no manifest)")
            if manifest.get("format_version", 0) > FORMAT_VERSION:
                raise BadRequest(f"{file} was written by a newer paperfeed; upgrade paperfeed")
            listed: dict[str, str] = manifest["files"]
            if STORE not in listed:
                raise BadRequest(f"{file} holds no store")
            for name, expected in listed.items():
                if name not in (STORE, SECRET):
                    raise BadRequest(f"{file} lists an unexpected file {name!r}")
                _extract_member(tar, name, work / name)
                if _sha256(work / name) != expected:
                    raise BadRequest(f"{file} is damaged: {name} does not match its checksum")
            return manifest
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise BadRequest(f"{file} is not a readable paperfeed backup ({type(exc).__name__}: "
                        f"{exc})") from None


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    stream = tar.extractfile(name)  # KeyError if absent
    if stream is None:
        raise BadRequest(f"{name} in the backup is not a file")
    return stream.read()


def _extract_member(tar: tarfile.TarFile, name: str, path: Path) -> None:
    """Streamed to `path`: the store may be larger than memory."""
    stream = tar.extractfile(name)  # KeyError if absent
    if stream is None:
        raise BadRequest(f"{name} in the backup is not a file")
    with stream, path.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)


def _check_contents(path: Path, manifest: dict[str, Any]) -> None:
    """The store file is a sound SQLite database holding what the manifest says (checked
    before it is migrated, which may add rows: a backup from an older paperfeed)."""
    from ..store import sqlite_problem, sqlite_url, store_counts

    problem = sqlite_problem(path)
    if problem is not None:
        raise BadRequest(f"the backup's store is damaged: {problem}")
    revision, counts = store_counts(sqlite_url(path))
    if revision != manifest["schema_revision"] or counts != manifest["counts"]:
        raise BadRequest("the backup's store does not hold what its manifest lists")


def _install_secret(source: Path, target: Path) -> None:
    """The backup's secret key, owner-only (0600), replacing the data directory's."""
    partial = target.with_name(f".{target.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(source.read_bytes())
    os.chmod(partial, 0o600)  # O_CREAT's mode does not apply to a leftover file
    os.replace(partial, target)


def _reset_indexes(settings: Settings) -> None:
    """Remove the index artifacts (they describe the store before the restore), keeping
    the embedding cache: the rebuild then embeds nothing it has embedded before."""
    if not settings.index_dir.is_dir():
        return
    for path in settings.index_dir.iterdir():
        if path.name in KEPT_IN_INDEX:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

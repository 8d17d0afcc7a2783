"""`paperfeed backup FILE` / `paperfeed restore FILE` on both backends (a real PostgreSQL,
tests/postgres.py), through the real CLI: round trips equal, refusals change nothing."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import stat
import tarfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from paperfeed.cli import cli
from paperfeed.errors import ConfigError
from paperfeed.store import Store

from ..conftest import FIXTURES
from .populated import populate, rows


class Site:
    """A data directory and its store: the SQLite file in it, or a PostgreSQL database."""

    def __init__(self, home: Path, database_url: str | None) -> None:
        self.home, self.database_url = home, database_url
        self.url = database_url or f"sqlite:///{home / 'paperfeed.sqlite'}"

    def run(self, *args: str) -> Any:
        return CliRunner().invoke(cli, ["--data-dir", str(self.home), *args],
                                  env={"PAPERFEED_DATABASE_URL": self.database_url})

    def populate(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "secret_key").write_text("the-site-secret\n")
        store = Store(self.url)
        populate(store)
        store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def make_site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    made = iter(range(100))

    def make() -> Site:
        home = tmp_path / f"site{next(made)}"
        if request.param == "sqlite":
            return Site(home, None)
        return Site(home, request.getfixturevalue("postgres").fresh_database())

    yield make


def test_backup_and_restore_round_trip(make_site: Any, tmp_path: Path) -> None:
    old, new = make_site(), make_site()
    old.populate()
    file = tmp_path / "backups" / "site.tar.gz"
    made = old.run("backup", str(file))
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # password hashes, the secret key
    index = new.home / "index"  # a stale index of another store, and the embedding cache
    (index / "keyword").mkdir(parents=True)
    (index / "embeddings.sqlite").write_bytes(b"cache")

    restored = new.run("restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert "every table has the same rows count" in restored.output
    before, after = rows(old.url), rows(new.url)
    # A restore starts a new history of the store's changes: a new identity, nothing else.
    assert before.pop("store_identity") != after.pop("store_identity")
    assert after == before
    secret = new.home / "secret_key"
    assert secret.read_text() == "the-site-secret\n"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert sorted(p.name for p in index.iterdir()) == ["embeddings.sqlite"]

    refused = new.run("restore", str(file))  # the store holds data now
    assert refused.exit_code == 1
    assert "not empty" in str(refused.exception)
    forced = new.run("restore", "--force", str(file))
    assert forced.exit_code == 0, forced.output
    assert _without_identity(rows(new.url)) == _without_identity(rows(old.url))


def test_a_backup_restores_onto_the_other_backend(tmp_path: Path, postgres: Any) -> None:
    old = Site(tmp_path / "old", None)
    old.populate()
    new = Site(tmp_path / "new", postgres.fresh_database())
    file = tmp_path / "site.tar"
    assert old.run("backup", str(file)).exit_code == 0
    restored = new.run("restore", str(file))
    assert restored.exit_code == 0, restored.output
    assert _without_identity(rows(new.url)) == _without_identity(rows(old.url))


def _without_identity(dumped: dict[str, Any]) -> dict[str, Any]:
    return {table: found for table, found in dumped.items() if table != "store_identity"}


def test_another_hosts_indexes_rebuild_after_a_restore(tmp_path: Path, postgres: Any) -> None:
    """Two hosts on one PostgreSQL store, each with its own indexes. A backup, then the
    store moves on (a paper added); the restore takes it back, and the next paper stored
    takes a `seq` the second host has seen already. That host was not touched by the
    restore: its indexes see the store's new identity and rebuild, so both papers are right
    there, where following by `seq` alone would keep the one the restore removed and skip
    the new one."""
    url = postgres.fresh_database()
    worker, web = Site(tmp_path / "worker", url), Site(tmp_path / "web", url)
    sample = FIXTURES / "arxiv_cs_excerpt.jsonl"
    assert worker.run("ingest", str(sample), "--no-index").exit_code in (0, 2)  # 2: skips
    assert web.run("index").exit_code == 0
    file = tmp_path / "site.tar"
    assert worker.run("backup", str(file)).exit_code == 0
    dropped, kept = _one_paper(tmp_path, "zeolite catalysis"), _one_paper(tmp_path, "axolotl")
    assert worker.run("ingest", str(dropped), "--no-index").exit_code == 0
    assert web.run("index").exit_code == 0
    assert _found(web, "zeolite") == ["2601.00001"]
    assert worker.run("restore", "--force", str(file)).exit_code == 0
    assert worker.run("ingest", str(kept), "--no-index").exit_code == 0
    assert web.run("index").exit_code == 0
    assert _found(web, "zeolite") == [] and _found(web, "axolotl") == ["2601.00002"]


def _one_paper(tmp_path: Path, topic: str) -> Path:
    number = {"zeolite catalysis": 1, "axolotl": 2}[topic]
    path = tmp_path / f"{number}.jsonl"
    path.write_text(json.dumps({
        "id": f"2601.{number:05d}", "title": f"A study of {topic}", "abstract": f"On {topic}.",
        "authors": "A. Author", "categories": "cs.LG", "versions": [
            {"version": "v1", "created": "Mon, 5 Jan 2026 10:00:00 GMT"}]}) + "\n")
    return path


def _found(site: Site, query: str) -> list[str]:
    answer = site.run("search", query, "--mode", "keyword", "--json")
    assert answer.exit_code in (0, 1), answer.output
    return [item["id"] for item in json.loads(answer.stdout) if query in item["title"]]


def _with_manifest(file: Path, out: Path, **changes: Any) -> Path:
    """A copy of backup `file` whose manifest has `changes` (the files untouched)."""
    with tarfile.open(file) as old, tarfile.open(out, "w") as tar:
        for member in old.getmembers():
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
                member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    return out


def _damaged(file: Path, how: str, tmp_path: Path) -> Path:
    data = file.read_bytes()
    broken = tmp_path / f"{how}.tar"
    if how == "miscounted":  # the files intact, the manifest listing a member more
        with tarfile.open(file) as tar:
            manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
        counts = {**manifest["counts"], "users": manifest["counts"]["users"] + 1}
        return _with_manifest(file, broken, counts=counts)
    if how == "truncated":
        broken.write_bytes(data[: len(data) // 2])
    elif how == "not-a-tar":
        broken.write_bytes(b"hello, I am not a backup\n" * 100)
    else:  # a byte of the store changed: the archive reads, the checksum does not match
        with tarfile.open(file) as tar:
            offset = tar.getmember("store.sqlite").offset_data + 5000
        broken.write_bytes(data[:offset] + bytes([data[offset] ^ 0xFF]) + data[offset + 1:])
    return broken


@pytest.mark.parametrize("how", ["truncated", "not-a-tar", "flipped", "miscounted"])
def test_a_damaged_backup_is_refused_and_changes_nothing(make_site: Any, tmp_path: Path,
                                                         how: str) -> None:
    site = make_site()
    site.populate()
    file = tmp_path / "site.tar"
    assert site.run("backup", str(file)).exit_code == 0
    before = rows(site.url)
    result = site.run("restore", "--force", str(_damaged(file, how, tmp_path)))
    assert result.exit_code == 1
    message = str(result.exception)
    assert any(words in message for words in ("is not a readable paperfeed backup", "is damaged",
                                              "does not hold what its manifest lists")), message
    assert rows(site.url) == before
    assert (site.home / "secret_key").read_text() == "the-site-secret\n"


def test_a_backup_from_a_newer_paperfeed_is_refused(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", None)
    site.populate()
    file = tmp_path / "site.tar"
    assert site.run("backup", str(file)).exit_code == 0
    newer = _with_manifest(file, tmp_path / "newer.tar", schema_revision="9999")
    empty = Site(tmp_path / "empty", None)
    result = empty.run("restore", str(newer))
    assert result.exit_code == 1
    assert isinstance(result.exception, ConfigError)
    assert "newer than this paperfeed" in str(result.exception)
    assert not (empty.home / "secret_key").exists()


def test_a_backup_from_an_older_paperfeed_is_migrated_on_the_way_in(tmp_path: Path) -> None:
    site = Site(tmp_path / "site", None)
    site.populate()
    file = tmp_path / "site.tar"
    assert site.run("backup", str(file)).exit_code == 0
    work = tmp_path / "work"  # its store as paperfeed before revision 0009 made it
    with tarfile.open(file) as tar:
        tar.extractall(work, filter="data")
    with closing(sqlite3.connect(work / "store.sqlite")) as db:
        db.execute("DROP TABLE paper_authors")
        db.execute("DROP TABLE store_identity")  # revision 0010
        db.execute("UPDATE alembic_version SET version_num = '0008'")
        db.commit()
    manifest = json.loads((work / "manifest.json").read_text())
    del manifest["counts"]["paper_authors"], manifest["counts"]["store_identity"]
    manifest["schema_revision"] = "0008"
    manifest["files"]["store.sqlite"] = hashlib.sha256(
        (work / "store.sqlite").read_bytes()).hexdigest()
    (work / "manifest.json").write_text(json.dumps(manifest))
    older = tmp_path / "older.tar"
    with tarfile.open(older, "w") as tar:
        for name in ("manifest.json", "store.sqlite", "secret_key"):
            tar.add(work / name, arcname=name)

    new = Site(tmp_path / "new", None)
    restored = new.run("restore", str(older))
    assert restored.exit_code == 0, restored.output
    # paper_authors rebuilt by revision 0009, an identity made by 0010
    assert _without_identity(rows(new.url)) == _without_identity(rows(site.url))

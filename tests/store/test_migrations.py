"""Schema migrations (Alembic): a new database, one made before Alembic, one made by a
newer paperfeed. SQLite only: databases from before Alembic were all SQLite files (a
new database of any backend is migrated by every other test in tests/store)."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest

from paperfeed.errors import ConfigError
from paperfeed.store import Store, sqlite_url
from paperfeed.store.migrate import head

from ..conftest import FIXTURES

NOW = "2026-01-05T08:00:00+00:00"


def legacy_database(path: Path, version: int = 4) -> None:
    """A data directory's database as paperfeed made it before Alembic: the SQL files of
    store/migrations/ (kept verbatim in tests/fixtures/schema_v4), applied as its
    migrate() applied them, with a row of everything in it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    for sql_file in sorted((FIXTURES / "schema_v4").glob("*.sql"))[:version]:
        conn.execute("BEGIN IMMEDIATE")
        for statement in sql_file.read_text().split(";\n"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)",
                     (int(sql_file.name[:4]),))
        conn.execute("COMMIT")
    conn.execute(
        "INSERT INTO papers (rowid, id, arxiv_id, title, title_key, categories, published,"
        " links, content_hash, seq, added_at) VALUES (41, '2601.00041', '2601.00041',"
        " 'An old paper kept across the upgrade', 'anoldpaperkeptacrosstheupgrade',"
        " 'cs.IR', '2026-01-04', '{}', 'h', 7, ?)", (NOW,))
    conn.execute("INSERT INTO paper_categories VALUES ('cs.IR', 41)")
    conn.execute("INSERT INTO paper_sources VALUES (41, 'arxiv-jsonl', 'cs.jsonl:41', NULL, ?)",
                 (NOW,))
    conn.execute("INSERT INTO harvest_state (name, resumption_token, pages, records, updated_at)"
                 " VALUES ('arxiv-oai:cs::', 'tok', 3, 3000, ?)", (NOW,))
    if version >= 2:
        conn.execute("INSERT INTO users (id, username, email, password_hash, is_admin,"
                     " created_at) VALUES (5, 'Ada', 'ada@example.org', 'hash', 1, ?)", (NOW,))
        conn.execute("INSERT INTO sessions VALUES ('tokenhash', 5, ?, '2999-01-01')", (NOW,))
        conn.execute("INSERT INTO submissions VALUES (41, 5, '2026-01-05', ?, 0)", (NOW,))
        conn.execute("INSERT INTO votes VALUES (41, 5, ?)", (NOW,))
        conn.execute("INSERT INTO paper_votes VALUES (41, 1)")
    if version >= 3:
        conn.execute("INSERT INTO subscriptions (id, email, frequency, trending, status,"
                     " created_at) VALUES (9, 'ada@example.org', 'daily', 1, 'active', ?)",
                     (NOW,))
        conn.execute("INSERT INTO outbox (id, subscription_id, period, email, sections,"
                     " message_id, status, next_attempt_at, created_at) VALUES (3, 9,"
                     " 'daily:2026-01-05', 'ada@example.org', '{\"trending\": [41]}', '<m@x>',"
                     " 'sent', 0, ?)", (NOW,))
        conn.execute("INSERT INTO sent_papers VALUES ('ada@example.org', 41, 3)")
        conn.execute("INSERT INTO job_locks VALUES ('harvest', 'host:1', 9e9)")
    conn.close()


def test_a_database_from_before_alembic_is_upgraded_losing_nothing(tmp_path: Path) -> None:
    path = tmp_path / "paperfeed.sqlite"
    legacy_database(path)
    store = Store(sqlite_url(path))
    paper = store.papers.get("2601.00041")
    assert paper is not None and paper.key == 41, "keys are the old rowids"
    assert store.papers.keys_matching(None, None, ["cs.IR"], cap=5) == ([41], 1)
    assert [s.ref for s in store.papers.sources_of(41)] == ["cs.jsonl:41"]
    assert store.harvests.cursor("arxiv-oai:cs::").resumption_token == "tok"
    ada = store.members.session_user("tokenhash")
    assert ada is not None and ada.username == "Ada" and ada.is_admin
    assert not ada.verified, "members of an upgraded database verify their address anew"
    assert store.members.tokens(ada.id) == []
    assert store.community.submission(41).username == "Ada"
    assert store.community.vote_counts([41]) == {41: 1} and store.community.voted_by(5, [41])
    [item] = store.outbox.items(9)
    assert item.sections == {"trending": [41]}, "outbox sections hold the same keys"
    assert store.outbox.already_sent("ADA@example.org", [41]) == {41}
    assert not store.leases.acquire("harvest", "host:2", 60)
    # and it keeps working: a new paper gets the next key, a vote moves the counters
    store.papers.upsert([])
    before = store.state()
    assert store.community.vote(5, 41).votes == 0
    assert store.state().community > before.community, "the triggers survived the renames"


def test_upgraded_and_new_databases_have_the_same_schema(tmp_path: Path) -> None:
    legacy_database(tmp_path / "old.sqlite")
    Store(sqlite_url(tmp_path / "old.sqlite")).close()
    Store(sqlite_url(tmp_path / "new.sqlite")).close()
    old, new = (_schema(tmp_path / name) for name in ("old.sqlite", "new.sqlite"))
    assert old.keys() == new.keys()
    for table in new:
        assert old[table] == new[table], table


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_partly_migrated_legacy_database_is_finished(tmp_path: Path, version: int) -> None:
    legacy_database(tmp_path / "pf.sqlite", version)
    store = Store(sqlite_url(tmp_path / "pf.sqlite"))
    assert store.papers.get("2601.00041").key == 41
    assert store.members.add_user("bob", "bob@example.org", "h").username == "bob"


def test_a_database_from_a_newer_paperfeed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pf.sqlite"
    Store(sqlite_url(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(ConfigError, match="newer than this paperfeed.*upgrade paperfeed"):
        Store(sqlite_url(path))


def test_paperfeed_from_before_alembic_refuses_an_upgraded_database(tmp_path: Path) -> None:
    """Old paperfeed compared max(schema_version) with its newest migration (4) and
    refused anything newer: the upgrade leaves a 5 there for it to find."""
    path = tmp_path / "pf.sqlite"
    legacy_database(path)
    Store(sqlite_url(path)).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone()[0] > 4


def _open_at_once(url: str, processes: int) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(processes)

    def open_store() -> None:
        try:
            start.wait()
            Store(url).close()
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=open_store) for _ in range(processes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    """As `serve --workers 8` does on a new data directory. A race, so repeated: it
    caught two connections switching a new file to WAL at once ("database is locked")."""
    for attempt in range(6):
        path = tmp_path / f"pf{attempt}.sqlite"
        assert _open_at_once(sqlite_url(path), 8) == []
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
                (head(),)]
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _schema(path: Path) -> dict[str, object]:
    """Tables, columns (by type affinity), keys, indexes with their collations and
    conditions, foreign keys, CHECKs and triggers: what behaves, not how it is spelled."""
    conn = sqlite3.connect(path)
    found: dict[str, object] = {}
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                                  " AND name NOT IN ('alembic_version', 'schema_version')"):
        # A primary key column counts as NOT NULL: it is one for an INTEGER key (the rowid)
        # and in every new database; only old text keys left SQLite's NULL quirk open.
        columns = [(c[1], _affinity(c[2]), c[3] or c[5] > 0,
                    str(c[4]).strip("'") if c[4] else None, c[5])
                   for c in conn.execute(f"PRAGMA table_info({name})")]
        indexes = set()
        for _, index, unique, origin, partial in conn.execute(f"PRAGMA index_list({name})"):
            keyed = [(x[2], x[4]) for x in conn.execute(f"PRAGMA index_xinfo({index})") if x[5]]
            where = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                 (index,)).fetchone()
            condition = where[0].split(" WHERE ", 1)[1] if where and where[0] and partial else None
            indexes.add((index if origin == "c" else origin, unique, str(keyed), condition))
        keys = sorted(tuple(fk[2:5]) + tuple(fk[6:7]) for fk in
                      conn.execute(f"PRAGMA foreign_key_list({name})"))
        found[name] = (columns, sorted(indexes), keys, "WITHOUT ROWID" in sql.upper(),
                       sorted(_checks(sql)))
    found["triggers"] = sorted(conn.execute("SELECT name, tbl_name, sql FROM sqlite_master"
                                            " WHERE type = 'trigger'"))
    return found


def _affinity(declared: str) -> str:
    declared = declared.upper()
    for marker, affinity in (("INT", "INTEGER"), ("CHAR", "TEXT"), ("TEXT", "TEXT"),
                             ("REAL", "REAL"), ("FLOA", "REAL"), ("DOUB", "REAL")):
        if marker in declared:
            return affinity
    return "NUMERIC"


def _checks(sql: str) -> list[str]:
    out = []
    for match in re.finditer(r"CHECK\s*\(", sql):
        depth, i = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        out.append(" ".join(sql[match.end():i - 1].replace('"', "").split()))
    return out


def test_revisions_are_one_line_named_by_their_number() -> None:
    """`head()` reads the newest revision from the file names, so opening a store needs
    no Alembic; that holds while every file is `NNNN_name.py` with revision NNNN."""
    from alembic.script import ScriptDirectory

    import paperfeed.store

    script = ScriptDirectory(str(Path(paperfeed.store.__file__).parent / "migrations"))
    revisions = list(script.walk_revisions())  # newest first; raises on a fork
    assert script.get_heads() == [head()]
    for newer, older in zip(revisions, revisions[1:] + [None], strict=True):
        assert Path(newer.path).name.startswith(f"{newer.revision}_")
        assert newer.down_revision == (older.revision if older else None)
        assert newer.revision == f"{int(newer.revision):04d}"

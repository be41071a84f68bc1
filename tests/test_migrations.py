import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest

from services.db import Database, SqliteDatabase
from services.migrations import MIGRATIONS_DIR, MigrationError, discover, migrate
from services.postgres import PostgresDatabase
from tests.servers import postgres_schema, table_names


@pytest.fixture(params=["sqlite", "postgresql"])
async def blank(request, tmp_path) -> AsyncIterator[Database]:
    """An empty database of each engine, not migrated."""
    if request.param == "sqlite":
        db = SqliteDatabase(tmp_path / "a.sqlite3")
        await db.connect()
        yield db
        await db.close()
        return
    async with postgres_schema() as database:
        yield database


async def test_empty_to_latest_then_noop(blank):
    applied = await migrate(blank)
    assert applied == [m.version for m in discover(MIGRATIONS_DIR / blank.engine)]
    assert {"users", "ledger", "jobs", "drafts", "payments"} <= await table_names(blank)
    versions = [r[0] for r in await blank.fetchall("SELECT version FROM schema_migrations")]
    assert versions == applied
    assert await migrate(blank) == []
    assert await blank.fetchval("SELECT count(*) FROM schema_migrations") == len(applied)


async def test_both_engines_have_the_same_versions_tables_and_columns(tmp_path):
    sqlite = SqliteDatabase(tmp_path / "s.sqlite3")
    await sqlite.connect()
    try:
        await migrate(sqlite)
        columns = {}
        for table in await table_names(sqlite):
            rows = await sqlite.fetchall(f"PRAGMA table_info({table})")
            columns[table] = {r["name"] for r in rows}
    finally:
        await sqlite.close()
    async with postgres_schema() as pg:
        await migrate(pg)
        rows = await pg.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        )
    pg_columns: dict[str, set[str]] = {}
    for row in rows:
        pg_columns.setdefault(row[0], set()).add(row[1])
    assert pg_columns == columns
    names = [(m.version, m.name) for m in discover(MIGRATIONS_DIR / "sqlite")]
    assert names == [(m.version, m.name) for m in discover(MIGRATIONS_DIR / "postgresql")]


async def test_the_sqlite_connections_are_set_up(tmp_path):
    db = SqliteDatabase(tmp_path / "a.sqlite3")
    await db.connect()
    try:
        await migrate(db)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA busy_timeout") == 0  # the loop's reader never waits
        async with db.transaction() as tx:  # the writer in its thread waits for a lock
            assert await tx.fetchval("PRAGMA busy_timeout") == 5000
    finally:
        await db.close()


async def test_failing_migration_leaves_database_as_it_was(blank, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR / blank.engine, folder)
    (folder / "9998_good.sql").write_text("CREATE TABLE good (id INTEGER);\n")
    (folder / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER);\n"
        "INSERT INTO users (id) VALUES (1);\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    db = blank
    with pytest.raises(MigrationError, match=r"9999_broken\.sql"):
        await migrate(db, folder)
    names = await table_names(db)
    assert "good" in names  # earlier migrations stay applied
    assert "half_done" not in names  # the broken one left nothing behind
    assert await db.fetchval("SELECT count(*) FROM users") == 0
    versions = {r[0] for r in await db.fetchall("SELECT version FROM schema_migrations")}
    assert 9998 in versions and 9999 not in versions

    (folder / "9999_broken.sql").write_text("CREATE TABLE fixed (id INTEGER);\n")
    assert await migrate(db, folder) == [9999]
    assert "fixed" in await table_names(db)


async def test_two_processes_migrating_at_once_apply_each_file_once(tmp_path):
    async with postgres_schema() as first:
        second = PostgresDatabase(first._url)  # another replica starting at the same moment
        await second.connect()
        try:
            results = await asyncio.gather(migrate(first), migrate(second))
        finally:
            await second.close()
        assert sorted(results[0] + results[1]) == [
            m.version for m in discover(MIGRATIONS_DIR / "postgresql")
        ]


def test_bad_file_names_are_refused(tmp_path):
    (tmp_path / "1_x.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name"):
        discover(tmp_path)
    (tmp_path / "1_x.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="used twice"):
        discover(tmp_path)


async def test_trigger_bodies_are_kept_whole(tmp_path):
    (tmp_path / "0001_t.sql").write_text(
        "CREATE TABLE t (a INTEGER);\nCREATE TABLE log (a INTEGER);\n"
        "CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN\n"
        "  INSERT INTO log VALUES (new.a);\n  INSERT INTO log VALUES (new.a + 1);\nEND;\n"
    )
    db = SqliteDatabase(tmp_path / "c.sqlite3")
    await db.connect()
    try:
        await migrate(db, tmp_path)
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (5)")
        assert [r[0] for r in await db.fetchall("SELECT a FROM log ORDER BY a")] == [5, 6]
    finally:
        await db.close()

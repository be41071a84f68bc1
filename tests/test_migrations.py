import shutil

import pytest

from services.db import Database
from services.migrations import MIGRATIONS_DIR, MigrationError, discover, migrate


async def tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r["name"] for r in rows}


async def test_empty_to_latest_then_noop(tmp_path):
    db = Database(tmp_path / "a.sqlite3")
    await db.connect()
    try:
        applied = await migrate(db)
        assert applied == [m.version for m in discover()]
        assert "users" in await tables(db)
        versions = [r[0] for r in await db.fetchall("SELECT version FROM schema_migrations")]
        assert versions == applied
        assert await migrate(db) == []
        assert await db.fetchval("SELECT count(*) FROM schema_migrations") == len(applied)
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA busy_timeout") == 0  # the loop's reader never waits
        async with db.transaction() as tx:  # the writer in its thread waits for a lock
            assert await tx.fetchval("PRAGMA busy_timeout") == 5000
    finally:
        await db.close()


async def test_failing_migration_leaves_database_as_it_was(tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    (folder / "9998_good.sql").write_text("CREATE TABLE good (id INTEGER);\n")
    (folder / "9999_broken.sql").write_text(
        "CREATE TABLE half_done (id INTEGER);\n"
        "INSERT INTO users (id) VALUES (1);\n"
        "INSERT INTO no_such_table VALUES (1);\n"
    )
    db = Database(tmp_path / "b.sqlite3")
    await db.connect()
    try:
        with pytest.raises(MigrationError, match=r"9999_broken\.sql"):
            await migrate(db, folder)
        names = await tables(db)
        assert "good" in names  # earlier migrations stay applied
        assert "half_done" not in names  # the broken one left nothing behind
        assert await db.fetchval("SELECT count(*) FROM users") == 0
        versions = {r[0] for r in await db.fetchall("SELECT version FROM schema_migrations")}
        assert 9998 in versions and 9999 not in versions

        (folder / "9999_broken.sql").write_text("CREATE TABLE fixed (id INTEGER);\n")
        assert await migrate(db, folder) == [9999]
        assert "fixed" in await tables(db)
    finally:
        await db.close()


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
    db = Database(tmp_path / "c.sqlite3")
    await db.connect()
    try:
        await migrate(db, tmp_path)
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (5)")
        assert [r[0] for r in await db.fetchall("SELECT a FROM log ORDER BY a")] == [5, 6]
    finally:
        await db.close()

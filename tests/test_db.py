"""The database layer: WAL checkpoints happen off the event loop and keep the log bounded."""

from __future__ import annotations

import asyncio
import threading

import pytest

from services import db as db_module


@pytest.fixture
def db(sqlite_db):
    """SQLite's own connections, locks and files: this module is about that engine alone."""
    return sqlite_db


async def write(db, sql: str, params: tuple = (), *, hot: bool = False) -> None:
    async with db.transaction(hot=hot) as tx:
        await tx.execute(sql, params)


async def test_checkpoints_run_in_a_worker_thread_and_keep_the_wal_bounded(db):
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def traced(sql: str) -> None:  # called where the statement runs
        if "wal_checkpoint" in sql:
            seen.append(threading.get_ident())

    await db._checkpointer.set_trace_callback(traced)
    await write(db, "CREATE TABLE blobs (data BLOB)")
    wal = db.path.with_name(db.path.name + "-wal")
    sizes = []
    for _ in range(12 * db_module.CHECKPOINT_EVERY):
        await write(db, "INSERT INTO blobs VALUES (?)", (b"x" * 8000,))
        await asyncio.sleep(0)  # let a checkpoint that was started finish now and then
        sizes.append(wal.stat().st_size)
    await db._checkpoint  # the last one started
    assert len(seen) >= 10 and loop_thread not in seen
    # 1,200 commits of 8 kB: 10 MB of log without checkpoints; the file is reused after each.
    assert max(sizes) < 4_000_000
    assert await db.fetchval("SELECT count(*) FROM blobs") == 12 * db_module.CHECKPOINT_EVERY


async def test_the_writer_never_checkpoints_itself(db):
    async with db.writer.execute("PRAGMA wal_autocheckpoint") as cursor:
        assert (await cursor.fetchone())[0] == 0


async def locked_by_another_process(db, seconds: float) -> threading.Thread:
    """Another process (an operator's sqlite3 shell, a second bot by mistake) holds the write
    lock for `seconds`."""
    ready = threading.Event()

    def hold() -> None:
        import sqlite3
        import time

        other = sqlite3.connect(str(db.path), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO users (id) VALUES (9)")
        ready.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    await asyncio.to_thread(ready.wait)
    return thread


@pytest.mark.parametrize("hot", [False, True], ids=["in aiosqlite's thread", "hot, on the loop"])
async def test_a_lock_held_by_another_process_never_freezes_the_event_loop(db, hot):
    await write(db, "INSERT INTO users (id) VALUES (7)")
    thread = await locked_by_another_process(db, 0.5)
    ticks = 0
    done = asyncio.Event()

    async def other_users() -> None:  # everyone else the loop is serving meanwhile
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(other_users())
    await asyncio.sleep(0)
    assert await db.fetchval("SELECT id FROM users WHERE id = 7") == 7  # WAL: reads go on
    before = ticks
    await write(db, "INSERT INTO users (id) VALUES (8)", hot=hot)  # waits for the lock
    during = ticks - before
    done.set()
    await ticker
    await asyncio.to_thread(thread.join)
    assert await db.fetchval("SELECT count(*) FROM users") == 3
    assert during >= 5  # the loop went on while the write waited for the other process


async def test_a_read_the_database_cannot_answer_at_once_waits_off_the_loop(db, monkeypatch):
    import sqlite3

    await write(db, "INSERT INTO users (id) VALUES (7)")
    loop_thread = threading.get_ident()
    threads: list[int] = []

    class Busy:  # what the loop's reader meets under an exclusive lock or a WAL recovery
        def execute(self, sql, params=()):
            raise sqlite3.OperationalError("database is locked")

    await db._slow_reader.set_trace_callback(lambda sql: threads.append(threading.get_ident()))
    monkeypatch.setattr(db, "_reader", Busy())
    assert await db.fetchval("SELECT id FROM users WHERE id = 7") == 7
    assert threads and loop_thread not in threads


async def test_a_writer_cancelled_mid_transaction_leaves_the_database_writable(db):
    """A runner stopped or a caller timed out inside a transaction, at any point from BEGIN to
    COMMIT: its work is rolled back (or committed whole), and the next write goes through."""
    await write(db, "CREATE TABLE t (n INTEGER)")

    async def pair(n: int) -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (n) VALUES (?)", (n,))
            await tx.execute("INSERT INTO t (n) VALUES (?)", (n,))

    for ticks in range(12):  # cancelled after 0, 1, ... 11 turns of the loop
        task = asyncio.create_task(pair(ticks))
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pair(100 + ticks)  # raised "cannot start a transaction within a transaction"
    rows = await db.fetchall("SELECT n, count(*) FROM t GROUP BY n")
    assert all(count == 2 for _, count in rows)  # each write whole or not at all
    assert {n for n, _ in rows} >= {100 + t for t in range(12)}

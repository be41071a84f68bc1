"""The database layer: WAL checkpoints happen off the event loop and keep the log bounded."""

from __future__ import annotations

import asyncio
import threading

from services import db as db_module


async def test_checkpoints_run_in_a_worker_thread_and_keep_the_wal_bounded(db, monkeypatch):
    loop_thread = threading.get_ident()
    threads: list[int] = []
    checkpoint = db._run_checkpoint

    async def recording() -> None:
        threads.append(threading.get_ident())  # the task itself starts on the loop...
        await checkpoint()

    monkeypatch.setattr(db, "_run_checkpoint", recording)
    seen: list[int] = []
    real_execute = db._checkpointer.execute

    class Spy:  # ...and the checkpoint statement runs elsewhere
        def execute(self, sql):
            seen.append(threading.get_ident())
            return real_execute(sql)

    monkeypatch.setattr(db, "_checkpointer", Spy())
    await db.run(lambda c: c.execute("CREATE TABLE blobs (data BLOB)"))
    wal = db.path.with_name(db.path.name + "-wal")
    sizes = []
    for _ in range(12 * db_module.CHECKPOINT_EVERY):
        await db.run(lambda c: c.execute("INSERT INTO blobs VALUES (?)", (b"x" * 8000,)))
        await asyncio.sleep(0)  # let a checkpoint that was started finish now and then
        sizes.append(wal.stat().st_size)
    await asyncio.sleep(0.2)
    assert len(threads) >= 10 and set(threads) == {loop_thread}
    assert seen and loop_thread not in seen
    # 1,200 commits of 8 kB: 10 MB of log without checkpoints; the file is reused after each.
    assert max(sizes) < 4_000_000
    assert await db.fetchval("SELECT count(*) FROM blobs") == 12 * db_module.CHECKPOINT_EVERY


async def test_writers_never_checkpoint_themselves(db):
    assert db.sync_writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    async with db.writer.execute("PRAGMA wal_autocheckpoint") as cursor:
        assert (await cursor.fetchone())[0] == 0

"""The FSM storage's write-behind: a failed write is tried again by itself, and the memory
bound holds while some entries are not written yet."""

from __future__ import annotations

import asyncio
import sqlite3

from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import SQLiteStorage


def key(n: int) -> StorageKey:
    return StorageKey(bot_id=1, chat_id=n, user_id=n)


async def test_a_failed_write_is_tried_again_without_another_change(db):
    storage = SQLiteStorage(db, flush_interval=0.01, max_retry_wait=0.02)
    real_transaction = db.transaction
    failures = [sqlite3.OperationalError("database is locked")] * 2

    def flaky(**how):
        if failures:
            raise failures.pop()
        return real_transaction(**how)

    db.transaction = flaky
    await storage.set_state(key(1), "Wizard:prompt")  # the only change there will be
    for _ in range(300):
        if await db.fetchval("SELECT count(*) FROM fsm") == 1:
            break
        await asyncio.sleep(0.01)
    assert failures == []
    assert await db.fetchval("SELECT state FROM fsm") == "Wizard:prompt"
    await storage.close()


async def test_the_memory_bound_holds_past_an_unwritten_entry(db):
    storage = SQLiteStorage(db, flush_interval=60, max_cached=3)  # nothing written meanwhile
    await storage.set_state(key(1), "Wizard:prompt")  # the oldest entry, not written yet
    for n in range(2, 8):
        await storage.get_state(key(n))  # users whose state is read, unchanged
    assert len(storage._cache) == 3
    assert await storage.get_state(key(1)) == "Wizard:prompt"  # never forgotten unwritten
    await storage.close()
    assert await db.fetchval("SELECT state FROM fsm") == "Wizard:prompt"

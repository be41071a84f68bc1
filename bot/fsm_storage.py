"""aiogram FSM storage in the bot's SQLite database: a user mid-wizard survives a redeploy."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from services.db import Database


def _key(key: StorageKey) -> str:
    return ":".join(
        str(part)
        for part in (
            key.bot_id,
            key.chat_id,
            key.user_id,
            key.thread_id or "",
            key.business_connection_id or "",
            key.destiny,
        )
    )


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO fsm (key, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET state = excluded.state,"
                " updated_at = excluded.updated_at",
                (_key(key), value, time.time()),
            )

    async def get_state(self, key: StorageKey) -> str | None:
        value = await self.db.fetchval("SELECT state FROM fsm WHERE key = ?", (_key(key),))
        return str(value) if value is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO fsm (key, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (_key(key), json.dumps(dict(data)), time.time()),
            )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        value = await self.db.fetchval("SELECT data FROM fsm WHERE key = ?", (_key(key),))
        return dict(json.loads(value)) if value else {}

    async def close(self) -> None:
        pass  # the database is closed by the composition root

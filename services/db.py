"""SQLite access: one writer connection behind a lock, one reader connection (WAL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Row = aiosqlite.Row
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 5000


async def _open(path: Path | str) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; every write goes through transaction().
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Database:
    """Writes are serialised on one connection (`BEGIN IMMEDIATE` under an asyncio lock), so
    concurrent tasks never share a transaction. Reads use a second connection and see only
    committed data."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def connect(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _open(self.path)
        self._reader = await _open(self.path)

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("Database.connect() was not called")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit: committed when the block ends, rolled back on any exception."""
        async with self._lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(conn)
            except BaseException:
                await conn.rollback()
                raise
            else:
                await conn.commit()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.reader.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Tx:
    """The handle a service gets inside `Database.transaction()`; repositories take one."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns lastrowid for inserts, else the changed row count."""
        if sql.lstrip()[:6].upper() == "INSERT":
            row = await self.conn.execute_insert(sql, params)  # one thread hop, not three
            return int(row[0]) if row and row[0] is not None else 0
        cursor = await self.conn.execute(sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self.conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

"""SQLite access: one write path (`transaction()`: one aiosqlite connection behind a lock) and
awaitable reads (a second, plain sqlite3 connection answering right on the event loop; WAL).

Reads on the loop are kept, measured (bench/updates.py, 50 users at once, the realistic mix,
same runs): through aiosqlite's worker thread, as the library does it, the bot handled 8% fewer
updates a second and a tap's handling took 38 ms at p50 and 170 ms at p99 instead of 0.5 and
1.0 ms (a thread trip waits for the GIL behind a busy loop; the reads here are indexed lookups
of tens of microseconds). Writes stay the library's way: on the loop they were 13% faster on
the update mix but made finished videos reach the chat 3.7 s later (bench/jobs.py: ready ->
sent p50 8.5 s instead of 4.7 s with 1,000 jobs). A read that meets another process's
exclusive lock waits in aiosqlite's thread (busy_timeout is 0 on the loop), as do the WAL
checkpoints."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Row = sqlite3.Row
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 5000
# WAL checkpoints (copying the log into the database file, with an fsync) run in a worker
# thread every this many commits. SQLite's automatic ones ran inside whichever commit crossed
# 1,000 pages, on the event loop: up to 20 ms with every user waiting (bench/updates.py).
CHECKPOINT_EVERY = 100

log = logging.getLogger(__name__)


def _connect(path: Path, *, busy_ms: int, read_only: bool = False) -> sqlite3.Connection:
    # isolation_level=None: no implicit transactions; every write goes through transaction().
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    conn.execute("PRAGMA foreign_keys = ON")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return conn


async def _open_in_thread(path: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if read_only:
        await conn.execute("PRAGMA query_only = ON")
    return conn


class Database:
    """Writes are serialised on one connection (`BEGIN IMMEDIATE` under an asyncio lock), so
    concurrent tasks never share a transaction; reads use a second connection and see committed
    data. Nothing waits on the loop: the writer waits for another process's lock in its own
    thread (busy_timeout 5 s), a read that meets one is retried in a thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        # In aiosqlite's worker threads: what may have to wait (a checkpoint; a read that
        # meets another process's exclusive lock) waits there, never on the loop.
        self._checkpointer: aiosqlite.Connection | None = None
        self._slow_reader: aiosqlite.Connection | None = None
        self._checkpoint: asyncio.Task[None] | None = None
        self._commits = 0

    async def connect(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _open_in_thread(self.path)
        await writer.execute("PRAGMA journal_mode = WAL")
        await writer.execute("PRAGMA synchronous = NORMAL")
        await writer.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY
        self._writer = writer
        self._reader = _connect(self.path, busy_ms=0, read_only=True)
        self._checkpointer = await _open_in_thread(self.path)
        self._slow_reader = await _open_in_thread(self.path, read_only=True)

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        # the writer last: the last connection out checkpoints what is left
        if self._reader is not None:
            self._reader.close()
        for waiting in (self._checkpointer, self._slow_reader, self._writer):
            if waiting is not None:
                await waiting.close()
        self._reader = self._writer = self._checkpointer = self._slow_reader = None

    def _committed(self) -> None:
        self._commits += 1
        running = self._checkpoint is not None and not self._checkpoint.done()
        if self._commits >= CHECKPOINT_EVERY and not running:
            self._commits = 0
            self._checkpoint = asyncio.create_task(self._run_checkpoint(), name="wal-checkpoint")

    async def _run_checkpoint(self) -> None:
        conn = self._checkpointer
        if conn is None:
            return
        # Under the write lock: with no commit landing meanwhile the checkpoint catches up with
        # the whole log, and the next commit starts it over from the top (under a steady stream
        # of writes a checkpoint never catches up and the log grows without end). Writers wait
        # for it asynchronously; the loop and the readers do not wait at all.
        async with self._lock:
            try:
                await conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed (the next one retries): %s", exc)

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._writer

    @property
    def reader(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("Database.connect() was not called")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One atomic unit: committed when the block ends, rolled back on any exception. The
        only way to write. Keep the block to statements: nothing in it waits for the network."""
        async with self._lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")  # waits for another process in its thread
            try:
                yield Tx(conn)
            except BaseException:
                await conn.rollback()
                raise
            await conn.commit()
            self._committed()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self._read(sql, params, one=True)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._read(sql, params, one=False)

    async def _read(self, sql: str, params: Params, *, one: bool) -> list[Row]:
        """On the loop when the database answers at once (WAL: nearly always); when another
        process holds a lock that blocks readers (an exclusive lock, a VACUUM), the read waits
        for it in a worker thread, with the busy timeout, while the loop serves everyone else."""
        try:
            return _rows(self.reader.execute(sql, params), one)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        if self._slow_reader is None:
            raise RuntimeError("Database.connect() was not called")
        return list(await self._slow_reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _rows(cursor: sqlite3.Cursor, one: bool) -> list[Row]:
    if one:
        row = cursor.fetchone()
        return [] if row is None else [row]
    return list(cursor.fetchall())


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

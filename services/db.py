"""SQLite access: one writer connection behind a lock, one reader connection (WAL)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

Row = aiosqlite.Row
T = TypeVar("T")
Params = Sequence[Any] | dict[str, Any]

BUSY_TIMEOUT_MS = 5000
# WAL checkpoints (copying the log into the database file, with an fsync) run in a worker
# thread every this many commits. SQLite's automatic ones ran inside whichever commit crossed
# 1,000 pages, on the event loop: up to 20 ms with every user waiting (bench/updates.py).
CHECKPOINT_EVERY = 100

log = logging.getLogger(__name__)


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
    """Writes are serialised on one aiosqlite connection (`BEGIN IMMEDIATE` under an asyncio
    lock), so concurrent tasks never share a transaction. Reads use a second, plain sqlite3
    connection right on the event loop: in WAL mode a reader never waits for the writer, the
    reads here are indexed lookups of a few rows (tens of microseconds), and a trip to a
    worker thread costs milliseconds when the loop is busy (bench/updates.py: a balance lookup
    took 34 ms at p50 under 50 concurrent users through aiosqlite). They see committed data."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._sync_writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._checkpointer: sqlite3.Connection | None = None
        self._slow_reader: sqlite3.Connection | None = None  # reads that must wait, in a thread
        self._slow_lock = asyncio.Lock()
        self._checkpoint: asyncio.Task[None] | None = None
        self._commits = 0

    async def connect(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await _open(self.path)
        reader = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA foreign_keys = ON")
        reader.execute("PRAGMA query_only = ON")
        reader.execute("PRAGMA busy_timeout = 0")  # on the loop: never wait there (see _read)
        self._reader = reader
        writer = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        writer.execute("PRAGMA busy_timeout = 0")  # on the loop too (see run)
        writer.execute("PRAGMA synchronous = NORMAL")
        writer.execute("PRAGMA foreign_keys = ON")
        self._sync_writer = writer
        writer.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY
        await self._writer.execute("PRAGMA wal_autocheckpoint = 0")
        checkpointer = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False
        )
        checkpointer.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._checkpointer = checkpointer

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        for plain in (self._reader, self._sync_writer, self._checkpointer, self._slow_reader):
            if plain is not None:
                plain.close()
        self._slow_reader = None
        if self._writer is not None:
            await self._writer.close()  # the last connection out checkpoints what is left
        self._reader = self._sync_writer = self._writer = self._checkpointer = None

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
                await asyncio.to_thread(conn.execute, "PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.warning("WAL checkpoint failed (the next one retries): %s", exc)

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._writer

    @property
    def sync_writer(self) -> sqlite3.Connection:
        if self._sync_writer is None:
            raise RuntimeError("Database.connect() was not called")
        return self._sync_writer

    @property
    def reader(self) -> sqlite3.Connection:
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
                self._committed()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One short transaction run right here on the event loop: `work` gets a plain sqlite3
        connection inside BEGIN IMMEDIATE; COMMIT after it, ROLLBACK on any exception. For the
        hot, simple writes (drafts, FSM state): `transaction()` holds the write lock across a
        worker-thread trip per statement, and on a busy loop every writer then queues behind
        those trips (bench/updates.py: 8 ms held for a one-row insert at 50 users). Both take
        the same lock, so the two connections never write at the same time."""
        async with self._lock:
            conn = self.sync_writer
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _busy(exc):
                    raise
                # Another process holds the lock: wait for it in a worker thread, not here.
                result = await asyncio.to_thread(_run_waiting, conn, work)
            else:
                result = _finish(conn, work)
            self._committed()
            return result

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
        async with self._slow_lock:
            return await asyncio.to_thread(self._read_waiting, sql, params, one)

    def _read_waiting(self, sql: str, params: Params, one: bool) -> list[Row]:
        if self._slow_reader is None:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA query_only = ON")
            self._slow_reader = conn
        return _rows(self._slow_reader.execute(sql, params), one)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


def _finish(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """`work` inside the transaction just begun: COMMIT after it, ROLLBACK on any exception."""
    try:
        result = work(conn)
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
    return result


def _run_waiting(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """BEGIN IMMEDIATE with the busy timeout (in a worker thread), then as _finish."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        conn.execute("BEGIN IMMEDIATE")
        return _finish(conn, work)
    finally:
        conn.execute("PRAGMA busy_timeout = 0")


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

"""The database: `Database` is what services use (one way to write, `transaction()`; awaitable
reads); `open_database` picks the engine: PostgreSQL when DATABASE_URL is set
(services/postgres.py), else the embedded SQLite file below.

SQLite access (WAL): one way to write, `transaction()`, under one lock; awaitable reads.

Reads use a plain sqlite3 connection right on the event loop. Kept, measured (bench/updates.py,
50 users at once, the realistic mix, same runs): through aiosqlite's worker thread, as the
library does it, the bot handled 8% fewer updates a second and a tap's handling took 38 ms at
p50 and 170 ms at p99 instead of 0.5 and 1.0 ms (a thread trip waits for the GIL behind a busy
loop; the reads here are indexed lookups of tens of microseconds). A read that meets another
process's exclusive lock waits in aiosqlite's thread instead (busy_timeout is 0 on the loop),
as do the WAL checkpoints. Writes go through aiosqlite, except the hot ones (see
`Database.transaction`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

# sqlite3.Row or asyncpg.Record: both are read by column name and by position.
Row = Any
Params = Sequence[Any]

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


T = TypeVar("T")


async def _through_cancel(step: Awaitable[T]) -> T:
    """Await a step that runs in aiosqlite's thread to its end even when the caller is
    cancelled meanwhile (the CancelledError is raised after it, not during it)."""
    future = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


class Database(Protocol):
    """What services use, whichever the engine. Statements are written once, with `?`
    placeholders and the SQL both engines speak (the PostgreSQL side numbers the placeholders)."""

    engine: str  # "sqlite" | "postgresql": also the folder of its migrations
    errors: tuple[type[Exception], ...]  # what a failed statement raises

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    def transaction(self, *, hot: bool = False) -> AbstractAsyncContextManager[Tx]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...


def open_database(url: str | None, path: Path) -> Database:
    """PostgreSQL at `url` (postgresql://...), else the SQLite file at `path`."""
    if url:
        from services.postgres import PostgresDatabase

        return PostgresDatabase(url)
    return SqliteDatabase(path)


class SqliteDatabase:
    """Writes are serialised under one asyncio lock (`BEGIN IMMEDIATE` on aiosqlite's connection,
    or on the loop's own for a hot one), so concurrent tasks never share a transaction; reads
    use a third connection and see committed data. Nothing waits on the loop: another process's
    lock is waited for in a thread (busy_timeout 5 s)."""

    engine = "sqlite"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._loop_writer: sqlite3.Connection | None = None
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
        loop_writer = _connect(self.path, busy_ms=0)  # busy_timeout 0: see transaction()
        loop_writer.execute("PRAGMA synchronous = NORMAL")
        loop_writer.execute("PRAGMA wal_autocheckpoint = 0")
        self._loop_writer = loop_writer
        self._reader = _connect(self.path, busy_ms=0, read_only=True)
        self._checkpointer = await _open_in_thread(self.path)
        self._slow_reader = await _open_in_thread(self.path, read_only=True)

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        # the writer last: the last connection out checkpoints what is left
        for plain in (self._reader, self._loop_writer):
            if plain is not None:
                plain.close()
        for waiting in (self._checkpointer, self._slow_reader, self._writer):
            if waiting is not None:
                await waiting.close()
        self._reader = self._loop_writer = None
        self._writer = self._checkpointer = self._slow_reader = None

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
    async def transaction(self, *, hot: bool = False) -> AsyncIterator[Tx]:
        """One atomic unit: committed when the block ends, rolled back on any exception; the
        only way to write. Keep the block to statements: nothing in it waits for the network.

        `hot`: a short write on the path of a tap (a card, the FSM state) runs on the loop's
        own sqlite3 connection, start to commit without a thread trip; the rest goes through
        aiosqlite's thread and gives the loop back at every statement. Both take the same lock.
        Measured, each alone: everything hot made finished videos reach the chat 3.7 s later
        (bench/jobs.py, 1,000 jobs: ready -> sent p50 8.5 s instead of 4.7 s: the runner's
        writes stopped letting deliveries run between them); nothing hot took a tap's p99 from
        1.3 ms to 500 ms and the update rate down 13% (bench/updates.py: the cards and the FSM
        queue behind thread trips that wait for the GIL)."""
        async with self._lock:
            if hot:
                plain = await self._loop_begin()
                try:
                    yield LoopTx(plain)
                except BaseException:
                    plain.rollback()
                    raise
                plain.commit()
                self._committed()
                return
            conn = self.writer
            # A caller cancelled mid-way (a runner stopped, a timeout) must not leave the
            # connection inside a transaction: every later write would then fail. The thread
            # finishes each step whatever happens to the caller, so each is waited for through
            # a cancellation, and an open transaction is rolled back.
            try:
                await _through_cancel(conn.execute("BEGIN IMMEDIATE"))  # may wait in its thread
            except asyncio.CancelledError:
                with contextlib.suppress(sqlite3.Error):
                    await _through_cancel(conn.rollback())
                raise
            try:
                yield ThreadTx(conn)
            except BaseException:
                await _through_cancel(conn.rollback())
                raise
            await _through_cancel(conn.commit())
            self._committed()

    async def _loop_begin(self) -> sqlite3.Connection:
        conn = self._loop_writer
        if conn is None:
            raise RuntimeError("Database.connect() was not called")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            # Another process holds the lock: wait for it in a worker thread, not here.
            await asyncio.to_thread(_begin_waiting, conn)
        return conn

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


def _begin_waiting(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE with the busy timeout (in a worker thread)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        conn.execute("BEGIN IMMEDIATE")
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


class Tx(Protocol):
    """The handle a service gets inside `Database.transaction()`; repositories take one."""

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table with an `id` column; returns the new row's id."""

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchval(self, sql: str, params: Params = ()) -> Any: ...


class ThreadTx:
    """A transaction on aiosqlite's connection: every statement in its thread."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self.conn.execute(sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            await cursor.close()

    async def insert(self, sql: str, params: Params = ()) -> int:
        rows = await self.conn.execute_fetchall(f"{sql} RETURNING id", params)
        return int(next(iter(rows))[0])

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


class LoopTx:
    """A hot transaction on the loop's own sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        return int(self.conn.execute(sql, params).rowcount)

    async def insert(self, sql: str, params: Params = ()) -> int:
        return int(self.conn.execute(f"{sql} RETURNING id", params).fetchall()[0][0])

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self.conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = self.conn.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(self.conn.execute(sql, params).fetchall())

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

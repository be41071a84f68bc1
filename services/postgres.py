"""PostgreSQL access (DATABASE_URL): the same `Database` as the SQLite file, on an asyncpg pool.

The dialect differences stay here:
- Statements are written once with `?` placeholders; they are numbered (`$1`, `$2`...) here.
- SQLite's `BEGIN IMMEDIATE` makes every write transaction take the one write lock, and the
  services rely on it (a check and the write it allows happen with nothing in between). Here a
  write transaction takes a transaction-scoped advisory lock first, which gives the same order
  across every connection and every replica; reads never wait for it. The lock is the schema's
  (the tables of `search_path`), so bots or tests in other schemas of the server never wait.
- Migrations are their own files (migrations/postgresql), with the same meaning.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from services.db import Params, Row, Tx

# The advisory lock every write transaction takes: this constant and the schema's name.
WRITE_LOCK = 0x76696465  # "vide"
_PLACEHOLDER = re.compile(r"\?")


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2...`. The statements here are constants whose
    string literals hold no `?`."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _count(status: str) -> int:
    """The row count in a command status such as "UPDATE 3" or "INSERT 0 1"."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresDatabase:
    engine = "postgresql"
    errors: tuple[type[Exception], ...] = (asyncpg.PostgresError,)

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self._url = url  # holds the password: never logged nor shown
        self._min_size = min_size
        self._max_size = max_size
        self._pool: asyncpg.Pool | None = None
        # Within a process writers queue here, before taking a connection: a writer waiting
        # for the advisory lock while holding a pooled connection could leave the lock's holder
        # no connection to read with.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return "PostgresDatabase(<DATABASE_URL>)"

    async def connect(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self._url, min_size=self._min_size, max_size=self._max_size
            )
        except (OSError, asyncpg.PostgresError) as exc:
            # asyncpg's message names the host, never the password; the URL is not repeated
            raise ConnectionError(
                f"PostgreSQL (DATABASE_URL) is not reachable: {type(exc).__name__}: {exc}"
            ) from None

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("Database.connect() was not called")
        return self._pool

    @asynccontextmanager
    async def transaction(self, *, hot: bool = False) -> AsyncIterator[Tx]:
        """One atomic unit, committed when the block ends and rolled back on any exception.
        `hot` matters only to SQLite (which connection writes); here every write is alike."""
        async with self._lock, self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", WRITE_LOCK
            )
            yield PgTx(conn)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self.pool.fetchrow(numbered(sql), *params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.pool.fetch(numbered(sql), *params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        return await self.pool.fetchval(numbered(sql), *params)


class PgTx:
    """A write transaction on one pooled connection."""

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        if not params:  # also a script of several statements (a migration)
            return _count(await self.conn.execute(sql))
        return _count(await self.conn.execute(numbered(sql), *params))

    async def insert(self, sql: str, params: Params = ()) -> int:
        return int(await self.conn.fetchval(numbered(f"{sql} RETURNING id"), *params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self.conn.executemany(numbered(sql), list(rows))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self.conn.fetchrow(numbered(sql), *params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self.conn.fetch(numbered(sql), *params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        return await self.conn.fetchval(numbered(sql), *params)

"""PostgreSQL and Redis for the benchmarks of the fleet shape: a schema made for one run and
dropped after it, and a Redis database index emptied before and after.

BENCH_DATABASE_URL (default the tests' server) and BENCH_REDIS_URL (default
redis://127.0.0.1:6379/14)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from redis.asyncio import Redis

POSTGRES_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A DATABASE_URL whose tables live in a schema of their own, dropped afterwards. Raises
    OSError or asyncpg.PostgresError when no server answers."""
    admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    schema = f"bench_{secrets.token_hex(4)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}search_path={schema}"
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@asynccontextmanager
async def redis_database() -> AsyncIterator[str]:
    """REDIS_URL, empty, emptied again afterwards."""
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    await redis.flushdb()
    try:
        yield REDIS_URL
    finally:
        await redis.flushdb()
        await redis.aclose()

"""The database and cache servers some tests need (PostgreSQL, Redis), found or refused.

Where no server answers (a newcomer's laptop) those tests are skipped with the reason; on CI
(CI=true) a missing server fails them instead, so a green CI run means they ran."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.db import Database
from services.postgres import PostgresDatabase

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_url() -> str:
    """A database index of its own, emptied before and after each test that uses it: 15, and
    with tests on several processes (pytest-xdist's gw0, gw1, ...) 15, 14, ... one each."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return url
    base, _, index = url.rpartition("/")
    if not index.isdigit():  # no index in the URL: count down from 15, as by default
        base, index = url.rstrip("/"), "15"
    return f"{base}/{int(index) - int(worker[2:])}"


REDIS_URL = _redis_url()


def unavailable(what: str, exc: BaseException) -> None:
    reason = f"{what} does not answer ({type(exc).__name__}: {exc})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}: CI must run these tests", pytrace=False)
    pytest.skip(reason)


@asynccontextmanager
async def postgres_schema_url() -> AsyncIterator[str]:
    """A URL whose tables live in a fresh schema of the test server, dropped afterwards."""
    try:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {POSTGRES_URL} (TEST_DATABASE_URL)", exc)
        raise  # not reached: skip and fail raise
    schema = f"t_{secrets.token_hex(6)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}{urlencode({'search_path': schema})}"
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[PostgresDatabase]:
    """A PostgresDatabase whose tables live in a fresh schema, dropped afterwards."""
    async with postgres_schema_url() as url:
        database = PostgresDatabase(url, min_size=1, max_size=4)
        try:
            await database.connect()
            yield database
        finally:
            await database.close()


@asynccontextmanager
async def engine_settings(engine: str) -> AsyncIterator[dict[str, str]]:
    """What the bot's settings need for an engine: nothing for SQLite (the file), a
    DATABASE_URL of a fresh schema for PostgreSQL."""
    if engine == "sqlite":
        yield {}
        return
    async with postgres_schema_url() as url:
        yield {"database_url": url}


async def table_names(db: Database) -> set[str]:
    """The tables of the database, on either engine."""
    if db.engine == "sqlite":
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await db.fetchall(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    return {r[0] for r in rows}


@asynccontextmanager
async def redis_url() -> AsyncIterator[str]:
    """The test Redis database, empty, emptied again afterwards (one test at a time uses it:
    a process of its own has its own index)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.flushdb()
    except (RedisError, OSError) as exc:
        await client.aclose()
        unavailable(f"Redis at {REDIS_URL} (TEST_REDIS_URL)", exc)
        raise  # not reached
    try:
        yield REDIS_URL
    finally:
        await client.flushdb()
        await client.aclose()


@asynccontextmanager
async def fleet_settings(shape: str) -> AsyncIterator[dict[str, str]]:
    """Settings for one shape of deployment: "sqlite" (the embedded default), "postgresql", or
    "fleet" (PostgreSQL and Redis, as several replicas run)."""
    if shape == "fleet":
        async with engine_settings("postgresql") as database, redis_url() as url:
            yield {**database, "redis_url": url}
        return
    async with engine_settings(shape) as database:
        yield database

"""Conversation state and per-user order shared by every replica, in Redis (REDIS_URL).

aiogram's own RedisStorage keeps each user's wizard position and data, and its
RedisEventIsolation handles one user's updates one at a time whichever replica receives them.
The lock expires after `LOCK_SECONDS` (10 s: handlers answer in milliseconds; a replica that dies
holding it frees the user within that time). A configured Redis that does not answer stops
start-up with one line: the bot never falls back to per-process memory, which would split a
user's conversation between replicas without anyone noticing."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.errors import StartupError

PREFIX = "videobot"
STATE_TTL = 30 * 24 * 3600  # a wizard left for a month is forgotten, as a cleanup
LOCK_SECONDS = 10  # handlers answer in milliseconds; a dead replica holds a user this long
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = 10.0


def where(url: str) -> str:
    """host:port/db of a Redis URL, never its password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def open_redis(url: str) -> Redis:
    return Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT
    )


async def connect_redis(url: str) -> Redis:
    """A client that has answered PING, or StartupError naming the server (not the URL)."""
    client = open_redis(url)
    try:
        await client.ping()  # type: ignore[misc]  # redis types it for both clients
    except (RedisError, OSError) as exc:
        await client.aclose()
        raise StartupError(
            f"Redis at {where(url)} (REDIS_URL) does not answer ({type(exc).__name__}): start it"
            " or unset REDIS_URL to run a single replica with its state in the database"
        ) from None
    return client


def redis_fsm(url: str) -> tuple[RedisStorage, RedisEventIsolation]:
    """aiogram's storage and event isolation on their own connection pool."""
    keys = DefaultKeyBuilder(prefix=f"{PREFIX}:fsm", with_bot_id=True)
    storage = RedisStorage(open_redis(url), keys, state_ttl=STATE_TTL, data_ttl=STATE_TTL)
    isolation = storage.create_isolation(
        lock_kwargs={"timeout": LOCK_SECONDS, "blocking_timeout": LOCK_SECONDS + 5}
    )
    return storage, isolation

"""Telegram's sending limits belong to the bot, not to a replica: one budget of messages a second
(TELEGRAM_SENDS_PER_SECOND, 25 by default, under Telegram's ~30) for every send and edit the bot
makes, and at most one progress edit per chat every few seconds.

- `LocalBudget`: one process (the embedded default), in memory.
- `RedisBudget`: the fleet's, in Redis: a sliding one-second log in one sorted set, taken by a
  Lua script on Redis's own clock (replicas' clocks may disagree), so any second of wall time
  holds at most `rate` sends from all replicas together.

Sends wait for a slot (`take`), first come first served within a replica. Progress edits never
wait: they take a slot only while the second is less than `PROGRESS_SHARE` used, leaving the
rest to answers and videos, and are skipped otherwise (the next poll shows newer progress).

`BudgetMiddleware` makes every counted call of the Bot take its slot first. A send that took its
slot itself (a progress edit, a video, a broadcast's copy) holds a one-use pass
(`preclaimed()`): its first attempt passes without a second slot, and an attempt made again
after a 429 takes one of its own, as Telegram counts it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from redis.asyncio import Redis

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.methods.base import TelegramType

PROGRESS_SHARE = 0.6
# What Telegram counts as messages the bot sends (answers to buttons, reads and settings are not).
COUNTED = frozenset(
    {
        "sendMessage",
        "sendVideo",
        "sendDocument",
        "sendPhoto",
        "sendAnimation",
        "sendMediaGroup",
        "sendInvoice",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
    }
)
# A one-use pass: the first counted call made inside `preclaimed()` uses the slot taken before;
# a retry of it (after a 429 or a network fault) takes a new slot like any other send.
_PRECLAIMED: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "preclaimed", default=None
)


class SendBudget(Protocol):
    rate: int

    async def take(self) -> None:
        """Wait until a send fits in the budget, and count it."""

    async def try_take(self, limit: int) -> bool:
        """Count a send if fewer than `limit` were made in the last second; never waits."""

    async def once_per(self, key: str, seconds: float) -> bool:
        """True at most once per `seconds` for `key` (a chat's progress edits)."""


class LocalBudget:
    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self._sent: deque[float] = deque()
        self._marks: dict[str, float] = {}
        self._line = asyncio.Lock()  # waiters in the order they came (asyncio.Lock is FIFO)

    def _count(self, now: float) -> int:
        while self._sent and self._sent[0] <= now - 1.0:
            self._sent.popleft()
        return len(self._sent)

    async def take(self) -> None:
        async with self._line:
            while True:
                now = self.clock()
                if self._count(now) < self.rate:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + 1.0 - now)

    async def try_take(self, limit: int) -> bool:
        now = self.clock()
        if self._count(now) >= limit:
            return False
        self._sent.append(now)
        return True

    async def once_per(self, key: str, seconds: float) -> bool:
        now = self.clock()
        if now < self._marks.get(key, float("-inf")):
            return False
        self._marks[key] = now + seconds
        if len(self._marks) > 10_000:
            self._marks = {k: until for k, until in self._marks.items() if until > now}
        return True


# KEYS[1]: the log; ARGV: limit, a unique member. Returns 0 when taken, else the milliseconds
# until the oldest send in the window leaves it.
_TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], 2000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + 1000 - ms)
"""


class RedisBudget:
    def __init__(self, redis: Redis, rate: int, prefix: str = "videobot") -> None:
        self.redis = redis
        self.rate = rate
        self.key = f"{prefix}:sends"
        self.prefix = prefix
        self._script = redis.register_script(_TAKE)
        self._line = asyncio.Lock()  # this replica's waiters in order: one asks Redis at a time

    async def _ask(self, limit: int) -> int:
        return int(await self._script(keys=[self.key], args=[limit, uuid.uuid4().hex]))

    async def take(self) -> None:
        async with self._line:
            while True:
                wait_ms = await self._ask(self.rate)
                if wait_ms == 0:
                    return
                await asyncio.sleep(wait_ms / 1000)  # until the oldest send leaves the window

    async def try_take(self, limit: int) -> bool:
        return await self._ask(limit) == 0

    async def once_per(self, key: str, seconds: float) -> bool:
        name = f"{self.prefix}:once:{key}"
        return bool(await self.redis.set(name, 1, nx=True, px=max(1, int(seconds * 1000))))


@contextlib.contextmanager
def preclaimed() -> Iterator[None]:
    """The first Bot call made inside already holds its slot (a progress edit, a video, a
    broadcast's copy); any further call, a retry included, takes its own."""
    token = _PRECLAIMED.set([True])
    try:
        yield
    finally:
        _PRECLAIMED.reset(token)


class BudgetMiddleware(BaseRequestMiddleware):
    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in COUNTED:
            claimed = _PRECLAIMED.get()
            if claimed:
                claimed.pop()  # used once
            else:
                await self.budget.take()
        return await make_request(bot, method)

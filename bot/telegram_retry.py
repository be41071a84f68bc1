"""A session middleware: Telegram's 429 is waited out for every method; network errors and 5xx
are retried with backoff only for methods that are safe to repeat.

aiogram raises TelegramRetryAfter and never retries on its own (only its getUpdates loop backs
off), so every outgoing call except getUpdates passes through here. A 429 means the call was not
carried out, so repeating it is always safe. A send that timed out or met a 5xx may well have
arrived: repeating `sendMessage` or `sendVideo` here could give the user a second copy, so those
are left to their caller (the job runner retries deliveries itself, counting each attempt in the
database before it is made)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import (
    TelegramEntityTooLarge,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetMe, GetUpdates

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import Response, TelegramMethod
    from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

# Repeating these changes nothing the user sees twice: reads, edits to a given state, deletions,
# answers to a query, settings, a chat action.
SAFE_PREFIXES = ("get", "edit", "delete", "answer", "set", "close", "log")
SAFE_METHODS = frozenset({"sendChatAction"})


# Their callers back off themselves: aiogram's polling loop, and the start-up wait for Telegram
# (bot.app.reach_telegram), which logs one line per attempt.
OWN_BACKOFF = frozenset({GetUpdates.__api_method__, GetMe.__api_method__})


def safe_to_repeat(api_method: str) -> bool:
    return api_method.startswith(SAFE_PREFIXES) or api_method in SAFE_METHODS


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        attempts: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.max_wait = max_wait
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ in OWN_BACKOFF:
            return await make_request(bot, method)
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                wait = float(exc.retry_after)
                log.info("telegram %s: 429, waiting %.0fs", type(method).__name__, wait)
            except TelegramEntityTooLarge:
                raise  # a subclass of TelegramNetworkError in aiogram, but retrying cannot help
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt == self.attempts or not safe_to_repeat(method.__api_method__):
                    raise
                wait = random.uniform(0, min(self.max_wait, 0.5 * 2**attempt))
                log.info("telegram %s: %s; retry in %.1fs", type(method).__name__, exc, wait)
            await self.sleep(wait)
        raise AssertionError("unreachable")

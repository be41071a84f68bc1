"""The broadcast runner: copies a running broadcast's message to its pending recipients within
the bot's send budget, leaving room for the bot's own traffic, and keeps the admin's progress
line current. One runner holds a broadcast at a time (services.broadcasts' lease); every row is
settled in the database as it goes, so a restart (or another replica, once the lease runs out)
continues where it stopped without sending anyone a second copy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from handlers.admin import broadcast as texts
from services.broadcasts import Broadcast, Broadcasts, Outcome
from telegram_side.budget import SendBudget, preclaimed

log = logging.getLogger(__name__)

SOURCE_GONE = "message to copy not found"


class BroadcastRunner:
    def __init__(
        self,
        broadcasts: Broadcasts,
        bot: Bot,
        budget: SendBudget,
        i18n: I18n,
        *,
        share: float = 0.8,
        batch: int = 10,
        lease: float = 60.0,
        tick: float = 5.0,
        progress_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.broadcasts = broadcasts
        self.bot = bot
        self.budget = budget
        self.i18n = i18n
        # The most sends in any second, the bot's own included, under which a copy may go: the
        # rest of the budget is left to answers, progress and videos.
        self.limit = max(1, int(budget.rate * share))
        self.batch = batch
        self.lease = lease
        self.tick = tick
        self.progress_every = progress_every
        self.clock = clock
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._last_progress = float("-inf")
        self._stopping = False
        self._held: int | None = None  # the broadcast this runner holds, released on stop
        broadcasts.on_started(self.wake)

    def start(self) -> None:
        self._loop = asyncio.create_task(self._run(), name="broadcast-runner")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop after the batch in hand (its copies settled, the broadcast released for the
        next run or another replica); past `grace` seconds, as `kill`."""
        self._stopping = True
        self.wake()
        if self._loop is not None:
            done, _ = await asyncio.wait({self._loop}, timeout=grace)
            if not done:
                await self.kill()

    async def kill(self) -> None:
        """Stop at once, as a crash would: copies in flight stay 'sending' and become 'unknown'
        when the broadcast is taken over (they may have gone), the rest stay pending."""
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await self.step():
                    pass
            except Exception:  # a database blip: the next tick tries again
                log.exception("broadcast runner step failed")
            if self._stopping:
                break
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick)
        if self._held is not None:
            await self.broadcasts.release(self._held)

    async def step(self) -> bool:
        """One batch of the running broadcast, if this runner may hold it. True when there is
        more to do now."""
        broadcast = await self.broadcasts.claim(self.lease)
        if broadcast is None:
            self._held = None
            return False
        self._held = broadcast.id
        wait = (broadcast.pause_until or 0) - self.broadcasts.clock()
        if wait > 0:  # Telegram asked to wait: the lease is renewed by the next take
            await asyncio.sleep(min(wait, self.lease / 2))
            return True
        users = await self.broadcasts.take(broadcast.id, self.batch, self.lease)
        if not users:
            finished = await self.broadcasts.finish(broadcast.id)
            if finished is not None:
                await self._report(finished, final=True)
            else:
                await self.broadcasts.release(broadcast.id)  # cancelled, or nothing left
                current = await self.broadcasts.get(broadcast.id)
                if current is not None and current.status == "cancelled":
                    await self._report(current, final=True)
            return False
        sent = await asyncio.gather(*(self._send(broadcast, u) for u in users))
        outcomes = [o for o in sent if o is not None]
        if any(o.error == SOURCE_GONE for o in outcomes):
            stopped = await self.broadcasts.finish(broadcast.id, reason="source_gone")
            if stopped is not None:
                await self._report(stopped, final=True)
            return False
        pause = max((o.retry_after for o in outcomes), default=0.0)
        if pause:
            await self.broadcasts.pause(broadcast.id, pause)
        await self._report(broadcast, final=False)
        return True

    async def _slot(self) -> None:
        """Wait until a copy fits under the broadcast's share of the bot's budget, and take it."""
        delay = 0.005
        while not await self.budget.try_take(self.limit):
            await asyncio.sleep(delay)
            delay = min(0.1, delay * 2)

    async def _send(self, broadcast: Broadcast, user_id: int) -> Outcome | None:
        """One copy: a slot, the row marked, the copy, the row settled at once, so that only
        the copies on the wire are in doubt if the process dies (None: not sent, the row was
        not ours any more)."""
        outcome = await self._copy(broadcast, user_id)
        if outcome is not None:
            await self.broadcasts.settle(broadcast.id, [outcome])
        return outcome

    async def _copy(self, broadcast: Broadcast, user_id: int) -> Outcome | None:
        markup = (
            InlineKeyboardMarkup.model_validate_json(broadcast.markup) if broadcast.markup else None
        )
        await self._slot()
        if not await self.broadcasts.mark(broadcast.id, user_id):
            return None
        try:
            with preclaimed():  # a retry after a 429 takes its own slot
                sent = await self.bot.copy_message(
                    chat_id=user_id,
                    from_chat_id=broadcast.from_chat_id,
                    message_id=broadcast.message_id,
                    reply_markup=markup,
                )
        except TelegramForbiddenError as exc:
            return Outcome(user_id, "blocked", error=exc.message[:200])
        except TelegramRetryAfter as exc:  # still refused after the retries: the whole bot waits
            return Outcome(user_id, "retry", error="429", retry_after=exc.retry_after)
        except TelegramBadRequest as exc:
            error = SOURCE_GONE if SOURCE_GONE in exc.message.lower() else exc.message[:200]
            return Outcome(user_id, "failed", error=error)
        except (TelegramNetworkError, TelegramServerError) as exc:
            # The copy may have gone before the fault: not sent again (no second copy).
            return Outcome(user_id, "unknown", error=type(exc).__name__)
        except TelegramAPIError as exc:
            return Outcome(user_id, "failed", error=exc.message[:200])
        return Outcome(user_id, "sent", message_id=sent.message_id)

    async def _report(self, broadcast: Broadcast, *, final: bool) -> None:
        """The admin's progress line, edited at most every few seconds; at the end, edited
        once more and a new message (a notification)."""
        now = self.clock()
        if not final and now - self._last_progress < self.progress_every:
            return
        self._last_progress = now
        fresh = await self.broadcasts.get(broadcast.id) or broadcast
        progress = await self.broadcasts.progress(broadcast.id)
        with self.i18n.context(), self.i18n.use_locale(fresh.language):
            text = texts.progress_text(fresh, progress, self.broadcasts.clock())
            markup = texts.progress_markup(fresh)
        if fresh.progress_chat is not None and fresh.progress_id is not None:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.edit_message_text(
                    text=text,
                    chat_id=fresh.progress_chat,
                    message_id=fresh.progress_id,
                    reply_markup=markup,
                )
        if final and fresh.stop_reason != "admin":  # an admin's cancel was answered already
            try:
                await self.bot.send_message(fresh.admin_id, text)
            except TelegramAPIError as exc:
                log.warning("broadcast %d: the admin was not told it ended: %s", fresh.id, exc)

"""The send budget: a bound on the bot's sends per second, shared by the replicas through Redis
(or kept by the one process), and one progress edit per chat per interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram.methods import SendMessage

from bot.redis_state import open_redis
from telegram_side.budget import BudgetMiddleware, LocalBudget, RedisBudget, SendBudget, preclaimed
from tests.recording_session import recording_bot
from tests.servers import redis_url


@pytest.fixture(params=["local", "redis"])
async def budgets(request) -> AsyncIterator[Callable[[int], list[SendBudget]]]:
    """budgets(rate) -> the budget as each of two replicas sees it (one process: the same)."""
    if request.param == "local":
        yield lambda rate: [LocalBudget(rate)] * 2
        return
    async with redis_url() as url:
        clients = [open_redis(url), open_redis(url)]
        yield lambda rate: [RedisBudget(client, rate) for client in clients]
        for client in clients:
            await client.aclose()


def busiest_second(times: list[float], window: float = 0.95) -> int:
    """The most sends in any window (a little under a second: the clocks of the test and of
    Redis see a grant a few milliseconds apart)."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start < window) for i, start in enumerate(times))


@pytest.mark.alone
@pytest.mark.usefixtures("no_gc_pauses")
async def test_replicas_sending_at_once_stay_within_the_budget_together(budgets):
    a, b = budgets(20)
    granted: list[float] = []

    async def send(budget: SendBudget) -> None:
        await budget.take()
        granted.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(send(a if i % 2 else b) for i in range(50)))
    assert len(granted) == 50
    assert busiest_second(granted) <= 20
    assert max(granted) - started >= 2.0  # 50 sends at 20 a second need two more seconds


async def test_progress_takes_only_the_spare_part_and_never_waits(budgets):
    a, b = budgets(10)
    for _ in range(6):
        await a.take()
    assert not await b.try_take(6)  # the second is 60% used: progress is skipped
    assert await b.try_take(10)  # a send that may use the whole budget still fits


async def test_one_progress_edit_per_chat_per_interval_for_the_fleet(budgets):
    a, b = budgets(25)
    assert await a.once_per("progress:7", 0.2)
    assert not await b.once_per("progress:7", 0.2)
    assert await b.once_per("progress:8", 0.2)  # another chat
    await asyncio.sleep(0.25)  # the interval itself is what is tested: it must run out
    assert await b.once_per("progress:7", 0.2)


async def test_a_one_use_pass_covers_the_first_call_and_a_retry_takes_its_own_slot():
    """A send that took its slot (a video, a broadcast's copy) holds it (preclaimed()); if
    Telegram answers 429 and the call is made again, that attempt takes a slot of its own."""
    bot, session = recording_bot()
    budget = LocalBudget(10)
    session.middleware(BudgetMiddleware(budget))
    with preclaimed():
        await bot.send_message(1, "the copy")  # the pass
        await bot.send_message(1, "its retry")  # a slot
        await bot.send_message(1, "another")  # a slot
    assert len(budget._sent) == 2
    await bot.send_message(1, "an answer")
    assert len(budget._sent) == 3
    assert len(session.sent(SendMessage)) == 4

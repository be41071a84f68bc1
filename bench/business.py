"""The admins' levers at their default settings, on one SQLite file:

- a broadcast to 1,000 users within the default send budget (25 a second; a copy goes only
  while the last second holds fewer than 80% of it, 20, the bot's own sends included), while
  the bot's own traffic (answers, at 4 a second) goes on, so 16 a second are left to copies:
  users per second, duplicates, the most sends Telegram saw in any second, and how long the
  bot's own sends waited for their slot;
- /export of 100,000 ledger rows and 20,000 jobs: seconds, and the Python memory the export
  took at its peak (tracemalloc), which stays flat however many rows there are.

    python bench/business.py [--users 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import CopyMessage, TelegramMethod
from aiogram.types import Chat, Message, MessageId

from bench.table import print_table
from bot.telegram_retry import RetryMiddleware
from handlers.i18n import build_i18n
from services.broadcasts import Audience, Broadcasts
from services.db import SqliteDatabase
from services.exports import Exports, parse_range
from services.migrations import migrate
from telegram_side.broadcaster import BroadcastRunner
from telegram_side.budget import COUNTED, BudgetMiddleware, LocalBudget

TOKEN = "424242:BENCH-token-0123456789abcdefghijkl"


class Telegram(BaseSession):
    """Answers at once, like a fast Telegram; records when each counted call came."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []
        self.copies: Counter[int] = Counter()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        if method.__api_method__ in COUNTED:
            self.times.append(time.monotonic())
        if isinstance(method, CopyMessage):
            self.copies[int(method.chat_id)] += 1
            return MessageId(message_id=len(self.times))
        return Message(
            message_id=len(self.times), date=datetime.now(), chat=Chat(id=1, type="private")
        )

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


def most_in_a_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def broadcast(folder: Path, users: int) -> list[list[object]]:
    db = SqliteDatabase(folder / "broadcast.sqlite3")
    await db.connect()
    await migrate(db)
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (id) VALUES (?)", [(i,) for i in range(1, users + 2)]
        )
    session = Telegram()
    budget = LocalBudget(25)
    session.middleware(RetryMiddleware())
    session.middleware(BudgetMiddleware(budget))
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    broadcasts = Broadcasts(db)
    draft, count = await broadcasts.draft(1, "en", 1, 7, None, Audience())
    runner = BroadcastRunner(broadcasts, bot, budget, build_i18n())
    waits: list[float] = []
    done = asyncio.Event()

    async def own_traffic() -> None:  # the bot answering people meanwhile, 4 a second
        while not done.is_set():
            asked = time.monotonic()
            await bot.send_message(1, "an answer")
            waits.append(time.monotonic() - asked)
            await asyncio.sleep(0.25)

    started = time.monotonic()
    await broadcasts.start(draft.id, 1, 1, 1)
    runner.start()
    traffic = asyncio.create_task(own_traffic())
    while (await broadcasts.get(draft.id)).status != "done":  # type: ignore[union-attr]  # noqa: ASYNC110 - the database says
        await asyncio.sleep(0.2)
    elapsed = time.monotonic() - started
    done.set()
    await traffic
    await runner.stop()
    await db.close()
    duplicates = sum(1 for n in session.copies.values() if n > 1)
    waits.sort()
    return [
        ["broadcast: 1,000 users at the default budget (25/s; copies while the second holds "
         "< 20 sends, the bot's own 4/s included: 16/s left)",
         f"{count / elapsed:.1f} users/s ({elapsed:.0f} s)", ">= 14.4 users/s (90% of 16)",
         "yes" if count / elapsed >= 14.4 else "NO"],
        ["broadcast: duplicates", duplicates, "0", "yes" if duplicates == 0 else "NO"],
        ["broadcast: most sends Telegram saw in one second", most_in_a_second(session.times),
         "<= 25", "yes" if most_in_a_second(session.times) <= 25 else "NO"],
        ["broadcast: the bot's own sends meanwhile, wait for a slot p50 / p99",
         f"{statistics.median(waits) * 1000:.0f} / {waits[int(len(waits) * 0.99)] * 1000:.0f} ms",
         "p99 < 500 ms", "yes" if waits[int(len(waits) * 0.99)] < 0.5 else "NO"],
    ]  # fmt: skip


async def export(folder: Path, rows: int, jobs: int) -> list[list[object]]:
    db = SqliteDatabase(folder / "export.sqlite3")
    await db.connect()
    await migrate(db)
    now = time.time()
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO users (id) VALUES (?)", [(i,) for i in range(100)])
        await tx.executemany(
            "INSERT INTO ledger (user_id, amount, kind, reference, reason, idempotency_key)"
            " VALUES (?, ?, 'bonus', ?, ?, ?)",
            [(i % 100, 5, f"r{i}", "a reason, with a comma", f"k{i}") for i in range(rows)],
        )
        await tx.executemany(
            "INSERT INTO jobs (user_id, chat_id, mode, model_id, params, prompt, status,"
            " task_uuid, tokens, cost_usd, created_at, updated_at)"
            " VALUES (?, ?, 't2v', 'runway:1@2', '{}', 'p', 'delivered', ?, 25, 0.25, ?, ?)",
            [(i % 100, i % 100, f"t{i}", now, now) for i in range(jobs)],
        )
    exports = Exports(db)
    span = parse_range(["1"], datetime.now(UTC).date())
    tracemalloc.start()
    started = time.monotonic()
    written = await exports.ledger(folder / "ledger.csv", span)
    written_jobs = await exports.jobs(folder / "jobs.csv", span)
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await db.close()
    assert written == rows and written_jobs == jobs
    size = ((folder / "ledger.csv").stat().st_size + (folder / "jobs.csv").stat().st_size) / 1e6
    return [
        [f"export: {rows:,} ledger rows + {jobs:,} jobs to CSV ({size:.0f} MB)",
         f"{elapsed:.1f} s", "< 30 s", "yes" if elapsed < 30 else "NO"],
        ["export: Python memory at its peak (tracemalloc)", f"{peak / 1e6:.1f} MB", "< 20 MB",
         "yes" if peak < 20e6 else "NO"],
    ]  # fmt: skip


def run(users: int = 1000) -> list[list[object]]:
    with tempfile.TemporaryDirectory(prefix="bench-business-") as tmp:
        rows = asyncio.run(broadcast(Path(tmp), users))
        rows += asyncio.run(export(Path(tmp), 100_000, 20_000))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    print_table(run(args.users), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

"""Update handling: the production Dispatcher (router tree, middlewares, SQLite FSM storage,
i18n, database) on a realistic mix of updates, against the same aiogram version with one bare
handler and no filters, in the same run. Both answer through a recording session (no network).

    python bench/updates.py [--users 50] [--rounds 4]

Then the bot alone once more as a replica of a fleet runs it (PostgreSQL in a schema made for
the run, wizards in Redis: BENCH_DATABASE_URL, BENCH_REDIS_URL), beside the embedded figure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from aiogram import Bot, Dispatcher, Router
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from redis.exceptions import RedisError

from bench.shared_servers import postgres_schema, redis_database
from bench.table import print_table
from bot.app import Services, build_dispatcher, build_services
from bot.settings import load_settings
from services.billing import Kind
from tests.recording_session import TOKEN, RecordingSession, recording_bot

# One user's visit: what people do most, none of it waiting on a generation.
# The floor the house issue set: simpler code may cost throughput, not below this.
RATIO_FLOOR = 0.45
PAIRS = 5

MIX: list[tuple[str, str]] = [
    ("text", "/start"),
    ("tap", "m:t2v"),
    ("tap", "md:t2v:google.3@3"),
    ("tap", "p:duration:6"),
    ("tap", "s:next"),
    ("text", "A lighthouse in a storm, waves crashing, cinematic"),
    ("text", "/gallery"),
    ("tap", "g:page:0:1"),
    ("text", "/balance"),
    ("tap", "m:home"),
    ("tap", "m:i2v"),
    ("tap", "md:i2v:vidu.2@0"),
    ("tap", "s:cancel"),
    ("text", "/help"),
]


def make_update(n: int, user_id: int, kind: str, value: str) -> Update:
    user = User(
        id=user_id,
        is_bot=False,
        first_name="B",
        username=f"b{user_id}",
        language_code="ru" if user_id % 2 else "en",
    )
    chat = Chat(id=user_id, type="private")
    if kind == "text":
        message = Message(message_id=n, date=datetime.now(), chat=chat, from_user=user, text=value)
        return Update(update_id=n, message=message)
    screen = Message(message_id=n, date=datetime.now(), chat=chat, text="screen")
    return Update(
        update_id=n,
        callback_query=CallbackQuery(
            id=str(n), from_user=user, chat_instance="ci", message=screen, data=value
        ),
    )


def bare_dispatcher() -> Dispatcher:
    async def on_message(message: Message) -> None:
        await message.answer("ok")

    async def on_callback(callback: CallbackQuery) -> None:
        await callback.answer()

    dp = Dispatcher()
    router = Router()
    router.message.register(on_message)
    router.callback_query.register(on_callback)
    dp.include_router(router)
    return dp


async def drive(
    dp: Dispatcher, bot: Bot, users: int, rounds: int, first_user: int
) -> tuple[float, list[float]]:
    """Users act at once, each one update after the other (as people do)."""
    latencies: list[float] = []
    counter = iter(range(1, 10**9))

    async def one_user(uid: int) -> None:
        for _ in range(rounds):
            for kind, value in MIX:
                update = make_update(next(counter), uid, kind, value)
                started = time.perf_counter()
                await dp.feed_update(bot, update)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one_user(first_user + u) for u in range(users)))
    return time.perf_counter() - started, latencies


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def seeded(folder: str, users: int, **shape: str) -> Services:
    """The bot's services on a fresh database (`shape`: a DATABASE_URL and a REDIS_URL for the
    fleet shape), with `users` users holding 500 tokens each."""
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        runware_api_key="rw-bench-key-0123456789",
        database_path=Path(folder) / "bench.sqlite3",
        **shape,
    )
    services = await build_services(settings)
    for uid in range(1000, 1000 + users):
        await services.users.touch(uid, f"b{uid}", "en")
        await services.billing.credit(uid, 500, Kind.ADMIN_TOPUP, f"bench-{uid}")
    return services


async def measure(users: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        services = await seeded(folder, users)
        try:
            # Telegram checks the HTML of every text on its side; the tests' session does the
            # same, which is not the bot's work: off here, for both dispatchers.
            bot, _ = recording_bot(RecordingSession(check_texts=False))
            real = build_dispatcher(services)
            bare = bare_dispatcher()
            await drive(real, bot, 5, 1, 50_000)  # warm up both
            await drive(bare, bot, 5, 1, 50_000)
            results: dict[str, float] = {}
            session = bot.session
            assert isinstance(session, RecordingSession)
            # The machine is noisy (a bare run alone varies by a fifth): the two sides run back
            # to back, PAIRS times, and each figure is the median over the pairs.
            runs: dict[str, list[dict[str, float]]] = {"bot": [], "bare": []}
            for _ in range(PAIRS):
                for key, dp in (("bot", real), ("bare", bare)):
                    calls = len(session.requests)
                    elapsed, latencies = await drive(dp, bot, users, rounds, 1000)
                    runs[key].append(
                        {
                            "calls": (len(session.requests) - calls) / len(latencies),
                            "rate": len(latencies) / elapsed,
                            "p50": pct(latencies, 0.5),
                            "p99": pct(latencies, 0.99),
                        }
                    )
            for key, measured in runs.items():
                for name in ("calls", "rate", "p50", "p99"):
                    results[f"{key}_{name}"] = statistics.median(m[name] for m in measured)
            results["ratio"] = statistics.median(
                b["rate"] / r["rate"] for b, r in zip(runs["bot"], runs["bare"], strict=True)
            )
        finally:
            await real.storage.close()
            await services.close()
    return results


async def fleet_rate(users: int, rounds: int) -> float | str:
    """The bot's updates/s with PostgreSQL and Redis (one replica): median of PAIRS runs."""
    try:
        async with postgres_schema() as url, redis_database() as redis_url:
            with tempfile.TemporaryDirectory() as folder:
                services = await seeded(folder, users, database_url=url, redis_url=redis_url)
                try:
                    bot, _ = recording_bot(RecordingSession(check_texts=False))
                    dp = build_dispatcher(services)
                    await drive(dp, bot, 5, 1, 50_000)
                    rates = []
                    for _ in range(PAIRS):
                        elapsed, latencies = await drive(dp, bot, users, rounds, 1000)
                        rates.append(len(latencies) / elapsed)
                    await dp.storage.close()
                finally:
                    await services.close()
    except (OSError, asyncpg.PostgresError, RedisError) as exc:
        return f"not measured: {type(exc).__name__}"
    return statistics.median(rates)


def run(users: int = 50, rounds: int = 4) -> list[list[object]]:
    r = asyncio.run(measure(users, rounds))
    fleet = asyncio.run(fleet_rate(users, rounds))
    ratio = r["ratio"]
    shared = (
        f"{fleet:,.0f} ({fleet / r['bot_rate']:.2f} of the embedded)"
        if isinstance(fleet, float)
        else fleet
    )
    return [
        ["updates: the bot on PostgreSQL + Redis, one replica, updates/s", shared, "info", ""],
        ["updates: bare aiogram, updates/s", f"{r['bare_rate']:,.0f}", "reference", ""],
        ["updates: the bot, updates/s", f"{r['bot_rate']:,.0f}", "", ""],
        [
            "updates: the bot / bare",
            f"{ratio:.2f}",
            f">= {RATIO_FLOOR}",
            "yes" if ratio >= RATIO_FLOOR else "NO",
        ],
        [
            "updates: the bot p50 / p99 latency, ms",
            f"{r['bot_p50']:.1f} / {r['bot_p99']:.1f}",
            "info",
            "",
        ],
        [
            "updates: bare p50 / p99 latency, ms",
            f"{r['bare_p50']:.1f} / {r['bare_p99']:.1f}",
            "info",
            "",
        ],
        [
            "updates: Telegram calls per update, bot / bare",
            f"{r['bot_calls']:.2f} / {r['bare_calls']:.2f}",
            "info",
            "",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    print_table(run(args.users, args.rounds), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

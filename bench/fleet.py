"""Several replicas: the same 1,000 jobs through one and through two `python -m bot` replicas in
webhook mode on PostgreSQL and Redis, behind the round-robin proxy of the tests, with results
pushed by the fake Runware. Reports jobs per second from the first card to the last video
sent, updates per second while the cards are confirmed, Runware requests per job, and the
ratio two/one.

The send budget is lifted for this run (TELEGRAM_SENDS_PER_SECOND=1000): it measures what the
bot's processes can do. Against the real Telegram the budget comes first (README).

    python bench/fleet.py [--jobs 1000] [--latency 2]
Needs PostgreSQL (BENCH_DATABASE_URL, default the tests' server) and Redis (BENCH_REDIS_URL,
default redis://127.0.0.1:6379/14, emptied by the run)."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from redis.exceptions import RedisError

from bench.shared_servers import postgres_schema, redis_database
from bench.table import print_table
from tests.e2e.conftest import KEY, TOKEN, BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.fake_runware import RunwareServer
from tests.fake_telegram import FakeTelegram
from tests.proxy import RoundRobinProxy

PUBLIC = "https://bot.bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(replicas: int, jobs: int, latency: float) -> dict[str, float]:
    async with postgres_schema() as url, redis_database() as redis_url:
        return await _measure(url, redis_url, replicas, jobs, latency)


async def _measure(
    url: str, redis_url: str, replicas: int, jobs: int, latency: float
) -> dict[str, float]:
    telegram = FakeTelegram(TOKEN)
    telegram.keep_files = False
    runware = RunwareServer(KEY, latency=latency)
    proxy = RoundRobinProxy([])
    for server in (telegram, runware, proxy):
        await server.start()
    telegram.routes[PUBLIC] = runware.routes[PUBLIC] = proxy.url
    bots: list[BotProcess] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for n in range(replicas):
                (Path(folder) / str(n)).mkdir()
                bot = BotProcess(
                    Path(folder) / str(n), telegram, runware,
                    DATABASE_URL=url, REDIS_URL=redis_url, WEBHOOK_URL=PUBLIC,
                    WEBHOOK_SECRET="bench-secret-0123456789abcdef",
                    WEBHOOK_LISTEN=f"127.0.0.1:{free_port()}",
                    TELEGRAM_SENDS_PER_SECOND=1000, POLL_FIRST_SECONDS=5, POLL_MAX_SECONDS=10,
                    RUNWARE_TIMEOUT_SECONDS=60, RUNWARE_MAX_ATTEMPTS=4, JOB_LEASE_SECONDS=300,
                    MAX_ACTIVE_JOBS_PER_USER=2, LOG_LEVEL="WARNING",
                )  # fmt: skip
                bots.append(bot)
                proxy.backends.append(bot.local_url)
            await asyncio.gather(*(bot.start() for bot in bots))
            await telegram.wait_for("setWebhook")
            users = range(200_000, 200_000 + jobs)

            async def one(uid: int) -> None:
                card = await card_from_text(telegram, uid, f"video {uid}")
                await generate(telegram, uid, card)

            own_before = cpu_seconds(os.getpid())
            bots_before = sum(cpu_seconds(bot.proc.pid) for bot in bots if bot.proc is not None)
            machine_before = machine_ticks()
            started = time.monotonic()
            await asyncio.gather(*(one(uid) for uid in users))
            created = time.monotonic() - started
            db = await asyncpg.connect(url)
            try:
                deadline = time.monotonic() + latency + 600
                done = "SELECT count(*) FROM jobs WHERE status = 'delivered'"
                while await db.fetchval(done) < jobs:
                    assert time.monotonic() < deadline, "the jobs did not finish"
                    await asyncio.sleep(0.2)
            finally:
                await db.close()
            total = time.monotonic() - started
            requests = len(runware.requests)
            bot_cpu = sum(cpu_seconds(bot.proc.pid) for bot in bots if bot.proc is not None)
            bot_cpu -= bots_before  # their start-up is not the work measured
            own_cpu = cpu_seconds(os.getpid()) - own_before
            busy, all_ticks = (b - a for a, b in zip(machine_before, machine_ticks(), strict=True))
            for bot in bots:
                await bot.stop()
    finally:
        for bot in bots:
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.kill()
        for server in (proxy, telegram, runware):
            await server.stop()
    assert runware.violations == [], runware.violations[:3]
    return {
        "jobs_per_s": jobs / total,
        "updates_per_s": 2 * jobs / created,
        "requests_per_job": requests / jobs,
        "bot_cpu": bot_cpu / total,  # cores the replicas kept busy
        "fakes_cpu": own_cpu / total,  # cores the fakes, the proxy and the users kept busy
        "machine": busy / all_ticks * (os.cpu_count() or 1),  # with PostgreSQL and Redis
    }


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every core since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(jobs: int = 1000, latency: float = 2.0) -> list[list[object]]:
    try:
        one = asyncio.run(measure(1, jobs, latency))
        two = asyncio.run(measure(2, jobs, latency))
    except (OSError, asyncpg.PostgresError, RedisError) as exc:
        return [["fleet: not measured (PostgreSQL or Redis)", type(exc).__name__, "", ""]]
    ratio = two["jobs_per_s"] / one["jobs_per_s"]
    return [
        [
            f"fleet: {jobs} jobs, cards to videos sent, jobs/s (1 / 2 replicas)",
            f"{one['jobs_per_s']:.1f} / {two['jobs_per_s']:.1f}",
            "info",
            "",
        ],
        [
            "fleet: throughput two replicas / one",
            f"{ratio:.2f}",
            ">= 1.7",
            "yes" if ratio >= 1.7 else "NO",
        ],
        [
            "fleet: updates/s while cards are confirmed (1 / 2 replicas)",
            f"{one['updates_per_s']:.0f} / {two['updates_per_s']:.0f}",
            "info",
            "",
        ],
        [
            f"fleet: cores busy, replicas / fakes and users / whole machine of {os.cpu_count()}"
            " (1; 2 replicas)",
            f"{one['bot_cpu']:.2f} / {one['fakes_cpu']:.2f} / {one['machine']:.2f}; "
            f"{two['bot_cpu']:.2f} / {two['fakes_cpu']:.2f} / {two['machine']:.2f}",
            "info",
            "",
        ],
        [
            "fleet: Runware requests per job, results pushed (1 / 2 replicas)",
            f"{one['requests_per_job']:.2f} / {two['requests_per_job']:.2f}",
            "<= 1.05",
            "yes" if max(one["requests_per_job"], two["requests_per_job"]) <= 1.05 else "NO",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=2.0)
    args = parser.parse_args()
    print_table(run(args.jobs, args.latency), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

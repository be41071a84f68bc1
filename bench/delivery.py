"""Delivery memory: 20 videos of 45 MB delivered at once through the upload fallback (Telegram
refuses URLs over 20 MB, so each video is streamed to a temporary file and uploaded). Measures
how far this process's RSS grows above its baseline while they go; the fake servers run in a
separate process (bench/servers.py) and are not counted.

    python bench/delivery.py [--videos 20] [--mb 45]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bench.table import print_table
from handlers.i18n import build_i18n
from services.billing import Billing, Kind
from services.catalog import Mode, load_catalog
from services.db import SqliteDatabase
from services.jobs import Draft, JobService, Status
from services.migrations import migrate
from services.users import Users
from telegram_side.messenger import MB, TelegramMessenger

TOKEN = "4242424242:BENCH-delivery-token-abcdefghijkl"


def rss_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(videos: int, size_mb: int) -> dict[str, float]:
    servers = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("servers.py")),
        "--token",
        TOKEN,
        "--video-mb",
        str(size_mb),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert servers.stdout is not None and servers.stdin is not None
    urls = json.loads(await servers.stdout.readline())
    catalog = load_catalog()
    with tempfile.TemporaryDirectory() as folder:
        db = SqliteDatabase(Path(folder) / "bench.sqlite3")
        await db.connect()
        await migrate(db)
        billing = Billing(db)
        users = Users(db, billing)
        jobs = JobService(db, billing, catalog, max_active_per_user=videos + 1)
        ready = []
        for n in range(videos + 1):
            await users.touch(5000 + n, None, "en")
            await billing.credit(5000 + n, 10_000, Kind.ADMIN_TOPUP, f"b{n}")
            job = await jobs.create(Draft(5000 + n, 5000 + n, Mode.T2V, "google:3@3", {}, "x y"))
            job = await jobs.move(job, Status.SUBMITTED)
            url = f"{urls['runware']}/videos/{job.task_uuid}.mp4"
            ready.append(await jobs.move(job, Status.SUCCEEDED, video_url=url))
        session = AiohttpSession(api=TelegramAPIServer.from_base(urls["telegram"]))
        bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        async with httpx.AsyncClient(timeout=120) as http:
            messenger = TelegramMessenger(
                bot, build_i18n(), users, catalog, [], http, upload_limit=50 * MB
            )
            await messenger.deliver(ready[0])  # warm up sessions and code paths
            baseline = rss_mb()
            peak = baseline
            done = asyncio.Event()

            async def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, rss_mb())
                    await asyncio.sleep(0.01)

            sampler = asyncio.create_task(sample())
            results = await asyncio.gather(*(messenger.deliver(job) for job in ready[1:]))
            done.set()
            await sampler
        await session.close()
        await db.close()
    servers.stdin.close()
    uploads = json.loads(await servers.stdout.readline())["uploads"]
    await servers.wait()
    assert all(r.delivered_as == "video" for r in results), results
    return {"baseline": baseline, "growth": peak - baseline, "uploads": uploads - 1}


def run(videos: int = 20, size_mb: int = 45) -> list[list[object]]:
    r = asyncio.run(measure(videos, size_mb))
    ok = r["growth"] < 100 and r["uploads"] == videos
    return [
        [
            f"delivery: RSS growth, {videos} x {size_mb} MB uploaded at once, MB",
            f"{r['growth']:.0f}",
            "< 100",
            "yes" if ok else "NO",
        ],
        ["delivery: RSS of this process before, MB", f"{r['baseline']:.0f}", "info", ""],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--mb", type=int, default=45)
    args = parser.parse_args()
    print_table(run(args.videos, args.mb), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

"""Start-up: `python -m bot` against the local fake Telegram and Runware, from the process start
to its first getUpdates, split into the imports (mostly aiogram and pydantic building a schema
for every Telegram type) and the bot's own work after them (settings, database and migrations,
catalog, services, getMe, commands, reconciliation). Each run is a fresh process on a fresh
database; the figures are medians.

    python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import print_table
from tests.fake_runware import RunwareServer
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7777777777:BENCH-SECRET-TOKEN-abcdefghijklmnopq"
KEY = "rw-BENCH-SECRET-KEY-0123456789abcdef"
OWN_WORK_TARGET_S = 1.0

# The child says when its imports are done (CLOCK_MONOTONIC is one clock for all processes),
# then runs the bot as `python -m bot` does.
CHILD = r"""
import re, sys, time
started = time.monotonic()
import bot.app, bot.__main__
# VmHWM: this process's peak (ru_maxrss would carry the parent's over the exec)
peak_kb = re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)
print(f"imported {started} {time.monotonic()} {peak_kb}", flush=True)
sys.exit(bot.__main__.main())
"""


async def one_start(folder: Path) -> tuple[float, float, float]:
    """(import seconds, the bot's own seconds after imports, peak RSS MB after imports)."""
    telegram = FakeTelegram(TOKEN)
    runware = RunwareServer(KEY, latency=0.0)
    await telegram.start()
    await runware.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "RUNWARE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        RUNWARE_API_KEY=KEY,
        TELEGRAM_API_URL=telegram.url,
        RUNWARE_API_URL=f"{runware.url}/v1",
        RUNWARE_SCHEMAS_URL=runware.schemas_url,
        DATABASE_PATH=str(folder / "bot.sqlite3"),
        ADMIN_IDS="9",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # its SIGTERM notice at the end
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode().split()
        started, imported, rss_kb = float(line[1]), float(line[2]), int(line[3])
        (first, *_) = await telegram.wait_for("getUpdates", 1, timeout=60)
        return imported - started, first.at - imported, rss_kb / 1024
    finally:
        proc.terminate()
        await proc.wait()
        await runware.stop()
        await telegram.stop()


async def measure(runs: int) -> list[tuple[float, float, float]]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            results.append(await one_start(Path(folder)))
    return results


def run(runs: int = 5) -> list[list[object]]:
    results = asyncio.run(measure(runs))
    imports = statistics.median(r[0] for r in results)
    own = statistics.median(r[1] for r in results)
    rss = statistics.median(r[2] for r in results)
    return [
        ["start-up: imports (aiogram, pydantic, the bot)", f"{imports:.2f} s", "info", ""],
        ["start-up: RSS after imports", f"{rss:.0f} MB", "info", ""],
        [
            "start-up: the bot's own work, imports to first getUpdates",
            f"{own:.2f} s",
            f"< {OWN_WORK_TARGET_S:.0f} s",
            "yes" if own < OWN_WORK_TARGET_S else "NO",
        ],
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    started = time.monotonic()
    print_table(run(args.runs), ["measure", "result", "target", "met"])
    print(f"\n{time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()

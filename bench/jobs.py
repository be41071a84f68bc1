"""Jobs in flight: 1,000 jobs submitted at once against the fake Runware with a 60 s generation
latency, in one real bot process (`python -m bot`, production poll settings), through the fake
Telegram server. Reports Runware requests per job, the bot's peak RSS, its event-loop lag p99,
and the time from "video ready at Runware" to "video sent" (p50/p99).

    python bench/jobs.py [--jobs 1000] [--latency 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import print_table
from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.fake_runware import RunwareServer
from tests.fake_telegram import FakeTelegram

POLL_MAX = 10.0  # the production default of POLL_MAX_SECONDS


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(jobs: int, latency: float) -> dict[str, float]:
    from tests.e2e.conftest import KEY, TOKEN

    telegram = FakeTelegram(TOKEN)
    runware = RunwareServer(KEY, latency=latency)
    await telegram.start()
    await runware.start()
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "lag.json"
        bot = BotProcess(
            Path(folder),
            telegram,
            runware,
            POLL_FIRST_SECONDS=5,
            POLL_MAX_SECONDS=POLL_MAX,
            RUNWARE_TIMEOUT_SECONDS=60,
            RUNWARE_MAX_ATTEMPTS=4,
            JOB_LEASE_SECONDS=300,
            SUBMIT_RETRY_SECONDS=10,
            MAX_ACTIVE_JOBS_PER_USER=2,
            LOOP_LAG_REPORT=report,
            LOG_LEVEL="WARNING",
        )
        await bot.start()
        users = range(100_000, 100_000 + jobs)

        async def one(uid: int) -> None:
            await generate(telegram, uid, await card_from_text(telegram, uid, f"video {uid}"))

        started = time.monotonic()
        await asyncio.gather(*(one(uid) for uid in users))
        created = time.monotonic() - started
        await bot.wait_jobs("status = 'delivered'", jobs, timeout=latency + 300)
        assert bot.proc is not None
        rss = peak_rss_mb(bot.proc.pid)
        tasks = {
            r["user_id"]: r["task_uuid"] for r in bot.query("SELECT user_id, task_uuid FROM jobs")
        }
        sent_at = {int(c.params["chat_id"]): c.at for c in telegram.called("sendVideo")}
        ready_to_sent = [sent_at[uid] - runware.ready_at(tasks[uid]) for uid in users]
        requests = len(runware.requests)
        await bot.stop()
        lag = json.loads(report.read_text())
    await telegram.stop()
    await runware.stop()
    assert runware.violations == [], runware.violations[:3]
    return {
        "jobs": jobs,
        "created_s": created,
        "requests_per_job": requests / jobs,
        "rss_mb": rss,
        "lag_p99_ms": lag["p99_ms"],
        "lag_max_ms": lag["max_ms"],
        "rts_p50": pct(ready_to_sent, 0.5),
        "rts_p99": pct(ready_to_sent, 0.99),
    }


def run(jobs: int = 1000, latency: float = 60) -> list[list[object]]:
    r = asyncio.run(measure(jobs, latency))
    limit = POLL_MAX + 2

    def met(ok: bool) -> str:
        return "yes" if ok else "NO"

    return [
        [
            f"jobs: Runware requests per job ({jobs} jobs, {latency:.0f} s)",
            f"{r['requests_per_job']:.2f}",
            "< 3",
            met(r["requests_per_job"] < 3),
        ],
        ["jobs: bot peak RSS, MB", f"{r['rss_mb']:.0f}", "< 300", met(r["rss_mb"] < 300)],
        [
            "jobs: event-loop lag p99 (max), ms",
            f"{r['lag_p99_ms']:.1f} ({r['lag_max_ms']:.0f})",
            "< 50",
            met(r["lag_p99_ms"] < 50),
        ],
        [
            "jobs: ready at Runware -> sent, p50 / p99, s",
            f"{r['rts_p50']:.1f} / {r['rts_p99']:.1f}",
            f"p99 < {limit:.0f}",
            met(r["rts_p99"] < limit),
        ],
        [f"jobs: {jobs} cards confirmed through Telegram, s", f"{r['created_s']:.1f}", "info", ""],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=60)
    args = parser.parse_args()
    print_table(run(args.jobs, args.latency), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

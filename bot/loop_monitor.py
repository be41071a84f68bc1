"""Event-loop lag, for diagnosis: with LOOP_LAG_REPORT=<file> the bot samples how late a 50 ms
sleep wakes up, and writes p50/p99/max (ms) to the file as JSON when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path


class LoopLagMonitor:
    def __init__(self, report: Path, interval: float = 0.05) -> None:
        self.report = report
        self.interval = interval
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample(), name="loop-lag")

    async def _sample(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.samples.append((time.perf_counter() - started - self.interval) * 1000)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        ordered = sorted(self.samples) or [0.0]
        summary = {
            "samples": len(self.samples),
            "p50_ms": ordered[len(ordered) // 2],
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
            "max_ms": ordered[-1],
        }
        self.report.write_text(json.dumps(summary))

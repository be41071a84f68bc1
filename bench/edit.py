"""Video editing: join three 8 s 720p clips (16:9, 9:16 and a silent one) and trim one, on the
bundled FFmpeg. Measures wall time against the clips' total duration, the peak RSS of the
FFmpeg worker processes (they do the work; the bot only waits) and this process's RSS growth,
and the event loop's lag while an edit runs (a 10 ms ticker on the same loop).

    python bench/edit.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import print_table
from services.editing import FFmpeg

CLIP_SECONDS = 8


def rss_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def make_clips(ffmpeg: FFmpeg, folder: Path) -> list[Path]:
    clips = []
    for name, size, tone in (("wide", "1280x720", True), ("tall", "720x1280", True),
                             ("silent", "1280x720", False)):  # fmt: skip
        path = folder / f"{name}.mp4"
        args = ["-y", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={CLIP_SECONDS}"]
        if tone:
            args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={CLIP_SECONDS}"]
        args += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
        args += ["-c:a", "aac"] if tone else []
        await ffmpeg.run(*args, str(path))
        clips.append(path)
    return clips


def children_peak_mb() -> float:
    """The largest peak RSS (VmHWM) among this process's running children: the FFmpeg worker."""
    me, peak = str(os.getpid()), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
            peak = max(peak, int(fields["VmHWM"].split()[0]))
    return peak / 1024


async def lag_while(work: asyncio.Future[object], peaks: list[float]) -> list[float]:
    """How late a 10 ms sleep wakes up, in ms, for as long as `work` runs; the worker's peak
    RSS sampled meanwhile into `peaks`."""
    lags: list[float] = []
    loop = asyncio.get_running_loop()
    while not work.done():
        before = loop.time()
        await asyncio.sleep(0.01)
        lags.append((loop.time() - before - 0.01) * 1000)
        peaks.append(children_peak_mb())
    return lags


async def measure() -> dict[str, float]:
    ffmpeg = FFmpeg(time_limit=600)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = await make_clips(ffmpeg, folder)
        baseline = rss_mb()
        peaks: list[float] = []
        started = time.monotonic()
        join = asyncio.ensure_future(ffmpeg.join(clips, folder / "joined.mp4"))
        lags = await lag_while(join, peaks)
        made = await join
        join_s = time.monotonic() - started
        started = time.monotonic()
        trim = asyncio.ensure_future(ffmpeg.trim(clips[0], folder / "trim.mp4", 1.0, 7.0))
        lags += await lag_while(trim, peaks)
        await trim
        trim_s = time.monotonic() - started
        growth = rss_mb() - baseline
    lags.sort()
    return {
        "join_s": join_s,
        "trim_s": trim_s,
        "joined_s": made.duration,
        "worker_peak": max(peaks, default=0.0),
        "growth": growth,
        "lag_p99": lags[int(len(lags) * 0.99) - 1] if lags else 0.0,
        "lag_median": statistics.median(lags) if lags else 0.0,
    }


def run() -> list[list[object]]:
    r = asyncio.run(measure())
    total = 3 * CLIP_SECONDS
    return [
        [
            f"edit: join 3 x {CLIP_SECONDS} s 720p (16:9, 9:16, silent), wall s",
            f"{r['join_s']:.1f} ({r['joined_s']:.1f} s of video)",
            f"< {total}",
            "yes" if r["join_s"] < total else "NO",
        ],
        ["edit: trim 6 s of an 8 s 720p clip, wall s", f"{r['trim_s']:.1f}", "info", ""],
        [
            "edit: peak RSS of the FFmpeg worker process (all of it grown for the edit), MB",
            f"{r['worker_peak']:.0f}",
            "< 150",
            "yes" if r["worker_peak"] < 150 else "NO",
        ],
        ["edit: the bot process's RSS growth meanwhile, MB", f"{r['growth']:.1f}", "info", ""],
        [
            "edit: event-loop lag while FFmpeg runs, p99 (median), ms",
            f"{r['lag_p99']:.1f} ({r['lag_median']:.1f})",
            "< 50",
            "yes" if r["lag_p99"] < 50 else "NO",
        ],
    ]


def main() -> None:
    print_table(run(), ["measure", "result", "target", "met"])


if __name__ == "__main__":
    main()

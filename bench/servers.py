"""The fake Telegram and Runware servers in a process of their own, so a benchmark measures
only the bot side's memory. Prints their URLs as one JSON line; stops when stdin closes.

    python bench/servers.py --video-mb 45
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fake_runware import RunwareServer
from tests.fake_telegram import FakeTelegram
from tests.mp4 import mp4_bytes


async def serve(token: str, key: str, video_mb: int) -> None:
    telegram = FakeTelegram(token)
    telegram.keep_files = False
    runware = RunwareServer(key)
    runware.video = mp4_bytes(video_mb * 1024 * 1024)
    await telegram.start()
    await runware.start()
    print(json.dumps({"telegram": telegram.url, "runware": runware.url}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    uploads = sum(
        1
        for c in telegram.called("sendVideo")
        if str(c.params.get("video", "")).startswith("attach://")
    )
    print(json.dumps({"uploads": uploads}), flush=True)
    await telegram.stop()
    await runware.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--token", required=True)
    parser.add_argument("--key", default="rw-bench")
    parser.add_argument("--video-mb", type=int, default=45)
    args = parser.parse_args()
    asyncio.run(serve(args.token, args.key, args.video_mb))


if __name__ == "__main__":
    main()

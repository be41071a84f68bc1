"""Editing through the real process: a video made with the fake Runware (real MP4 bytes made
here with FFmpeg) is kept after delivery, trimmed from its own message, and joined with the
trim; each result comes back into the chat with its buttons, and is a gallery item."""

from __future__ import annotations

import asyncio
import time

from services.editing import FFmpeg
from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.test_ffmpeg import clip


async def until(message, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in message.text and text not in str(message.buttons()):
        assert time.monotonic() < deadline, (message.text, message.buttons())
        await asyncio.sleep(0.05)


async def test_trim_then_join_from_the_chat(bot: BotProcess, telegram, runware, tmp_path):
    runware.video = (await clip(FFmpeg(), tmp_path / "made.mp4", "640x360", 8, 25)).read_bytes()
    user = 4301
    card = await card_from_text(telegram, user, "a paper boat on a stream")
    await generate(telegram, user, card)
    video = await telegram.wait_message(user, "paper boat", kind="video", timeout=60)
    kept = bot.db_path.parent / "videos" / "job-1.mp4"
    deadline = time.monotonic() + 20
    while not kept.exists():  # a copy is kept right after delivery
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)

    mark = telegram.mark(user)
    await telegram.tap(user, video, "Trim")
    screen = await telegram.wait_message(user, "Trim #1", after=mark)
    await telegram.tap(user, screen, "Cut the first second")
    await until(screen, "the new video is 7 s long")  # Veo's 8 s, as the job says
    answer = await telegram.tap(user, screen, "✅ Trim")
    assert answer.get("text") == "Trimming…"
    trimmed = await telegram.wait_message(user, "trimmed", kind="video", timeout=60)
    assert trimmed.text == "✂️ #1 trimmed to 1-8 s · 7 s"
    await until(trimmed, "Continue from here")  # its buttons, once it is a gallery item

    mark = telegram.mark(user)
    await telegram.tap(user, video, "Join with others")
    picker = await telegram.wait_message(user, "Join videos", after=mark)
    await telegram.tap(user, picker, "#2 ·")
    await until(picker, "Picked: #1 + #2")
    answer = await telegram.tap(user, picker, "Join 2 videos")
    assert answer.get("text") == "Joining…"
    joined = await telegram.wait_message(user, "joined", kind="video", timeout=60)
    assert joined.text.startswith("🎞 #1 + #2 joined · 15")
    rows = bot.query("SELECT id, edit_kind, edit_of, tokens FROM jobs ORDER BY id")
    assert [(r[1], r[2], r[3]) for r in rows[1:]] == [("trim", "[1]", 0), ("join", "[1, 2]", 5)]
    assert runware.violations == []
    bot.assert_books_balance()


async def test_extend_a_veo_video_through_the_fake_runware(bot: BotProcess, telegram, runware):
    user = 4302
    card = await card_from_text(telegram, user, "a kite over the dunes")
    await generate(telegram, user, card)
    video = await telegram.wait_message(user, "kite", kind="video", timeout=60)
    # The video reaches the chat a moment before its job is written down as delivered; a tap
    # in that moment is answered "not ready" (only finished videos are edited).
    await bot.wait_jobs("status = 'delivered'", 1)
    mark = telegram.mark(user)
    answer = await telegram.tap(user, video, "Extend by 7 s")
    assert "text" not in answer, answer
    await telegram.wait_message(user, "Extending #1 by 7 s with Veo 3.1 Fast", after=mark)
    telegram.send_text(user, "the kite climbs into the clouds")
    card = await telegram.wait_message(user, "Extends video #1 by 7 s", after=mark)
    await generate(telegram, user, card)
    await bot.wait_jobs("status = 'delivered'", 2, timeout=60)
    tasks = [t for r in runware.requests for t in r if t.get("taskType") == "videoInference"]
    first, extension = tasks
    assert extension["inputs"] == {"video": f"v-{first['taskUUID']}"}
    assert extension["duration"] == 7 and "width" not in extension and "seed" not in extension
    assert runware.violations == [] and runware.refusals == []
    bot.assert_books_balance()

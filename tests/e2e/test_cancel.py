"""Cancel on a job's progress message, through the real process: before Runware has the task it
refunds in full and no task leaves; after, it explains and the video still comes."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.conftest import BONUS, VEO_FAST, BotProcess, price
from tests.e2e.flows import card_from_text, generate, image_to_video
from tests.fake_telegram import BotMessage, FakeTelegram
from tests.images import image_bytes


async def with_cancel(telegram: FakeTelegram, chat: int, timeout: float = 20) -> BotMessage:
    """The chat's progress message, once it carries the Cancel button (a job's, not a
    wizard's)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in telegram.chat(chat):
            if any(data.startswith("x:") for _, data in message.buttons()):
                return message
        assert time.monotonic() < deadline, f"no Cancel button in {telegram.texts(chat)}"
        await asyncio.sleep(0.02)


async def test_cancel_while_the_photo_uploads_refunds_and_no_video_task_is_sent(
    bot: BotProcess, telegram, runware
):
    uploading = runware.hold("imageUpload")  # the photo is on its way to Runware
    await image_to_video(telegram, 971, "Vidu 2.0", image_bytes(), "the cat waves")
    await bot.wait_jobs("status = 'uploading'", 1)
    [(job, task, tokens)] = bot.query("SELECT id, task_uuid, tokens FROM jobs WHERE user_id = 971")
    progress = await with_cancel(telegram, 971)
    answer = await telegram.tap(971, progress, "Cancel")
    assert answer.get("text") == "Cancelled."
    done = await telegram.wait_message(971, "Cancelled before it started")
    assert f"{tokens} tokens back on your balance, now {BONUS} tokens" in done.text
    assert done.buttons() == []

    uploading.set()  # the upload finishes; the runner finds the job cancelled and stops there
    deadline = time.monotonic() + 20
    while not any(f"job {job}: cancelled" in line for line in bot.lines):
        assert time.monotonic() < deadline, bot.lines[-5:]
        await asyncio.sleep(0.05)
    sent = [t for r in runware.requests for t in r if t.get("taskType") == "videoInference"]
    assert all(t.get("taskUUID") != task for t in sent) and sent == []
    assert bot.query("SELECT balance FROM users WHERE id = 971")[0][0] == BONUS
    # Failed as cancelled, and marked told: the user saw the answer, no failure notice follows.
    row = bot.query("SELECT status, error_class, notified FROM jobs WHERE id = ?", (job,))[0]
    assert tuple(row) == ("failed", "user_cancelled", 1)
    bot.assert_books_balance()


async def test_cancel_after_runware_has_the_task_explains_and_the_video_still_comes(
    bot: BotProcess, telegram, runware
):
    runware.latency = 3600  # generating for as long as the test needs
    await generate(telegram, 972, await card_from_text(telegram, 972, "a lighthouse in a storm"))
    await bot.wait_jobs("status = 'submitted'", 1, timeout=30)
    progress = await with_cancel(telegram, 972)
    answer = await telegram.tap(972, progress, "Cancel")
    assert answer.get("show_alert") == "true"  # an alert to read, not a passing toast
    assert "charges for it whatever happens" in str(answer.get("text"))
    assert bot.query("SELECT balance FROM users WHERE id = 972")[0][0] == BONUS - price(VEO_FAST)

    for task in runware.tasks.values():
        task.latency = 0
    await bot.wait_jobs("status = 'delivered'", 1, timeout=30)
    assert len(telegram.videos(972)) == 1
    bot.assert_books_balance()

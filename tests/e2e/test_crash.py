"""kill -9 with jobs queued, uploading, submitted and succeeded-but-not-delivered; a restart
finishes every one exactly once."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate, open_model
from tests.images import image_bytes


async def status_of(bot: BotProcess, user: int) -> str:
    rows = bot.query("SELECT status FROM jobs WHERE user_id = ?", (user,))
    return rows[0][0] if rows else ""


async def until(check, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_kill_9_in_every_step_then_restart(tmp_path, telegram, runware):
    bot = BotProcess(tmp_path, telegram, runware)
    await bot.start()

    # D: the video is ready, its delivery is on its way to Telegram when the bot dies
    delivery = telegram.hold("sendVideo")
    runware.latency = 0.3
    await generate(telegram, 401, await card_from_text(telegram, 401, "job D, delivering"))
    await telegram.wait_for("sendVideo", timeout=20)

    # C: submitted, Runware still generating
    runware.latency = 3600
    await generate(telegram, 402, await card_from_text(telegram, 402, "job C, generating"))
    await until(lambda: _is(bot, 402, "submitted"))

    # B: image-to-video, the upload in flight
    upload = runware.hold("imageUpload")
    telegram.send_photo(403, image_bytes(900, 700), caption="job B, uploading")
    models = await telegram.wait_message(403, "choose a model")
    await open_model(telegram, 403, models, "Vidu 2.0")
    await telegram.tap(403, models, "Next")
    await generate(telegram, 403, await telegram.wait_message(403, "Check and confirm"))
    await until(lambda: _is(bot, 403, "uploading"))

    # A: queued, the submit in flight (Runware has accepted the task, the answer is held)
    submit = runware.hold("videoInference")
    await generate(telegram, 404, await card_from_text(telegram, 404, "job A, submitting"))
    await until(lambda: _submitting(bot, runware))

    assert [await status_of(bot, u) for u in (401, 402, 403, 404)] == [
        "succeeded",
        "submitted",
        "uploading",
        "queued",
    ]
    await bot.kill()

    # The world goes on without the bot; then it comes back on the same database.
    for gate in (delivery, upload, submit):
        gate.set()
    telegram.holds.clear()
    runware.holds.clear()
    runware.latency = 0.3
    for task in runware.tasks.values():
        task.latency = 0.3
    restarted = BotProcess(tmp_path, telegram, runware)
    await restarted.start()
    await restarted.wait_jobs("status = 'delivered'", 4, timeout=60)

    for user in (401, 402, 403, 404):
        assert len(telegram.videos(user)) == 1, f"user {user}: {telegram.texts(user)}"
    assert "sendVideo" in telegram.aborted  # the dead process's delivery never happened
    assert len(runware.accepted) == 4 and set(runware.accepted.values()) == {1}
    assert set(runware.repeats) <= {_task(restarted, 404)}  # A's resubmit: conflictTaskUUID
    assert restarted.query("SELECT count(*) FROM ledger WHERE kind = 'job_refund'")[0][0] == 0
    restarted.assert_books_balance()
    assert await restarted.stop() == 0
    bot.assert_clean()
    restarted.assert_clean()
    assert runware.violations == []


async def _is(bot: BotProcess, user: int, status: str) -> bool:
    return await status_of(bot, user) == status


async def _submitting(bot: BotProcess, runware) -> bool:
    rows = bot.query("SELECT task_uuid, status FROM jobs WHERE user_id = 404")
    return bool(rows) and rows[0]["status"] == "queued" and rows[0]["task_uuid"] in runware.tasks


def _task(bot: BotProcess, user: int) -> str:
    return bot.query("SELECT task_uuid FROM jobs WHERE user_id = ?", (user,))[0][0]

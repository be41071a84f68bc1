"""Runware faults through the real process: refusals end refunded with a clear message,
transient faults are retried to success, and the bot keeps serving others throughout."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN, BONUS, VEO_FAST, BotProcess, price
from tests.e2e.flows import card_from_text, generate


async def make_video(telegram, user: int, prompt: str) -> None:
    await generate(telegram, user, await card_from_text(telegram, user, prompt))


def balance(bot: BotProcess, user: int) -> int:
    return bot.query("SELECT balance FROM users WHERE id = ?", (user,))[0][0]


REFUSALS = [
    (
        "400 with allowedValues",
        lambda rw: rw.http_faults.append(
            (
                400,
                {
                    "errors": [
                        {
                            "code": "invalidDuration",
                            "message": "Invalid duration",
                            "parameter": "duration",
                            "allowedValues": [6],
                        }
                    ]
                },
            )
        ),
        "did not accept these settings",
    ),
    (
        "content refused inside HTTP 200",
        lambda rw: rw.submit_faults.append(
            {"code": "providerContentPolicyViolation", "message": "Flagged by the provider"}
        ),
        "content rules",
    ),
    (
        "task status error",
        lambda rw: setattr(
            rw,
            "next_task_fault",
            {"in": "data", "code": "inferenceFailed", "message": "The task failed"},
        ),
        "could not make it",
    ),
    (
        "the model's provider in trouble",
        lambda rw: setattr(
            rw,
            "next_task_fault",
            {"in": "data", "code": "providerError", "message": "The provider failed"},
        ),
        "busy or having trouble",
    ),
    (
        "error entry for the task on polls",
        lambda rw: setattr(
            rw, "next_task_fault", {"code": "timeoutProvider", "message": "Provider timed out"}
        ),
        "busy right now",
    ),
    ("video URL 404", lambda rw: setattr(rw, "video_status", 404), "could not be downloaded"),
]


@pytest.mark.parametrize(("name", "inject", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_refusals_are_refunded_with_a_clear_message(
    bot, telegram, runware, name, inject, reason
):
    inject(runware)
    await make_video(telegram, 501, "a refused video")
    message = await telegram.wait_message(501, "could not be made", timeout=30)
    assert reason in message.text and f"{price(VEO_FAST)} tokens are back" in message.text
    assert "{" not in message.text  # plain words, never a raw error object or code
    assert not any(
        code in message.text
        for code in (
            "invalidDuration",
            "providerError",
            "inferenceFailed",
            "timeoutProvider",
            "Content",
        )
    )
    await bot.wait_jobs("status = 'failed' AND notified = 1", 1)
    assert balance(bot, 501) == BONUS
    runware.video_status = 200
    await make_video(telegram, 502, "someone else's video")  # the bot keeps serving others
    await telegram.wait_message(502, "someone else", kind="video", timeout=30)
    bot.assert_books_balance()


TRANSIENT = [
    ("429 burst", [(429, {"errors": [{"code": "rateLimitExceeded", "message": "slow down"}]})] * 2),
    ("500 burst", [(500, {"errors": [{"code": "internalError", "message": "oops"}]})] * 2),
    ("503 queue full", [(503, {"errors": [{"code": "queueFull", "message": "busy"}]})] * 2),
    ("504 waited too long", [(504, {"errors": [{"code": "gatewayTimeout", "message": "x"}]})] * 2),
    ("timeouts", [(200, "timeout")] * 2),
    ("malformed JSON", [(200, "garbage")]),
]


@pytest.mark.parametrize(("name", "faults"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
async def test_transient_faults_are_retried_to_a_video(bot, telegram, runware, name, faults):
    runware.http_faults.extend(faults)
    await make_video(telegram, 601, "a video through a storm")
    video = await telegram.wait_message(601, "a video through a storm", kind="video", timeout=45)
    assert video.file_id
    assert balance(bot, 601) == BONUS - price(VEO_FAST)
    assert len(runware.accepted) == 1 and set(runware.accepted.values()) == {1}


@pytest.mark.parametrize(("status", "code"), [(401, "invalidApiKey"), (402, "insufficientCredits")])
async def test_account_trouble_refunds_alerts_admins_pauses_and_recovers(
    bot, telegram, runware, status, code
):
    runware.http_faults.append((status, {"errors": [{"code": code, "message": "our account"}]}))
    await make_video(telegram, 701, "an unlucky video")
    message = await telegram.wait_message(701, "could not be made", timeout=30)
    assert "account needs attention" in message.text
    assert balance(bot, 701) == BONUS
    alert = await telegram.wait_message(ADMIN, "Runware", timeout=20)
    assert "paused" in alert.text
    # the automatic probe (every second here) finds the account working again
    await telegram.wait_message(ADMIN, "generation resumed", timeout=20)
    await make_video(telegram, 702, "after the recovery")
    await telegram.wait_message(702, "after the recovery", kind="video", timeout=30)
    bot.assert_books_balance()


async def test_a_poll_that_hangs_does_not_hold_up_a_video_that_is_ready(
    tmp_path, telegram, runware
):
    bot = BotProcess(
        tmp_path, telegram, runware, RUNWARE_TIMEOUT_SECONDS=60, DELIVERY_RETRY_SECONDS=3
    )
    await bot.start()
    try:
        runware.latency = 0.3
        telegram.fail("sendVideo", 500, "Internal Server Error", times=1, chat=731)
        await make_video(telegram, 731, "ready, its first send failed")
        await telegram.wait_for("sendVideo", timeout=30)  # failed: the next try in 3 s
        gate = runware.hold("getResponse")  # from now on a poll hangs (up to 60 s)
        await make_video(telegram, 732, "generating while the poll hangs")
        await bot.wait_jobs("status = 'submitted'", 1, timeout=30)
        video = await telegram.wait_message(731, "ready", kind="video", timeout=20)
        assert video.file_id and not gate.is_set()  # delivered while the poll still hung
        gate.set()
        await telegram.wait_message(732, "while the poll hangs", kind="video", timeout=60)
    finally:
        assert await bot.stop() == 0
    bot.assert_clean()

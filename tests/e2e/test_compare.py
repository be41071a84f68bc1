"""Models side by side through the real process: three models, the exact task each one gets at
the fake Runware (its own parameters, mapped from what they share), each video labelled with
its model, and one summary when all are done."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.conftest import BotProcess

PROMPT = "a red fox crossing a frozen river at dawn"
COMMON = {
    "taskType": "videoInference",
    "deliveryMethod": "async",
    "includeCost": True,
    "numberResults": 1,
    "outputFormat": "MP4",
    "positivePrompt": PROMPT,
}
EXPECTED = {
    "google:3@3": {  # 10 s asked: Veo's nearest is 8 s
        **COMMON,
        "model": "google:3@3",
        "duration": 8,
        "width": 1280,
        "height": 720,
        "providerSettings": {"google": {"generateAudio": True}},
    },
    "klingai:6@1": {
        **COMMON,
        "model": "klingai:6@1",
        "duration": 10,
        "width": 1280,
        "height": 720,
    },
    "minimax:4@1": {  # 10 s only at 768p
        **COMMON,
        "model": "minimax:4@1",
        "duration": 10,
        "width": 1366,
        "height": 768,
        "providerSettings": {"minimax": {"promptOptimizer": False}},
    },
}


async def until(screen, text: str) -> None:
    """The screen is edited in place after the tap's answer: wait for the edit."""
    deadline = time.monotonic() + 20
    while text not in screen.text and text not in str(screen.buttons()):
        assert time.monotonic() < deadline, screen.text
        await asyncio.sleep(0.02)


async def test_three_models_exact_tasks_labelled_videos_one_summary(
    bot: BotProcess, telegram, runware
):
    user = 4201
    telegram.send_text(user, "/start")
    menu = await telegram.wait_message(user, "What shall we make?")
    await telegram.tap(user, menu, "Text to video")
    screen = await telegram.wait_message(user, "choose a model")
    await telegram.tap(user, screen, "Compare models")
    await until(screen, "Tick 2 or 3 models")
    for name in ("Veo 3.1 Fast", "Kling 2.5 Turbo Pro", "Hailuo 2.3"):
        await telegram.tap(user, screen, name)
        await until(screen, f"✅ {name}")
    await telegram.tap(user, screen, "Next ➡ (3")
    await until(screen, "each model gets the nearest")
    await telegram.tap(user, screen, "10 s")
    await until(screen, "✅ 10 s")
    await telegram.tap(user, screen, "Next ➡")
    await telegram.wait_message(user, "Describe")
    telegram.send_text(user, PROMPT)
    card = await telegram.wait_message(user, "Models side by side")
    answer = await telegram.tap(user, card, "Generate 3 videos")
    assert answer.get("text") == "Started: 3 videos."

    await bot.wait_jobs("status = 'delivered'", 3, timeout=60)
    summary = await telegram.wait_message(user, "Models side by side: all done", timeout=30)
    tasks = [t for r in runware.requests for t in r if t.get("taskType") == "videoInference"]
    assert len(tasks) == 3 and runware.violations == []
    for task in tasks:
        sent = {k: v for k, v in task.items() if k not in ("taskUUID", "ttl", "webhookURL")}
        assert sent == EXPECTED[task["model"]]

    videos = telegram.videos(user)
    heads = sorted(v.text.split("\n")[0] for v in videos)
    assert heads == [
        "🎬 Hailuo 2.3 · 10 s · 3 of 3",
        "🎬 Kling 2.5 Turbo Pro · 10 s · 2 of 3",
        "🎬 Veo 3.1 Fast · 8 s · 1 of 3",
    ]
    rows = bot.query("SELECT model_id, tokens FROM jobs WHERE user_id = ? ORDER BY id", (user,))
    for n, row in enumerate(rows, 1):
        name = {"google:3@3": "Veo 3.1 Fast", "klingai:6@1": "Kling 2.5 Turbo Pro"}.get(
            row[0], "Hailuo 2.3"
        )
        assert f"{n}. <b>{name}</b> — ready in " in summary.text
        assert f" · {row[1]} tokens" in summary.text
    summaries = [t for t in telegram.texts(user) if "Models side by side: all done" in t]
    assert len(summaries) == 1  # once, though three deliveries finished
    bot.assert_books_balance()

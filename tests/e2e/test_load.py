"""Load: 200 users submit at once against a 20 s provider latency."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text

USERS = range(10_000, 10_200)


async def test_200_users_at_once_all_delivered_within_their_limits(tmp_path, telegram, runware):
    runware.latency = 20
    # The pipeline under load, not Telegram's limit (test_fleet holds the bot to its budget): at
    # 25 sends a second the first videos would be done before the third card is confirmed.
    bot = BotProcess(
        tmp_path, telegram, runware, TELEGRAM_SENDS_PER_SECOND=1000, MAX_ACTIVE_JOBS_PER_USER=2
    )
    await bot.start()
    started = time.monotonic()

    async def user(uid: int) -> list[str]:
        answers = []
        for n in range(2):
            card = await card_from_text(telegram, uid, f"video {n} of user {uid}")
            answer = await telegram.tap(uid, card, "Generate", timeout=60)
            answers.append(str(answer.get("text")))
        # The third is over the limit of 2 videos at a time: the card says so, with no Generate.
        card = await card_from_text(telegram, uid, f"video 2 of user {uid}")
        answers.append(card.text)
        assert not any("Generate" in label for label, _ in card.buttons())
        return answers

    answers = await asyncio.gather(*(user(uid) for uid in USERS))
    for per_user in answers:
        assert per_user[:2] == ["Started!", "Started!"]
        assert "You can have 2 videos in progress at once and 2 are in progress now" in per_user[2]
    await bot.wait_jobs("status = 'delivered'", 400, timeout=120)
    elapsed = time.monotonic() - started
    for uid in USERS:
        assert len(telegram.videos(uid)) == 2
    assert len(runware.accepted) == 400 and set(runware.accepted.values()) == {1}
    polls = sum(1 for r in runware.requests for t in r if t["taskType"] == "getResponse")
    requests = len(runware.requests)
    bot.assert_books_balance()
    assert await bot.stop() == 0
    bot.assert_clean(errors_allowed=False)
    assert runware.violations == []
    print(
        f"\n200 users x 2 videos: {elapsed:.1f}s, {requests} Runware requests "
        f"({requests / 400:.2f} per job, {polls} polled tasks)"
    )

"""Telegram faults through the real process: nothing lost, nothing duplicated."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.mp4 import mp4_bytes

MB = 1024 * 1024


async def make_video(telegram, user: int, prompt: str) -> None:
    await generate(telegram, user, await card_from_text(telegram, user, prompt))


async def test_429_on_send_video_and_on_edits_still_delivers_once(bot, telegram, runware):
    runware.latency = 2.5  # long enough for progress edits
    telegram.fail(
        "editMessageText",
        429,
        "Too Many Requests: retry after 1",
        times=3,
        parameters={"retry_after": 1},
    )
    telegram.fail(
        "sendVideo", 429, "Too Many Requests: retry after 1", times=1, parameters={"retry_after": 1}
    )
    await make_video(telegram, 801, "through the rate limits")
    await telegram.wait_message(801, "through the rate limits", kind="video", timeout=30)
    await bot.wait_jobs("status = 'delivered'", 1)
    assert len(telegram.videos(801)) == 1
    assert len(telegram.called("sendVideo")) == 2  # the 429, then the retry


async def test_a_user_who_blocked_the_bot_does_not_stop_the_others(bot, telegram, runware):
    card = await card_from_text(telegram, 802, "for someone who leaves")
    await generate(telegram, 802, card)
    telegram.blocked.add(802)
    await make_video(telegram, 803, "for someone who stays")
    await telegram.wait_message(803, "for someone who stays", kind="video", timeout=30)
    await bot.wait_jobs("status = 'delivered'", 2)
    rows = bot.query("SELECT user_id, delivered_as FROM jobs ORDER BY user_id")
    assert [tuple(r) for r in rows] == [(802, "blocked"), (803, "video")]
    assert telegram.videos(802) == []
    bot.assert_books_balance()


async def test_too_big_for_a_url_then_413_on_upload_sends_the_link(bot, telegram, runware):
    runware.video = mp4_bytes(21 * MB)  # over Telegram's 20 MB for sending by URL
    telegram.upload_limit = 10 * MB  # and the upload answers 413
    await make_video(telegram, 804, "a very large video")
    link = await telegram.wait_message(804, "too large to send here", timeout=60)
    assert f"{runware.url}/videos/" in link.text
    await bot.wait_jobs("delivered_as = 'link'", 1)
    [video_call_by_url, upload] = telegram.called("sendVideo")
    assert video_call_by_url.params["video"].startswith("http")
    assert upload.params["video"].startswith("attach://")


async def test_a_big_video_is_uploaded_when_the_url_is_refused(bot, telegram, runware):
    runware.video = mp4_bytes(21 * MB)
    await make_video(telegram, 805, "uploaded instead")
    video = await telegram.wait_message(805, "uploaded instead", kind="video", timeout=60)
    assert len(telegram.files[video.file_id]) == 21 * MB


async def test_network_drops_during_get_updates_lose_and_duplicate_nothing(bot, telegram):
    telegram.drop_get_updates = 3
    for _ in range(5):
        telegram.send_text(806, "/start")
    for _ in range(200):
        if len(telegram.chat(806)) >= 5:
            break
        await asyncio.sleep(0.05)
    # A sixth update, fetched after any repeat of the first five: once it is answered, a
    # duplicate would have been too.
    telegram.send_text(806, "/balance")
    await telegram.wait_message(806, "Top up with Telegram Stars", after=5)
    assert len(telegram.chat(806)) == 6  # every update answered once
    offsets = [int(c.params.get("offset") or 0) for c in telegram.called("getUpdates")]
    assert offsets == sorted(offsets)


async def test_a_video_telegram_will_not_take_ends_as_a_link_and_an_unreachable_chat_stops(
    tmp_path, telegram, runware
):
    bot = BotProcess(tmp_path, telegram, runware, DELIVERY_ATTEMPTS=3, DELIVERY_RETRY_SECONDS=0.2)
    await bot.start()
    try:
        telegram.fail("sendVideo", 500, "Internal Server Error", times=100, chat=811)
        telegram.fail("sendVideo", 400, "Bad Request: chat not found", times=100, chat=812)
        await make_video(telegram, 811, "a video for a stubborn chat")
        await make_video(telegram, 812, "a video for a chat that is gone")
        await make_video(telegram, 813, "a video for everyone else")
        link = await telegram.wait_message(811, "Download it", timeout=60)
        assert f"{runware.url}/videos/" in link.text and "/gallery" in link.text
        await telegram.wait_message(813, "everyone else", kind="video", timeout=30)
        await bot.wait_jobs("status = 'delivered'", 3, timeout=30)
        rows = bot.query("SELECT user_id, delivered_as FROM jobs ORDER BY user_id")
        assert [tuple(r) for r in rows] == [(811, "link"), (812, "blocked"), (813, "video")]
        tries = [c for c in telegram.called("sendVideo") if int(c.params["chat_id"]) == 811]
        assert len(tries) == 3  # one per attempt: never repeated inside a send
        gone = [c for c in telegram.called("sendVideo") if int(c.params["chat_id"]) == 812]
        assert len(gone) == 1  # stopped at once
        assert telegram.videos(811) == [] and telegram.videos(812) == []
        bot.assert_books_balance()
    finally:
        assert await bot.stop() == 0
    bot.assert_clean()


async def test_a_send_whose_answer_is_lost_gives_at_most_one_extra_copy(
    tmp_path, telegram, runware
):
    bot = BotProcess(tmp_path, telegram, runware, DELIVERY_RETRY_SECONDS=0.2)
    await bot.start()
    try:
        telegram.lost_answers["sendVideo"] = 1  # Telegram sent it; the answer never came back
        await make_video(telegram, 821, "an ambiguous send")
        await bot.wait_jobs("status = 'delivered'", 1, timeout=60)
        # the documented case: the runner cannot know the first send arrived, so it sends again
        assert len(telegram.videos(821)) == 2
        assert len(telegram.called("sendVideo")) == 2
        rows = bot.query("SELECT delivered_as, delivery_attempts FROM jobs")
        assert [tuple(r) for r in rows] == [("video", 2)]
        bot.assert_books_balance()
    finally:
        assert await bot.stop() == 0
    bot.assert_clean()

"""Original quality through the real process: the Settings switches, then each video also as a
file (uploaded: Telegram takes videos as documents only as uploads) and its link, within
Telegram's limits."""

from __future__ import annotations

import asyncio
import time

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate
from tests.fake_telegram import FakeTelegram
from tests.mp4 import mp4_bytes

MB = 1024 * 1024


async def switch_on_both(telegram: FakeTelegram, user: int) -> None:
    telegram.send_text(user, "/settings")
    screen = await telegram.wait_message(user, "Settings")
    await telegram.tap(user, screen, "As a file: off")
    await telegram.tap(user, screen, "The link: off")
    deadline = time.monotonic() + 20
    while not any("The link: on" in label for label, _ in screen.buttons()):  # redrawn in place
        assert time.monotonic() < deadline, screen.buttons()
        await asyncio.sleep(0.02)


async def test_a_video_too_big_to_fetch_by_url_comes_as_a_video_then_a_file_then_its_link(
    bot: BotProcess, telegram, runware
):
    # Over what Telegram fetches by URL (20 MB, scaled down here to keep the test short), so
    # the video is uploaded, and so is the file.
    telegram.url_download_limit = 2 * MB
    runware.video = mp4_bytes(3 * MB)
    await switch_on_both(telegram, 991)
    await generate(telegram, 991, await card_from_text(telegram, 991, "a long shot of a bay"))
    link = await telegram.wait_message(991, "The original file:", timeout=60)
    [video] = telegram.videos(991)
    [document] = [m for m in telegram.chat(991) if m.kind == "document"]
    assert video.message_id < document.message_id < link.message_id
    assert telegram.documents == [(991, len(runware.video))]
    assert "the original file" in document.text
    [(job, url)] = bot.query("SELECT id, video_url FROM jobs WHERE user_id = 991")
    assert url in link.text
    assert bot.query("SELECT extras_at IS NOT NULL FROM jobs WHERE id = ?", (job,))[0][0] == 1


async def test_a_video_over_50_mb_comes_once_as_its_link_and_no_file_is_tried(
    bot: BotProcess, telegram, runware
):
    runware.video = mp4_bytes(51 * MB)
    await switch_on_both(telegram, 992)
    await generate(telegram, 992, await card_from_text(telegram, 992, "a very long take"))
    await bot.wait_jobs("status = 'delivered'", 1, timeout=60)
    [(delivered_as, extras_at)] = bot.query(
        "SELECT delivered_as, extras_at FROM jobs WHERE user_id = 992"
    )
    assert delivered_as == "link" and extras_at is None  # the link is the delivery itself
    assert telegram.videos(992) == [] and telegram.documents == []
    links = [t for t in telegram.texts(992) if "too large to send here" in t]
    assert len(links) == 1

"""Both wizards end to end through the real process, several users at once, both languages."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import BONUS, price
from tests.e2e.flows import card_from_text, generate, image_to_video, text_to_video
from tests.images import image_bytes
from tests.telegram_text import parse_html


async def test_both_wizards_for_several_users_at_once(bot, telegram, runware):
    photo = image_bytes(3000, 2000)
    await asyncio.gather(
        text_to_video(telegram, 101, "Veo 3.1 Fast", "A red fox runs through deep snow"),
        text_to_video(telegram, 102, "Hailuo 2.3", "Маяк в шторм, волны бьются о скалы", "ru"),
        image_to_video(telegram, 103, "Vidu 2.0", photo, None),
        image_to_video(telegram, 104, "Veo 3.1 Fast", photo, "Камера медленно приближается", "ru"),
    )
    videos = await asyncio.gather(
        *(
            telegram.wait_message(user, "", kind="video", timeout=30)
            for user in (101, 102, 103, 104)
        )
    )
    assert "A red fox runs through deep snow" in videos[0].text
    assert "Маяк в шторм" in videos[1].text
    for user in (101, 102, 103, 104):
        assert len(telegram.videos(user)) == 1
    buttons = [label for label, _ in videos[1].buttons()]
    assert any("Ещё раз" in label for label in buttons)  # Russian user, Russian buttons
    assert runware.images and len(runware.accepted) == 4
    await bot.wait_jobs("status = 'delivered'", 4, timeout=10)
    rows = bot.query("SELECT user_id, status, tokens, file_id FROM jobs ORDER BY user_id")
    assert [r["status"] for r in rows] == ["delivered"] * 4 and all(r["file_id"] for r in rows)
    bot.assert_books_balance()
    balances = {r[0]: r[1] for r in bot.query("SELECT id, balance FROM users")}
    assert balances == {
        101: BONUS - price("google:3@3"),
        102: BONUS - price("minimax:4@1"),
        103: BONUS - price("vidu:2@0", "i2v"),
        104: BONUS - price("google:3@3", "i2v"),
    }

    # the delivered video, again by its file_id from the gallery
    telegram.send_text(101, "/gallery")
    gallery = await telegram.wait_message(101, "My videos")
    await telegram.tap(101, gallery, "▶")
    for _ in range(50):
        if len(telegram.videos(101)) == 2:
            break
        await asyncio.sleep(0.05)
    first, again = telegram.videos(101)
    assert again.file_id == first.file_id


async def test_double_tap_on_generate_makes_one_job(bot, telegram, runware):
    card = await card_from_text(telegram, 201, "a lighthouse at night")
    first, second = await asyncio.gather(
        generate(telegram, 201, card), generate(telegram, 201, card)
    )
    answers = sorted(str(a.get("text")) for a in (first, second))
    assert any("already used" in a for a in answers)
    await bot.wait_jobs("status = 'delivered'", 1, timeout=30)
    assert bot.query("SELECT count(*) FROM jobs")[0][0] == 1
    assert len(runware.accepted) == 1


async def test_a_prompt_with_markup_characters_and_emoji_goes_everywhere_as_written(
    bot, telegram, runware
):
    prompt = 'A fox <3 & a "hare" 🦊🇺🇦 <b>not bold</b> & more'
    card = await card_from_text(telegram, 251, prompt)
    assert prompt in parse_html(card.text)
    await generate(telegram, 251, card)
    progress = await telegram.wait_message(251, "Generating", timeout=30)
    assert "Veo 3.1 Fast" in parse_html(progress.text)
    video = await telegram.wait_message(251, "", kind="video", timeout=30)
    assert prompt in parse_html(video.text)
    telegram.send_text(251, "/gallery")
    gallery = await telegram.wait_message(251, "My videos")
    assert prompt[:40] in parse_html(gallery.text)
    assert telegram.refused == []

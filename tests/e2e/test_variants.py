"""Variants through the real process: one card, four videos, each delivered once and numbered,
one group in My videos."""

from __future__ import annotations

import asyncio
import time

from handlers.callbacks import Card, CardVariants
from tests.e2e.conftest import BONUS, VEO_FAST, BotProcess, price
from tests.e2e.flows import card_from_text


async def test_four_variants_are_charged_together_and_each_delivered_once(
    bot: BotProcess, telegram, runware
):
    card = await card_from_text(telegram, 981, "a paper boat on a stream")
    draft = Card.unpack(card.button("Generate")).draft
    pressed = telegram.press(981, card, CardVariants(draft=draft, n=4).pack())
    await telegram.wait_answer(pressed)
    each = price(VEO_FAST)
    deadline = time.monotonic() + 20  # the card is redrawn in place after the tap's answer
    while f"4 × {each} = {4 * each} tokens" not in card.text:
        assert time.monotonic() < deadline, card.text
        await asyncio.sleep(0.02)
    assert f"balance after: {BONUS - 4 * each} tokens" in card.text
    answer = await telegram.tap(981, card, "Generate 4 videos")
    assert answer.get("text") == "Started: 4 videos."

    await bot.wait_jobs("status = 'delivered'", 4, timeout=60)
    videos = telegram.videos(981)
    assert len(videos) == 4  # each once
    assert sorted(v.text.split("\n")[0].rsplit("· ", 1)[1] for v in videos) == [
        "1 of 4",
        "2 of 4",
        "3 of 4",
        "4 of 4",
    ]
    rows = bot.query("SELECT id, group_id, variant, task_uuid FROM jobs WHERE user_id = 981")
    first = min(r[0] for r in rows)
    assert {r[1] for r in rows} == {first} and sorted(r[2] for r in rows) == [1, 2, 3, 4]
    assert len({r[3] for r in rows}) == 4  # four tasks at Runware
    assert sorted(runware.accepted.values()) == [1, 1, 1, 1]
    assert bot.query("SELECT balance FROM users WHERE id = 981")[0][0] == BONUS - 4 * each
    bot.assert_books_balance()

    mark = telegram.mark(981)
    telegram.send_text(981, "/gallery")
    page = await telegram.wait_message(981, "My videos", after=mark)
    assert page.text.count("#") == 1 and "4 variants" in page.text and "all 4 ready" in page.text

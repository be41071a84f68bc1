"""Bad input through the real process: a clear reply, nothing lost, nothing changed."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN, BONUS, BotProcess
from tests.e2e.flows import card_from_text, open_model
from tests.images import image_bytes


async def to_photo_step(telegram, user: int) -> None:
    telegram.send_text(user, "/start")
    menu = await telegram.wait_message(user, "What shall we make?")
    await telegram.tap(user, menu, "Image to video")
    screen = await telegram.wait_message(user, "choose a model")
    await open_model(telegram, user, screen, "Vidu Q1")
    await telegram.tap(user, screen, "Next")
    await telegram.wait_message(user, "Send the photo")


@pytest.mark.parametrize(
    ("send", "reply"),
    [
        (
            ("doc", b"\xff\xd8\xff" + bytes(11 * 1024 * 1024), "big.jpg", "image/jpeg"),
            "larger than 10 MB",
        ),
        (("doc", image_bytes(500, 500, "GIF"), "cat.gif", "image/gif"), "not a JPEG, PNG or WEBP"),
        (("doc", image_bytes(800, 600)[:500], "broken.jpg", "image/jpeg"), "damaged"),
        (("photo", image_bytes(120, 90)), "too small"),
    ],
)
async def test_bad_images(bot, telegram, runware, send, reply):
    await to_photo_step(telegram, 901)
    kind, *args = send
    if kind == "doc":
        telegram.send_document(901, *args)
    else:
        telegram.send_photo(901, args[0])
    await telegram.wait_message(901, reply)
    telegram.send_photo(901, image_bytes(800, 600))  # still on the same step
    await telegram.wait_message(901, "Describe")
    assert runware.images == {}  # nothing refused was uploaded


async def test_bad_prompts_forged_callbacks_and_strangers(bot: BotProcess, telegram, runware):
    telegram.send_text(902, "x" * 4000)
    await telegram.wait_message(902, "4000 characters, at most 3000")
    telegram.send_text(902, "a")
    await telegram.wait_message(902, "too short")

    card = await card_from_text(telegram, 902, "a real prompt")
    forged = telegram.press(902, card, "c:go:99999")
    assert (await telegram.wait_answer(forged))["text"] == "This card was not found."
    stranger = telegram.press(903, card, card.button("Generate"))
    assert (await telegram.wait_answer(stranger))["text"] == "This card was not found."
    junk = telegram.press(902, card, "zz:nothing")
    assert "outdated" in (await telegram.wait_answer(junk))["text"]
    assert bot.query("SELECT count(*) FROM jobs")[0][0] == 0

    telegram.send_text(902, "/topup 902 1000000")
    await telegram.wait_message(902, "don't know this command")
    assert bot.query("SELECT balance FROM users WHERE id = 902")[0][0] == BONUS
    telegram.send_text(ADMIN, "/topup 902 100 thanks")
    await telegram.wait_message(ADMIN, f"New balance: {BONUS + 100} tokens")
    await telegram.wait_message(902, "An admin added 100 tokens")


async def test_group_chats(bot, telegram):
    telegram.send_text(904, "/start", chat_id=-1001)
    reply = await telegram.wait_message(-1001, "private chat")
    assert reply.chat_id == -1001
    telegram.send_text(904, "make me a video", chat_id=-1001)
    telegram.send_text(904, "/start", chat_id=-1001)  # handled after the text: a barrier
    await telegram.wait_message(-1001, "private chat", after=1)
    assert len(telegram.chat(-1001)) == 2  # the two /start replies; nothing for the text
    assert bot.query("SELECT count(*) FROM drafts")[0][0] == 0


async def test_secrets_never_reach_the_output_even_at_debug(tmp_path, telegram, runware):
    bot = BotProcess(tmp_path, telegram, runware, LOG_LEVEL="DEBUG")
    await bot.start()
    runware.http_faults.append((401, {"errors": [{"code": "invalidApiKey", "message": "no"}]}))
    card = await card_from_text(telegram, 905, "a secret-safe video")
    await telegram.tap(905, card, "Generate")
    await telegram.wait_message(905, "could not be made", timeout=30)
    telegram.fail("sendMessage", 500, "Internal Server Error", times=1)
    telegram.send_text(905, "/start")  # its answer meets a 5xx: a send is not repeated blindly
    await telegram.wait_message(905, "something went wrong", timeout=30)
    telegram.send_text(905, "/start")
    await telegram.wait_message(905, "What shall we make?", timeout=30)
    assert await bot.stop() == 0
    assert len(bot.lines) > 50  # DEBUG really logged a lot
    bot.assert_clean()

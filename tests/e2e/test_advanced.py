"""Advanced options through the real process, the fake Telegram and the fake Runware (which
checks every task against the model's schema): a seed round trip, and the request shape of an
image-to-video job with a first and a last frame."""

from __future__ import annotations

from tests.e2e.conftest import BotProcess
from tests.e2e.flows import card_from_text, generate, through_parameters
from tests.images import image_bytes


def video_tasks(runware) -> list[dict]:
    return [t for r in runware.requests for t in r if t.get("taskType") == "videoInference"]


async def test_seed_round_trip_same_seed_new_prompt(bot: BotProcess, telegram, runware):
    card = await card_from_text(telegram, 4101, "a paper kite over the dunes")
    await generate(telegram, 4101, card)
    first = await telegram.wait_message(4101, "paper kite", kind="video", timeout=60)
    assert "seed" not in video_tasks(runware)[0]  # none set: Runware picks one
    assert first.text.endswith("🎲 seed 42")  # ... and says which

    mark = telegram.mark(4101)
    await telegram.tap(4101, first, "Same seed, new prompt")
    await telegram.wait_message(4101, "Seed 42, Veo 3.1 Fast", after=mark)
    telegram.send_text(4101, "a silk kite over the sea")
    again = await telegram.wait_message(4101, "Check and confirm", after=mark)
    assert "🎲 Seed: 42" in again.text
    await generate(telegram, 4101, again)
    await bot.wait_jobs("status = 'delivered'", 2)
    second = video_tasks(runware)[-1]
    assert second["seed"] == 42 and second["positivePrompt"] == "a silk kite over the sea"
    assert second["model"] == "google:3@3"
    assert runware.violations == []
    bot.assert_books_balance()


async def test_first_and_last_frame_request_shape(bot: BotProcess, telegram, runware):
    await through_parameters(telegram, 4102, "i2v", "Veo 3.1 Fast", "en")
    await telegram.wait_message(4102, "Send the photo")
    telegram.send_photo(4102, image_bytes(800, 450))
    await telegram.wait_message(4102, "Describe")
    telegram.send_text(4102, "the tide comes in")
    card = await telegram.wait_message(4102, "Check and confirm")
    await telegram.tap(4102, card, "Advanced")
    await telegram.tap(4102, card, "Send a last frame")
    mark = telegram.mark(4102)
    telegram.send_photo(4102, image_bytes(800, 450, kind="PNG"))
    card = await telegram.wait_message(4102, "Last frame: your photo", after=mark)
    await generate(telegram, 4102, card)
    await bot.wait_jobs("status = 'delivered'", 1)

    uploads = [t for r in runware.requests for t in r if t.get("taskType") == "imageUpload"]
    assert len(uploads) == 2  # the first frame, then the last, once each
    (task,) = video_tasks(runware)
    frames = task["inputs"]["frameImages"]
    assert [f["frame"] for f in frames] == ["first", "last"]
    assert all(f["image"] in runware.images for f in frames) and frames[0] != frames[1]
    assert "width" not in task and task["resolution"] == "720p" and task["duration"] == 8
    assert runware.violations == []
    row = bot.query("SELECT last_frame, last_image_uuid FROM jobs WHERE user_id = 4102")[0]
    assert row[0] == 1 and row[1] == frames[1]["image"]
    assert bot.query("SELECT count(*) FROM job_last_images")[0][0] == 0  # forgotten once sent

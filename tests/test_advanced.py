"""Advanced options through the production Dispatcher: the card's Advanced screen offers what
the model takes (seed, what to avoid, a last frame, prompt enhancement), the values reach the
job, bad values change nothing, and what was set is remembered for the next card."""

from __future__ import annotations

import json

from handlers.callbacks import Advanced, AdvancedAction, Card, SameSeed
from services.catalog import Mode, load_catalog, video_task
from services.jobs import Status
from tests.images import image_bytes

CATALOG = load_catalog()


def draft_of(h) -> int:
    return Card.unpack(h.button("Cancel")).draft


async def test_wan_seed_avoid_and_prompt_extension_reach_the_task_and_are_remembered(h):
    await h.give(5000)
    card = await h.open_card("Wan 2.6", "a lighthouse in a storm", more_models=True)
    assert "Prompt extension" not in "".join(t for t, _ in h.buttons(card))  # out of the way
    await h.tap("Advanced", card)
    screen = h.screen()
    assert "Seed</b>: random" in screen.text and "Avoid</b>: nothing" in screen.text
    assert "Prompt extension</b>: on" in screen.text and "Last frame" not in screen.text

    await h.tap("Type a seed")
    await h.send("123456")
    assert "🎲 Seed: 123456" in h.screen().text and "Check and confirm" in h.screen().text
    await h.tap("Advanced")
    await h.tap("Type what to avoid")
    await h.send("  blurry text, watermarks  ")
    assert "🚫 Avoid: blurry text, watermarks" in h.screen().text
    await h.tap("Advanced")
    await h.tap("Prompt extension: on")
    assert "Prompt extension</b>: off" in h.screen().text
    await h.tap("Back to the card")
    assert "Prompt extension: off" in h.screen().text

    await h.tap("Generate")
    (job,) = await h.jobs()
    assert job.params["seed"] == 123456 and job.params["negative"] == "blurry text, watermarks"
    model = CATALOG.get("alibaba:wan@2.6")
    params = CATALOG.validate(model, Mode.T2V, job.params)
    task = video_task(model, params, job.prompt, job.task_uuid)
    assert task["seed"] == 123456 and task["negativePrompt"] == "blurry text, watermarks"
    assert task["providerSettings"]["alibaba"]["promptExtend"] is False

    # The next card remembers all three; a model without them simply does not get them.
    again = await h.open_card("Wan 2.6", "a second lighthouse", more_models=True)
    assert "🎲 Seed: 123456" in again.text and "🚫 Avoid: blurry text" in again.text
    assert "Prompt extension: off" in again.text
    hailuo = await h.open_card("Hailuo 2.3", "a third lighthouse")
    assert "Seed" not in hailuo.text and "Avoid" not in hailuo.text
    await h.tap("Advanced", hailuo)
    assert "Prompt optimizer" in h.screen().text and "Seed" not in h.screen().text


async def test_bad_values_get_a_reason_and_change_nothing(h):
    await h.give(5000)
    card = await h.open_card("Wan 2.6", "a fox in the snow", more_models=True)
    draft = draft_of(h)
    await h.tap("Advanced", card)
    await h.tap("Type a seed")
    for bad in ("abc", "0", "99999999999", "-5"):
        await h.send(bad)
        assert "whole number from 1 to 2147483647" in h.last_text()
    await h.tap("Back to the card")
    stored = await h.services.drafts.get(draft, h.user_id)
    assert "seed" not in stored.params
    await h.tap("Advanced")
    await h.tap("Type what to avoid")
    await h.send("x" * 501)
    assert "501 characters: write 2 to 500" in h.last_text()
    await h.send("x")
    assert "1 characters: write 2 to 500" in h.last_text()
    stored = await h.services.drafts.get(draft, h.user_id)
    assert "negative" not in stored.params
    assert (await h.services.users.advanced(h.user_id)).negative is None

    # Forged taps: a model without a seed, another user's card.
    kling = await h.open_card("Kling 2.5 Turbo Pro", "a fox", more_models=True)
    kling_draft = draft_of(h)
    alert = await h.press(Advanced(action=AdvancedAction.SEED, draft=kling_draft).pack(), kling)
    assert alert == "This model does not take that option."
    other = h.as_user(4242)
    await other.give(10)
    alert = await other.press(Advanced(action=AdvancedAction.OPEN, draft=kling_draft).pack(), kling)
    assert alert == "This card was not found."


async def test_russian_advanced_screen(h):
    ru = h.as_user(5151, "ru")
    await ru.give(5000)
    await ru.send("/start")
    await ru.tap("Видео из текста")
    await ru.tap("Ещё модели")
    await ru.tap("Wan 2.6")
    await ru.tap("Далее")
    await ru.send("маяк в шторм")
    await ru.tap("Дополнительно")
    text = ru.screen().text
    assert "<b>Сид</b>: случайный" in text and "<b>Избегать</b>: ничего" in text
    await ru.tap("Ввести сид")
    await ru.send("нет")
    assert "Сид — целое число от 1 до 2147483647." in ru.last_text()
    await ru.send("77")
    assert "🎲 Сид: 77" in ru.screen().text


async def test_last_frame_goes_with_the_job_and_only_where_the_model_takes_it(h):
    await h.give(5000)
    await h.send("/start")
    await h.tap("Image to video")
    await h.tap("Veo 3.1 Fast")
    await h.tap("Next")
    await h.send_photo(image_bytes(640, 360))
    await h.send("the sun sets")
    card = h.screen()
    await h.tap("Advanced", card)
    assert "Last frame</b>: none" in h.screen().text
    await h.tap("Send a last frame")
    await h.send("not a photo")
    assert "send the last frame as a photo" in h.last_text()
    await h.send_photo(image_bytes(640, 360, kind="PNG"))
    assert "🖼 Last frame: your photo" in h.screen().text
    await h.tap("Generate")
    (job,) = await h.jobs()
    assert job.last_frame and job.mode is Mode.I2V
    assert await h.services.jobs.last_image(job.id) is not None

    # Veo 3.1 Lite takes a first frame only: its Advanced screen has no last frame, and a forged
    # tap is refused.
    await h.send("/start")
    await h.tap("Image to video")
    await h.tap("More models")
    await h.tap("Veo 3.1 Lite")
    await h.tap("Next")
    await h.send_photo(image_bytes(640, 360))
    await h.send("the moon rises")
    lite = h.screen()
    await h.tap("Advanced", lite)
    assert "Last frame" not in h.screen().text
    alert = await h.press(Advanced(action=AdvancedAction.LAST, draft=draft_of_card(lite)).pack())
    assert alert == "This model does not take that option."


def draft_of_card(screen) -> int:
    for row in screen.markup.inline_keyboard:
        for button in row:
            if button.callback_data.startswith("c:cancel:"):
                return Card.unpack(button.callback_data).draft
    raise AssertionError(screen.text)


async def test_same_seed_new_prompt_starts_a_card_with_that_seed(h):
    await h.give(5000)
    card = await h.open_card("Veo 3.1 Fast", "a red kite")
    await h.tap("Generate", card)
    (job,) = await h.jobs()
    async with h.services.db.transaction() as tx:
        await tx.execute(
            "UPDATE jobs SET status = ?, seed = ?, video_url = ? WHERE id = ?",
            (Status.DELIVERED.value, 31337, "https://example.invalid/v.mp4", job.id),
        )
    assert await h.press(SameSeed(job=job.id).pack(), card) is None
    assert "Seed 31337, Veo 3.1 Fast" in h.last_text()
    await h.send("a blue kite")
    assert "🎲 Seed: 31337" in h.screen().text and "a blue kite" in h.screen().text
    # Someone else's video: not found, nothing started.
    other = h.as_user(777)
    await other.give(10)
    assert await other.press(SameSeed(job=job.id).pack(), card) == "Not found."
    stored = json.loads(
        (await h.services.db.fetchone("SELECT params FROM drafts ORDER BY id DESC LIMIT 1"))[
            "params"
        ]
    )
    assert stored["seed"] == 31337

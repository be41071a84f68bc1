"""The wizards and commands through the production Dispatcher with a recording session."""

from __future__ import annotations

import io

import pytest
from aiogram.methods import SendMessage
from PIL import Image

from handlers.callbacks import (
    Again,
    Card,
    CardAction,
    CardVariants,
    Gallery,
    GalleryAction,
    Menu,
    MenuAction,
    PickModel,
    SetParam,
    StopJob,
)
from services.billing import Kind
from services.catalog import Mode, load_catalog
from services.jobs import Draft, Status
from tests.harness import Harness
from tests.images import image_bytes
from tests.servers import fleet_settings

CATALOG = load_catalog()
T2V = [m for m in CATALOG.for_mode(Mode.T2V)]
VEO_FAST = CATALOG.get("google:3@3")
I2V = [m for m in CATALOG.for_mode(Mode.I2V)]
WORDS = {
    "en": {
        "t2v": "Text to video",
        "i2v": "Image to video",
        "next": "Next",
        "go": "Generate",
        "skip": "Skip",
        "cancel": "Cancel",
        "balance": "Your balance",
        "pick": "choose a model",
        "photo": "Send the photo",
        "prompt": "Describe",
        "card": "Check and confirm",
        "cancelled": "Cancelled",
        "queued": "Waiting in line",
        "more": "More models",
    },
    "ru": {
        "t2v": "Видео из текста",
        "i2v": "Видео из фото",
        "next": "Далее",
        "go": "Создать",
        "skip": "Пропустить",
        "cancel": "Отмена",
        "balance": "Ваш баланс",
        "pick": "выберите модель",
        "photo": "Пришлите фото",
        "prompt": "Опишите",
        "card": "Проверьте и подтвердите",
        "cancelled": "Отменено",
        "queued": "В очереди",
        "more": "Ещё модели",
    },
}


@pytest.fixture(params=["sqlite", "fleet"])
async def h(request, tmp_path):
    """The wizards on the embedded default (SQLite, state in the database) and as a replica of
    a fleet runs them (PostgreSQL, state and per-user order in Redis); 1,000 tokens."""
    async with fleet_settings(request.param) as settings:
        harness = await Harness.start(tmp_path, **settings)
        await harness.give(1000)
        yield harness
        await harness.dp.storage.close()
        await harness.close()


def in_lang(h: Harness, language: str) -> Harness:
    return h.as_user(5001 if language == "en" else 5002, language)


# --- start, menu, languages ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru", "uk"])
async def test_start_greets_with_balance_and_menu(h, language):
    user = h.as_user(2000, language)
    await user.give(75)
    await user.send("/start")
    words = WORDS["en" if language == "en" else "ru"]
    assert "75" in user.last_text()
    labels = [t for t, _ in user.buttons()]
    assert any(words["t2v"] in label for label in labels) and len(labels) == 6


async def test_language_switch_is_remembered(h):
    await h.send("/language")
    await h.tap("Русский")
    assert "Готово" in h.last_text()
    await h.send("/start")
    assert "Ваш баланс" in h.last_text()
    assert (await h.services.users.get(h.user_id)).language == "ru"


async def test_help_balance_and_unknown_command(h):
    await h.send("/help")
    assert "How it works" in h.last_text()
    await h.send("/balance")
    assert "Your balance: <b>1000 tokens</b>" in h.last_text()
    assert "top-up by an admin" in h.last_text()
    await h.send("/frobnicate")
    assert "don't know this command" in h.last_text()


# --- the wizards, every model, both languages ----------------------------------------------------


async def choose(user, model, words):
    """Tap the model's button, on the short first screen or behind "More models"."""
    if not any(text.startswith(model.name + " ·") for text, _ in user.buttons()):
        await user.tap(words["more"])
    await user.tap(model.name + " ·")


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("model", T2V, ids=lambda m: m.id)
async def test_text_to_video_wizard_for_every_model(h, model, language):
    user = in_lang(h, language)
    await user.give(5000)
    words = WORDS[language]
    await user.send("/start")
    await user.tap(words["t2v"])
    assert words["pick"] in user.last_text()
    await choose(user, model, words)
    price = CATALOG.default_choice(model, Mode.T2V).price
    assert str(price) in user.last_text()
    await user.tap(words["next"])
    assert words["prompt"] in user.last_text()
    await user.send("  A red fox runs through deep snow  ")
    card = user.last_text()
    assert words["card"] in card and model.name in card and str(price) in card
    assert f"{5000 - price} " in card
    toast = await user.tap(words["go"])
    assert toast
    [job] = [j for j in await user.jobs() if j.user_id == user.user_id]
    assert (job.model_id, job.mode, job.tokens, job.status) == (
        model.id,
        Mode.T2V,
        price,
        Status.QUEUED,
    )
    assert job.prompt == "A red fox runs through deep snow"
    assert job.progress_message_id == user.screens()[-1].message_id
    assert words["queued"] in user.last_text()
    assert await user.services.billing.balance(user.user_id) == 5000 - price


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("model", I2V, ids=lambda m: m.id)
async def test_image_to_video_wizard_for_every_model(h, model, language):
    user = in_lang(h, language)
    await user.give(5000)
    words = WORDS[language]
    await user.send("/start")
    await user.tap(words["i2v"])
    await choose(user, model, words)
    await user.tap(words["next"])
    assert words["photo"] in user.last_text()
    await user.send_photo(image_bytes(3000, 2000))
    assert words["prompt"] in user.last_text()
    if model.prompt_required_i2v:
        await user.send("the camera slowly pans right")
    else:
        await user.tap(words["skip"])
    assert words["card"] in user.last_text()
    await user.tap(words["go"])
    [job] = [j for j in await user.jobs() if j.user_id == user.user_id]
    assert (job.model_id, job.mode) == (model.id, Mode.I2V)
    image = await user.services.jobs.image(job.id)
    assert Image.open(io.BytesIO(image)).size == (2048, 1365)  # scaled down, aspect kept


async def test_vidu_music_only_at_4_seconds_and_reset_on_duration_change(h):
    await to_photo_step(h, params=True)
    labels = [t for t, _ in h.buttons()]
    assert any("Background music: off" in t for t in labels)
    await h.tap("Background music: off")
    assert "Background music</b>: on" in h.last_text()
    await h.tap("1080p")
    await h.tap("8 s")  # 8 s is 720p only: the quality moves to 720p, the music starts over
    labels = [t for t, _ in h.buttons()]
    assert not any("Background music" in t for t in labels)
    assert not any("1080p" in t for t in labels)
    assert "Quality</b>: 720p" in h.last_text()
    await h.tap("4 s")
    assert any("Background music: off" in t for t, _ in h.buttons())


async def test_change_parameters_from_the_card_keeps_the_prompt(h):
    await h.open_card("Hailuo 2.3 ·", "a lighthouse in a storm")
    await h.tap("Change parameters")
    await h.tap("10 s")
    await h.tap("Next")
    card = h.last_text()
    assert "a lighthouse in a storm" in card and "Duration: 10 s" in card
    await h.tap("Generate")
    [job] = await h.jobs()
    price = h.services.catalog.validate(
        h.services.catalog.get("minimax:4@1"), Mode.T2V, {"duration": 10}
    ).price
    assert job.params["duration"] == 10 and job.tokens == price


# --- refusals ------------------------------------------------------------------------------------


async def to_photo_step(h, params=False):
    await h.send("/start")
    await h.tap("Image to video")
    await h.tap("Vidu 2.0 ·")
    if not params:
        await h.tap("Next")


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (("doc", image_bytes(500, 500, "GIF"), "a.gif", "image/gif"), "not a JPEG, PNG or WEBP"),
        (("doc", b"%PDF-1.7 fake", "photo.jpg", "image/jpeg"), "not a JPEG, PNG or WEBP"),
        (
            ("doc", b"\x00\x00\x00\x18ftypmp42" + b"0" * 50, "v.mp4", "video/mp4"),
            "not a JPEG, PNG or WEBP",
        ),
        (("doc", image_bytes(500, 500, "PNG")[:200], "x.png", "image/png"), "damaged"),
        (("doc", image_bytes(500, 500, "WEBP", frames=3), "a.webp", "image/webp"), "Animated"),
        (("photo", image_bytes(200, 640)), "too small"),
        (
            ("doc", b"\xff\xd8\xff" + b"0" * (11 * 1024 * 1024), "big.jpg", "image/jpeg"),
            "larger than 10 MB",
        ),
        (("text", "here is my photo"), "not an image I can use"),
    ],
)
async def test_image_refusals_keep_the_user_on_the_step(h, send, expected):
    await to_photo_step(h)
    kind, *args = send
    if kind == "doc":
        await h.send_document(*args)
    elif kind == "photo":
        await h.send_photo(args[0])
    else:
        await h.send(args[0])
    assert expected in h.last_text()
    assert "JPEG, PNG or WEBP" in h.last_text()
    await h.send_document(image_bytes(640, 640, "PNG"), "ok.png", "image/png")  # same step
    assert "Describe" in h.last_text()


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [("x" * 3001, "3001 characters, at most 3000"), ("   ", "empty"), ("a", "too short")],
)
async def test_prompt_refusals_keep_the_user_on_the_step(h, prompt, expected):
    await h.open_card("Veo 3.1 Fast ·", prompt)
    assert expected in h.last_text()
    await h.send("a calm sea at dawn")
    assert "Check and confirm" in h.last_text()


async def test_not_enough_tokens_offers_top_up_instead_of_generate(h):
    poor = h.as_user(3000)
    await poor.give(30)
    await poor.open_card("Veo 3.1 Fast ·", "a city at night")
    price = h.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    assert f"Price: <b>{price} tokens</b> · your balance: 30 tokens" in poor.last_text()
    assert f"Not enough tokens: {price - 30} tokens missing" in poor.last_text()
    labels = [t for t, _ in poor.buttons()]
    assert not any("Generate" in t for t in labels) and any("Top up" in t for t in labels)
    await poor.tap("Top up")
    assert "Buy tokens with Telegram Stars" in poor.last_text()
    assert any("100 tokens for 50 ⭐" in t for t, _ in poor.buttons())


# --- single use, forgeries, cancel, restart ------------------------------------------------------


async def test_double_tap_on_generate_creates_one_job(h):
    card = await h.open_card("Veo 3.1 Fast ·", "two taps")
    go = h.button("Generate", card)
    await h.press(go, card)
    second = await h.press(go, card)
    assert "already used" in second
    assert len(await h.jobs()) == 1
    price = h.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    assert await h.services.billing.balance(h.user_id) == 1000 - price


async def test_forged_and_stale_callbacks_change_nothing(h):
    my_card = await h.open_card("Veo 3.1 Fast ·", "mine")
    draft = Card.unpack(h.button("Generate", my_card)).draft

    thief = h.as_user(4000)
    await thief.give(1000)
    await thief.send("/start")
    alert = await thief.press(Card(action=CardAction.GO, draft=draft).pack(), thief.screen())
    assert alert == "This card was not found."
    alert = await thief.press(Card(action=CardAction.GO, draft=99999).pack(), thief.screen())
    assert alert == "This card was not found."
    assert await h.jobs() == []

    await thief.tap("Text to video")
    alert = await thief.press(PickModel(mode=Mode.T2V, model="nope.1@1").pack())
    assert "not available" in alert
    await thief.tap("Veo 3.1 Fast ·")
    alert = await thief.press(SetParam(name="duration", value="99").pack())
    assert "not available" in alert
    alert = await thief.press(SetParam(name="colour", value="red").pack())
    assert "not available" in alert
    alert = await thief.press(PickModel(mode=Mode.T2V, model="google.3@3").pack())
    assert "outdated" in alert  # a model button from a screen already left behind
    assert len(Card(action=CardAction.TOPUP, draft=2**31).pack().encode()) < 64


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_cancel_on_the_progress_message_before_it_is_sent_refunds_in_full(h, language):
    user = in_lang(h, language)
    await user.give(1000)
    words = WORDS[language]
    await user.send("/start")
    await user.tap(words["t2v"])
    await user.tap("Veo 3.1 Fast ·")
    await user.tap(words["next"])
    await user.send("a quiet harbour")
    await user.tap(words["go"])
    progress = user.screen()
    assert words["queued"] in progress.text
    [job] = [j for j in await h.jobs() if j.user_id == user.user_id]
    assert await h.services.billing.balance(user.user_id) == 1000 - job.tokens
    toast = await user.tap({"en": "✖ Cancel", "ru": "✖ Отмена"}[language], progress)
    assert toast == {"en": "Cancelled.", "ru": "Отменено."}[language]
    done = user.screens()[-1]
    assert done.message_id == progress.message_id and done.markup is None
    assert {
        "en": "✖ Cancelled before it started: Veo 3.1 Fast, 8 s.",
        "ru": "✖ Отменено до начала: Veo 3.1 Fast, 8 с.",
    }[language] in done.text
    assert {"en": "now 1000 tokens.", "ru": "теперь на нём 1000 токенов."}[language] in done.text
    assert await h.services.billing.balance(user.user_id) == 1000
    stored = await h.services.jobs.get(job.id)
    assert stored.status is Status.FAILED and stored.error_class == "user_cancelled"
    await user.send("/gallery")
    assert {"en": "cancelled, refunded", "ru": "отменено, токены возвращены"}[language] in (
        user.last_text()
    )
    again = await user.press(StopJob(job=job.id).pack(), progress)
    assert (
        again
        == {
            "en": "This video was cancelled already; its tokens are back on your balance.",
            "ru": "Это видео уже отменено, токены вернулись на ваш баланс.",
        }[language]
    )
    assert await h.services.billing.balance(user.user_id) == 1000


async def test_cancel_once_runware_has_the_task_explains_and_keeps_the_charge(h):
    card = await h.open_card("Veo 3.1 Fast ·", "a lighthouse")
    await h.tap("Generate", card)
    progress = h.screen()
    [job] = await h.jobs()
    jobs = h.services.jobs
    [claimed] = await jobs.claim((Status.QUEUED,), "runner-1", 300, 1)  # the runner takes it
    assert await jobs.mark_sending(claimed, "runner-1")  # and the task is on its way
    alert = await h.tap("✖ Cancel", progress)
    assert "charges for it whatever happens, so it can't be cancelled or refunded" in alert
    assert (await jobs.get(job.id)).status is Status.QUEUED
    assert await h.services.billing.balance(h.user_id) == 1000 - job.tokens


async def test_nobody_cancels_another_users_job_from_a_forged_button(h):
    card = await h.open_card("Veo 3.1 Fast ·", "mine")
    await h.tap("Generate", card)
    [job] = await h.jobs()
    thief = h.as_user(4001)
    await thief.give(100)
    await thief.send("/start")
    alert = await thief.press(StopJob(job=job.id).pack(), thief.screen())
    assert alert == "Not found."
    assert (await h.services.jobs.get(job.id)).status is Status.QUEUED
    assert await h.services.billing.balance(h.user_id) == 1000 - job.tokens


def variants(card_screen, n: int) -> str:
    """The card's "n variants" button."""
    buttons = [b.callback_data or "" for row in card_screen.markup.inline_keyboard for b in row]
    draft = next(CardVariants.unpack(data).draft for data in buttons if data.startswith("cv:"))
    return CardVariants(draft=draft, n=n).pack()


async def test_four_variants_start_four_jobs_with_four_charges_in_one_go(h):
    await h.give(1000)  # 2,000 in all: four Veo 3.1 Fast videos fit
    card = await h.open_card("Veo 3.1 Fast ·", "four takes of a sunrise")
    price = h.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    assert "🎞 Variants: 1" in card.text and h.button("✓ 1", card)
    await h.press(variants(card, 4), card)
    card = h.screen()
    assert "🎞 Variants: 4" in card.text and h.button("✓ 4", card)
    assert f"Price: <b>4 × {price} = {4 * price} tokens</b>" in card.text
    assert f"balance after: {2000 - 4 * price} tokens" in card.text
    toast = await h.tap("Generate 4 videos", card)
    assert toast == "Started: 4 videos."
    made = await h.jobs()
    assert [j.variant for j in made] == [1, 2, 3, 4] and {j.variants for j in made} == {4}
    assert {j.group_id for j in made} == {made[0].id} and {j.tokens for j in made} == {price}
    assert len({j.task_uuid for j in made}) == 4
    assert made[0].progress_message_id == card.message_id  # the card shows the first one
    assert all(j.progress_message_id is None for j in made[1:])  # the runner sends the others
    charges = await h.services.db.fetchall(
        "SELECT job_id, amount FROM ledger WHERE kind = 'job_charge' ORDER BY job_id"
    )
    assert [(r["job_id"], r["amount"]) for r in charges] == [(j.id, -price) for j in made]
    assert await h.services.billing.balance(h.user_id) == 2000 - 4 * price
    assert "already used" in await h.tap("Generate 4 videos", card)  # the card made them once
    assert len(await h.jobs()) == 4

    await h.send("/gallery")  # one entry for the four, opening onto each
    page = h.screen()
    assert page.text.count("<b>#") == 1 and "4 variants" in page.text
    assert "0 of 4 ready, the rest generating" in page.text
    group = Gallery(action=GalleryAction.GROUP, job=made[0].id).pack()
    await h.tap(f"▶ #{made[0].id} ×4", page)
    listing = h.screen()
    assert f"🎞 <b>Variants of #{made[0].id}</b>" in listing.text and "&lt;" not in listing.text
    assert listing.text.count("of 4: generating") == 4
    assert [t for t, _ in h.buttons(listing)][:4] == [f"▶ {n} of 4" for n in range(1, 5)]
    thief = h.as_user(4002)
    await thief.give(10)
    await thief.send("/start")
    assert await thief.press(group, thief.screen()) == "Not found."


async def test_a_balance_for_three_refuses_the_four_variant_card_before_charging(h):
    poor = h.as_user(3001)
    price = h.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    await poor.give(3 * price)
    card = await poor.open_card("Veo 3.1 Fast ·", "only three")
    await poor.press(variants(card, 4), card)
    card = poor.screen()
    assert f"Not enough tokens: {price} tokens missing" in card.text
    labels = [t for t, _ in poor.buttons(card)]
    assert not any("Generate" in t for t in labels) and any("Top up" in t for t in labels)
    await poor.press(variants(card, 3), card)
    card = poor.screen()
    assert "balance after: 0 tokens" in card.text
    # The balance drops after the card was drawn (another card, a refund taken back): the
    # tap is refused as a whole, nothing is charged, the card stays usable.
    await h.services.billing.debit(3001, 1, Kind.ADMIN_DEBIT, "test-drop", admin_id=9)
    alert = await poor.tap("Generate 3 videos", card)
    assert "Not enough tokens" in alert
    assert [j for j in await h.jobs() if j.user_id == 3001] == []
    assert await h.services.billing.balance(3001) == 3 * price - 1
    await poor.press(variants(card, 2), card)
    assert await poor.tap("Generate 2 videos", poor.screen()) == "Started: 2 videos."


async def test_the_card_says_when_the_limit_of_videos_in_progress_would_refuse(h):
    await h.give(2000)  # the balance is not what stops it here
    for n in range(3):
        await h.tap("Generate", await h.open_card("Veo 3.1 Fast ·", f"busy {n}"))
    card = await h.open_card("Veo 3.1 Fast ·", "one more")
    assert any("Generate" in t for t, _ in h.buttons(card))  # one more fits (limit 4)
    await h.press(variants(card, 2), card)
    card = h.screen()
    assert "You can have 4 videos in progress at once and 3 are in progress now" in card.text
    assert not any("Generate" in t for t, _ in h.buttons(card))
    await h.press(variants(card, 1), card)
    assert any("Generate" in t for t, _ in h.buttons(h.screen()))


async def test_variants_card_in_russian(h):
    user = in_lang(h, "ru")
    await user.give(2000)
    await user.send("/start")
    await user.tap(WORDS["ru"]["t2v"])
    await user.tap("Veo 3.1 Fast ·")
    await user.tap(WORDS["ru"]["next"])
    await user.send("рассвет")
    card = user.screen()
    await user.press(variants(card, 3), card)
    card = user.screen()
    price = h.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    assert "🎞 Вариантов: 3 (видео по этому запросу, от 1 до 4)" in card.text
    assert f"3 × {price} = {3 * price} токен" in card.text
    assert await user.tap("Создать 3 видео", card) == "Запущено видео: 3."


async def test_card_from_before_a_restart_still_works_once(h):
    card = await h.open_card("Veo 3.1 Fast ·", "survives a redeploy")
    after = await h.restart()
    await after.tap("Generate", card)
    assert len(await after.jobs()) == 1
    assert "already used" in await after.tap("Generate", card)


async def test_restart_mid_wizard_resumes_at_the_same_step(h):
    await h.send("/start")
    await h.tap("Text to video")
    await h.tap("Hailuo 2.3 ·")
    await h.tap("10 s")
    after = await h.restart()
    await after.tap("Next")
    assert "Describe" in after.last_text()
    await after.send("resumed")
    assert "Duration: 10 s" in after.last_text()


@pytest.mark.parametrize("step", ["model", "params", "photo", "prompt", "confirm"])
async def test_cancel_from_every_state(h, step):
    await h.send("/start")
    await h.tap("Image to video")
    if step != "model":
        await h.tap("Veo 3.1 Fast ·")
    if step in ("photo", "prompt", "confirm"):
        await h.tap("Next")
    if step in ("prompt", "confirm"):
        await h.send_photo(image_bytes(800, 600))
    if step == "confirm":
        await h.send("a prompt")
        card = h.screen()
    await h.send("/cancel")
    assert "Cancelled" in h.last_text()
    key = await h.services.db.fetchval("SELECT state FROM fsm")
    assert key is None
    if step == "confirm":
        assert "cancelled" in await h.press(h.button("Generate", card), card)


async def test_wrong_input_in_button_steps(h):
    await h.send("/start")
    await h.tap("Text to video")
    await h.send("hello?")
    assert "use the buttons above" in h.last_text()


# --- shortcuts -----------------------------------------------------------------------------------


async def test_plain_text_offers_a_card_with_the_last_used_settings(h):
    await h.send("a dog on a skateboard")
    assert "Veo 3.1 Fast" in h.last_text() and "a dog on a skateboard" in h.last_text()
    await h.tap("Change parameters")
    await h.tap("⬅ Models")
    await h.tap("Hailuo 2.3 ·")
    await h.tap("10 s")
    await h.tap("Next")
    await h.tap("Generate")
    await h.send("a cat on a piano")
    card = h.last_text()
    assert "Hailuo 2.3" in card and "Duration: 10 s" in card


async def test_photo_outside_a_flow_starts_image_to_video_with_the_caption(h):
    await h.send_photo(image_bytes(800, 600), caption="make it rain")
    assert "choose a model" in h.last_text()
    await h.tap("Vidu Q1 ·")
    await h.tap("Next")
    assert "make it rain" in h.last_text() and "Check and confirm" in h.last_text()
    await h.tap("Generate")
    [job] = await h.jobs()
    assert job.mode is Mode.I2V and job.prompt == "make it rain"


# --- chats and limits ----------------------------------------------------------------------------


async def test_group_chats_get_pointed_to_a_private_chat(h):
    await h.send("/start")
    menu = h.screen()  # a screen with buttons, as if it had been posted in the group
    h.chat_type = "group"
    await h.send("/start")
    assert "private chat" in h.last_text()
    before = len(h.session.requests)
    await h.send("make me a video")
    await h.send("/balance")
    assert len(h.session.requests) == before
    assert await h.press(Menu(action=MenuAction.T2V).pack(), menu) is None  # answered, silently
    assert len(h.session.requests) == before + 1
    assert await h.jobs() == []


async def test_every_button_fits_telegram(h):
    await h.send("/start")
    await h.tap("Text to video")
    for model in T2V:
        await choose(h, model, WORDS["en"])
        for _text, data in h.buttons():
            assert len(data.encode()) <= 64
        await h.tap("⬅ Models")
    assert all(len(t) <= 4096 for t in h.texts())
    assert all(
        isinstance(r, SendMessage) is False or len(r.text) <= 4096 for r in h.session.requests
    )


async def delivered_job(h, mode=Mode.T2V, model="runway:1@2", image_uuid=None, params=None):
    job = await h.services.jobs.create(
        Draft(
            h.user_id,
            h.user_id,
            mode,
            model,
            params or {"duration": 8},
            "waves at sunset",
            image_uuid=image_uuid,
        )
    )
    job = await h.services.jobs.move(job, Status.SUBMITTED)
    job = await h.services.jobs.move(job, Status.SUCCEEDED, video_url="https://v/x.mp4")
    return await h.services.jobs.move(job, Status.DELIVERED, file_id="FILE1", delivered_as="video")


@pytest.mark.parametrize("mode", [Mode.T2V, Mode.I2V])
async def test_again_with_the_same_settings(h, mode):
    job = await delivered_job(h, mode, image_uuid="img-kept" if mode is Mode.I2V else None)
    await h.send("/start")
    await h.press(Again(job=job.id).pack())
    card = h.last_text()
    assert "Runway Gen-4.5" in card and "Duration: 8 s" in card and "waves at sunset" in card
    await h.tap("Generate")
    again = (await h.jobs())[-1]
    assert again.id != job.id and again.params == job.params and again.mode is mode
    assert again.image_uuid == job.image_uuid  # Runware still has the image: no new upload
    other = h.as_user(6000)
    await other.give(100)
    await other.send("/start")
    assert await other.press(Again(job=job.id).pack()) == "Not found."


async def test_a_command_mid_wizard_is_an_unknown_command_and_the_step_stays(h):
    await h.open_card("Veo 3.1 Fast ·", "/topup 1001 5")
    assert "don't know this command" in h.last_text()
    await h.send("a prompt after all")
    assert "Check and confirm" in h.last_text()


async def test_a_button_with_unknown_data_is_answered(h):
    await h.send("/start")
    assert "outdated" in await h.press("zz:whatever")


async def test_fsm_writes_are_batched_and_survive_a_clean_stop(tmp_path):
    from aiogram.fsm.storage.base import StorageKey

    from bot.fsm_storage import SQLiteStorage
    from services.db import SqliteDatabase
    from services.migrations import migrate

    db = SqliteDatabase(tmp_path / "fsm.sqlite3")
    await db.connect()
    await migrate(db)
    storage = SQLiteStorage(db, flush_interval=0.01)
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    await storage.set_state(key, "Wizard:prompt")
    await storage.set_data(key, {"mode": "t2v"})
    assert await storage.get_state(key) == "Wizard:prompt"  # served from memory at once
    assert await db.fetchval("SELECT count(*) FROM fsm") == 0  # not written yet
    await storage.close()
    again = SQLiteStorage(db)
    assert await again.get_state(key) == "Wizard:prompt"
    assert await again.get_data(key) == {"mode": "t2v"}
    assert await db.fetchval("SELECT count(*) FROM fsm") == 1  # two changes, one row, one write
    await db.close()


async def test_the_short_model_list_keeps_the_users_last_model(h):
    kling = CATALOG.get("klingai:6@1")
    assert not kling.recommended
    await h.send("/start")
    await h.tap("Text to video")
    short = [t for t, _ in h.buttons()]
    assert not any(t.startswith("Kling") for t in short) and any("More models" in t for t in short)
    await delivered_job(h, model="klingai:6@1", params={"duration": 10})
    await h.send("/start")
    await h.tap("Text to video")
    labels = [t for t, _ in h.buttons()]
    assert any(t.startswith("Kling 2.5 Turbo Pro ·") for t in labels)
    assert len(labels) == len(short) + 1  # the recommended few, plus the user's own
    await h.send("/start")
    await h.tap("Image to video")  # remembered per mode
    assert not any(t.startswith("Kling") for t, _ in h.buttons())


# --- settings: original quality ------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_settings_switch_original_quality_and_new_jobs_take_it(h, language):
    user = in_lang(h, language)
    await user.give(1000)
    await user.send("/start")
    await user.tap({"en": "⚙️ Settings", "ru": "⚙️ Настройки"}[language])
    screen = user.screen()
    assert {
        "en": "📎 Each video also as a file (original quality, not recompressed): off",
        "ru": "📎 Каждое видео ещё и файлом (исходное качество, без пересжатия): выкл",
    }[language] in screen.text
    toast = await user.tap({"en": "📎 As a file: off", "ru": "📎 Файлом: выкл"}[language], screen)
    assert (
        toast
        == {
            "en": "Saved. New videos follow it.",
            "ru": "Сохранено. Так будут приходить новые видео.",
        }[language]
    )
    screen = user.screen()
    assert {"en": "📎 As a file: on", "ru": "📎 Файлом: вкл"}[language] in [
        t for t, _ in user.buttons(screen)
    ]
    await user.tap({"en": "🔗 The link: off", "ru": "🔗 Ссылка: выкл"}[language], screen)
    stored = await h.services.users.get(user.user_id)
    assert stored.send_file and stored.send_link
    await user.send("/settings")  # the command shows the same screen, as saved
    assert {"en": "🔗 Each video's link too: on", "ru": "🔗 Ещё и ссылка на каждое видео: вкл"}[
        language
    ] in user.last_text()
    job = await h.services.jobs.create(
        Draft(user.user_id, user.user_id, Mode.T2V, VEO_FAST.id, {}, "a harbour at night")
    )
    assert job.extras == "file,link"
    await user.tap({"en": "📎 As a file: on", "ru": "📎 Файлом: вкл"}[language], user.screen())
    later = await h.services.jobs.create(
        Draft(user.user_id, user.user_id, Mode.T2V, VEO_FAST.id, {}, "a harbour at dawn")
    )
    assert later.extras == "link" and (await h.services.jobs.get(job.id)).extras == "file,link"

"""What a person does in the chat, step by step, against the fake Telegram server."""

from __future__ import annotations

import asyncio
import time

from tests.fake_telegram import BotMessage, FakeTelegram

LABELS = {
    "en": {
        "t2v": "Text to video",
        "i2v": "Image to video",
        "next": "Next",
        "go": "Generate",
        "menu": "What shall we make?",
        "models": "choose a model",
        "prompt": "Describe",
        "photo": "Send the photo",
        "card": "Check and confirm",
        "skip": "Skip",
    },
    "ru": {
        "t2v": "Видео из текста",
        "i2v": "Видео из фото",
        "next": "Далее",
        "go": "Создать",
        "menu": "Что будем делать?",
        "models": "выберите модель",
        "prompt": "Опишите",
        "photo": "Пришлите фото",
        "card": "Проверьте и подтвердите",
        "skip": "Пропустить",
    },
}


async def card_from_text(
    tg: FakeTelegram, user: int, text: str, language: str = "en"
) -> BotMessage:
    """The shortcut: a plain text gets a confirmation card (a new one, not an older card)."""
    mark = tg.mark(user)
    tg.send_text(user, text, language)
    return await tg.wait_message(user, LABELS[language]["card"], after=mark, timeout=60)


async def generate(
    tg: FakeTelegram, user: int, card: BotMessage, language: str = "en"
) -> dict[str, object]:
    return await tg.tap(user, card, LABELS[language]["go"], language)


async def open_model(
    tg: FakeTelegram, user: int, screen: BotMessage, model: str, language: str = "en"
) -> None:
    """Tap a model in the list and wait until the list has become its parameter screen (the
    list names the model too, so its name alone says nothing)."""
    await tg.tap(user, screen, f"{model} ·", language)
    deadline = time.monotonic() + 20
    while not any(LABELS[language]["next"] in label for label, _ in screen.buttons()):
        assert time.monotonic() < deadline, f"no parameter screen for {model}: {screen.text}"
        await asyncio.sleep(0.02)


async def through_parameters(
    tg: FakeTelegram, user: int, mode: str, model: str, language: str
) -> None:
    """/start, the mode ("t2v" or "i2v"), the model, and Next with its default parameters."""
    words = LABELS[language]
    tg.send_text(user, "/start", language)
    menu = await tg.wait_message(user, words["menu"])
    await tg.tap(user, menu, words[mode], language)
    screen = await tg.wait_message(user, words["models"])
    await open_model(tg, user, screen, model, language)
    await tg.tap(user, screen, words["next"], language)


async def text_to_video(
    tg: FakeTelegram, user: int, model: str, prompt: str, language: str = "en"
) -> None:
    words = LABELS[language]
    await through_parameters(tg, user, "t2v", model, language)
    await tg.wait_message(user, words["prompt"])
    tg.send_text(user, prompt, language)
    card = await tg.wait_message(user, words["card"])
    await generate(tg, user, card, language)


async def image_to_video(
    tg: FakeTelegram, user: int, model: str, photo: bytes, prompt: str | None, language: str = "en"
) -> None:
    words = LABELS[language]
    await through_parameters(tg, user, "i2v", model, language)
    await tg.wait_message(user, words["photo"])
    tg.send_photo(user, photo, language=language)
    ask = await tg.wait_message(user, words["prompt"])
    if prompt is None:
        await tg.tap(user, ask, words["skip"], language)
    else:
        tg.send_text(user, prompt, language)
    card = await tg.wait_message(user, words["card"])
    await generate(tg, user, card, language)

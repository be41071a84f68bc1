"""Prompt ideas: every category and example renders in both languages within Telegram's
limits, and an example goes all the way to a job."""

from __future__ import annotations

import pytest

from handlers import screens
from handlers.callbacks import Idea
from handlers.i18n import build_i18n
from services.catalog import Mode
from services.ideas import load_ideas
from tests.telegram_text import parse_html, utf16_len

IDEAS = load_ideas()


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("mode", [Mode.T2V, Mode.I2V])
def test_every_category_and_example_fits_telegram(language, mode):
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale(language):
        text, markup = screens.idea_categories(IDEAS, mode, language)
        assert utf16_len(parse_html(text)) <= 4096
        for category in IDEAS.for_mode(mode):
            title = category.title(language)
            assert title and len(title) <= 64
            text, markup = screens.idea_examples(category, mode, language)
            assert utf16_len(parse_html(text)) <= 4096
            for example in category.examples:
                assert example.text(language) in parse_html(text)  # shown as written
            for row in markup.inline_keyboard:
                for button in row:
                    assert len(button.callback_data.encode()) <= 64
    assert IDEAS.for_mode(mode), "every mode has ideas"
    assert {c.key for c in IDEAS.for_mode(Mode.I2V)} >= {"camera"}


def test_every_example_is_a_valid_prompt_in_both_languages():
    for category in IDEAS.categories:
        for example in category.examples:
            for text in (example.en, example.ru):
                assert 2 <= len(text) <= 3000
            assert example.en.isascii()


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_idea_goes_to_the_card_and_to_a_job(h, language):
    user = h.as_user(3000 if language == "en" else 3001, language)
    await user.give(500)
    words = {
        "en": ("Text to video", "Ideas", "Animals", "Generate"),
        "ru": ("Видео из текста", "Идеи", "Животные", "Создать"),
    }[language]
    await user.send("/start")
    await user.tap(words[0])
    await user.tap("Veo 3.1 Fast ·")
    await user.tap("Далее" if language == "ru" else "Next")
    await user.tap(words[1])
    await user.tap(words[2])
    example = IDEAS.get("animals").examples[0]
    assert example.text(language)[:40] in user.last_text()
    await user.tap("1")
    card = user.last_text()
    assert example.text(language)[:40] in card
    await user.tap(words[3])
    [job] = [j for j in await user.jobs() if j.user_id == user.user_id]
    assert job.prompt == example.en  # the model always gets the English text
    assert job.prompt_original == (example.ru if language == "ru" else None)


async def test_camera_ideas_only_for_image_to_video(h):
    await h.send("/start")
    await h.tap("Text to video")
    await h.tap("Veo 3.1 Fast ·")
    await h.tap("Next")
    await h.tap("Ideas")
    assert not any("Camera" in t for t, _ in h.buttons())
    answer = await h.press(Idea(category="camera").pack())
    assert "outdated" in answer

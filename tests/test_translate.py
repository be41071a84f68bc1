"""Prompt translation: LibreTranslate at the HTTP boundary (respx), and on the card."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from services.translate import LibreTranslate, PromptTranslator, looks_english
from tests.harness import Harness

URL = "https://translate.test"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("A red fox in the snow", True),
        ("1234 !!", True),
        ("Рыжая лиса в снегу", False),
        ("Fox в снегу", False),
        ("東京の夜の街", False),
        ("Un café à Paris", None),
        ("Schöne Grüße aus München", None),
    ],
)
def test_cheap_detection_by_script(text, verdict):
    assert looks_english(text) is verdict


@pytest.fixture
async def translator():
    async with httpx.AsyncClient() as http:
        yield PromptTranslator(LibreTranslate(URL, "lt-key", http, timeout=2.0))


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


async def test_a_russian_prompt_is_translated(translator, api):
    route = api.post(f"{URL}/translate").mock(
        return_value=httpx.Response(
            200,
            json={
                "translatedText": "A red fox in the snow",
                "detectedLanguage": {"language": "ru"},
            },
        )
    )
    result = await translator.to_english("Рыжая лиса в снегу")
    assert (result.status, result.text) == ("translated", "A red fox in the snow")
    body = json.loads(route.calls[0].request.content)
    assert body == {
        "q": "Рыжая лиса в снегу",
        "source": "auto",
        "target": "en",
        "format": "text",
        "api_key": "lt-key",
    }


async def test_english_prompts_are_not_sent(translator, api):
    route = api.post(url__startswith=URL)
    result = await translator.to_english("A red fox in the snow, 4k, cinematic")
    assert result.status == "english" and not route.called


@pytest.mark.parametrize(
    ("detected", "status", "translations"), [("fr", "translated", 1), ("en", "english", 0)]
)
async def test_latin_with_diacritics_asks_the_backend_first(
    translator, api, detected, status, translations
):
    api.post(f"{URL}/detect").mock(
        return_value=httpx.Response(200, json=[{"confidence": 90.0, "language": detected}])
    )
    translate = api.post(f"{URL}/translate").mock(
        return_value=httpx.Response(200, json={"translatedText": "A cafe in Paris"})
    )
    assert (await translator.to_english("Un café à Paris")).status == status
    assert translate.call_count == translations


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(403, json={"error": "Invalid API key"}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"unexpected": True}),
        httpx.Response(200, json={"translatedText": ""}),
        httpx.Response(200, json={"translatedText": "Рыжая лиса в снегу"}),  # untranslated
        httpx.Response(200, json={"translatedText": "fox " * 500}),  # nonsense length
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("down"),
    ],
)
async def test_refusals_timeouts_and_nonsense_fall_back_to_the_original(translator, api, answer):
    api.post(f"{URL}/translate").mock(side_effect=[answer])
    assert (await translator.to_english("Рыжая лиса в снегу")).status == "failed"


async def test_off_without_a_url():
    assert (await PromptTranslator(None).to_english("Рыжая лиса")).status == "off"


# --- on the card ---------------------------------------------------------------------------------


@pytest.fixture
async def h(tmp_path):
    harness = await Harness.start(tmp_path, translate_api_url=URL)
    await harness.give(1000)
    yield harness
    await harness.close()


def answering(api, english="A red fox in the snow"):
    return api.post(f"{URL}/translate").mock(
        return_value=httpx.Response(200, json={"translatedText": english})
    )


async def test_the_card_shows_both_texts_and_the_job_keeps_both(h, api):
    answering(api)
    await h.send("Рыжая лиса в снегу")
    card = h.last_text()
    assert "Prompt: <i>Рыжая лиса в снегу</i>" in card
    assert "In English (this is sent): <i>A red fox in the snow</i>" in card
    await h.tap("Generate")
    [job] = await h.jobs()
    assert (job.prompt, job.prompt_original) == ("A red fox in the snow", "Рыжая лиса в снегу")
    await h.send("/gallery")
    assert "Рыжая лиса в снегу" in h.last_text() and "red fox" not in h.last_text()


async def test_sending_the_original_is_remembered(h, api):
    route = answering(api)
    await h.send("Рыжая лиса в снегу")
    await h.tap("Send my original text")
    assert "In English" not in h.last_text()
    assert (await h.services.users.get(h.user_id)).translate_prompts is False
    await h.tap("Generate")
    [job] = await h.jobs()
    assert (job.prompt, job.prompt_original) == ("Рыжая лиса в снегу", None)
    calls = route.call_count
    await h.send("Кот на пианино")
    assert route.call_count == calls  # the choice is remembered: no translation asked
    await h.tap("Translate to English")
    assert "In English (this is sent)" in h.last_text()
    assert (await h.services.users.get(h.user_id)).translate_prompts is True


async def test_a_translator_that_is_down_never_blocks_a_generation(h, api):
    api.post(f"{URL}/translate").mock(side_effect=httpx.ConnectError("down"))
    await h.send("Рыжая лиса в снегу")
    assert "Translation is unavailable right now" in h.last_text()
    await h.tap("Generate")
    [job] = await h.jobs()
    assert job.prompt == "Рыжая лиса в снегу" and job.prompt_original is None

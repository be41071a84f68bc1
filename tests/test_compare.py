"""Models side by side through the production Dispatcher: ticks, the shared parameters mapped
to each model, one card with each price and the total, one tap starting one job per model in
one transaction, and the refusals (too many, too few, the per-user limit, strangers)."""

from __future__ import annotations

from handlers.callbacks import Card, Compare, CompareAction, model_slug
from services.catalog import Mode, load_catalog

CATALOG = load_catalog()
VEO, KLING, HAILUO, SEEDANCE = "google:3@3", "klingai:6@1", "minimax:4@1", "bytedance:2@2"


def price(model_id: str, **chosen) -> int:
    model = CATALOG.get(model_id)
    return CATALOG.closest(model, Mode.T2V, chosen).price


async def compare_card(h, models, duration: str | None = None, prompt="a fox in the snow"):
    await h.send("/start")
    await h.tap("Text to video")
    await h.tap("Compare models")
    for name in models:
        await h.tap(name)
    await h.tap("Next ➡ (")
    if duration:
        await h.tap(duration)
    await h.tap("Next ➡")
    await h.send(prompt)
    return h.screen()


async def test_three_models_one_card_one_tap_three_jobs(h):
    await h.give(5000)
    balance = await h.services.billing.balance(h.user_id)
    card = await compare_card(h, ["Veo 3.1 Fast", "Kling 2.5 Turbo Pro", "Hailuo 2.3"], "10 s")
    lines = card.text.split("\n")
    # 10 s for all: Veo's nearest is 8 s, Kling and Hailuo take 10 s (Hailuo only at 768p).
    veo, kling, hailuo = (
        price(VEO, duration=8),
        price(KLING, duration=10),
        price(HAILUO, duration=10),
    )
    assert f"1. <b>Veo 3.1 Fast</b>: 8 s · 16:9 · 720p · Sound: on — {veo} tokens" in lines
    assert f"2. <b>Kling 2.5 Turbo Pro</b>: 10 s · 16:9 · 720p — {kling} tokens" in lines
    assert any(line.startswith("3. <b>Hailuo 2.3</b>: 10 s · 16:9 · 768p") for line in lines)
    total = veo + kling + hailuo
    assert f"Price: <b>{total} tokens</b> · balance after: {balance - total} tokens" in card.text
    assert "Variants" not in card.text and "Advanced" not in str(h.buttons(card))

    assert await h.tap("Generate 3 videos", card) == "Started: 3 videos."
    jobs = await h.jobs()
    assert [j.model_id for j in jobs] == [VEO, KLING, HAILUO]
    assert [j.duration for j in jobs] == [8, 10, 10]
    assert jobs[2].params["resolution"] == "768p"
    assert {j.group_id for j in jobs} == {jobs[0].id} and all(j.compare for j in jobs)
    assert [j.variant for j in jobs] == [1, 2, 3] and [j.tokens for j in jobs] == [
        veo,
        kling,
        hailuo,
    ]
    assert await h.services.billing.balance(h.user_id) == balance - total
    # A second tap on the used card starts nothing more.
    assert "already used" in await h.press(h.button("Generate", card), card)
    assert len(await h.jobs()) == 3
    await h.send("/gallery")  # one entry for the three, each model listed
    page = h.screen().text
    assert page.count("<b>#") == 1 and "3 models side by side" in page
    assert "Veo 3.1 Fast, Kling 2.5 Turbo Pro, Hailuo 2.3" in page
    await h.tap("×3")
    assert "⚖️ <b>Side by side, #" in h.screen().text
    assert [t for t, _ in h.buttons()][:3] == ["▶ Veo 3.1 Fast", "▶ Kling 2.5 Turbo Pro",
                                              "▶ Hailuo 2.3"]  # fmt: skip


async def test_ticks_refuse_a_fourth_and_a_single_model(h):
    await h.give(5000)
    await h.send("/start")
    await h.tap("Text to video")
    await h.tap("Compare models")
    await h.tap("Veo 3.1 Fast")
    assert await h.tap("Next ➡ (1") == "Tick at least 2 models to compare."
    for name in ("Kling 2.5 Turbo Pro", "Hailuo 2.3"):
        await h.tap(name)
    assert await h.tap("Seedance") == "At most 3 models at once: untick one first."
    assert "✅ Veo 3.1 Fast" in str(h.buttons()) and "✅ Seedance" not in str(h.buttons())
    await h.tap("✅ Hailuo 2.3")  # untick
    await h.tap("Seedance")
    await h.tap("Next ➡ (3")
    assert "Seedance 1.0 Pro Fast" in h.screen().text and "Hailuo" not in h.screen().text
    forged = Compare(action=CompareAction.DURATION, value="99").pack()
    assert await h.press(forged) == "This option is not available for this model."
    stale = Compare(action=CompareAction.TICK, value=model_slug(VEO)).pack()
    assert (
        await h.press(stale) == "This button is outdated. Use /start to begin again."
    )  # not on the ticks screen now
    assert await h.jobs() == []


async def test_the_card_says_when_the_limit_would_refuse(h):
    await h.give(9000)
    for prompt in ("one", "two"):  # two videos in progress already, the limit is 4
        card = await h.open_card("Veo 3.1 Fast", f"a fox {prompt}")
        await h.tap("Generate", card)
    card = await compare_card(h, ["Veo 3.1 Fast", "Kling 2.5 Turbo Pro", "Hailuo 2.3"])
    assert "compare fewer models, or wait" in card.text
    assert not any("Generate" in label for label, _ in h.buttons(card))
    draft = Card.unpack(h.button("Cancel", card)).draft
    alert = await h.press(Card(action="go", draft=draft).pack(), card)  # forged Generate
    assert alert == "You already have 4 videos in progress. Please wait until one is ready."
    assert len(await h.jobs()) == 2


async def test_a_prompt_one_model_refuses_goes_back_to_the_prompt(h):
    await h.give(5000)
    # Hailuo takes 2000 characters, Veo 3000: the prompt step follows Hailuo.
    await compare_card(h, ["Veo 3.1 Fast", "Hailuo 2.3"], prompt="x" * 2500)
    assert "2000" in h.last_text() and "Check and confirm" not in h.last_text()
    assert await h.services.db.fetchval("SELECT count(*) FROM drafts") == 0
    await h.send("a fox in the snow")  # the step waits for a shorter one
    assert "Check and confirm" in h.screen().text and "2. <b>Hailuo 2.3</b>" in h.screen().text
    await h.tap("Change parameters")  # back to what they share, the card cancelled
    assert "each model gets the nearest" in h.screen().text
    assert await h.services.db.fetchval("SELECT status FROM drafts") == "cancelled"


async def test_russian_compare_card(h):
    ru = h.as_user(6262, "ru")
    await ru.give(5000)
    await ru.send("/start")
    await ru.tap("Видео из текста")
    await ru.tap("Сравнить модели")
    await ru.tap("Veo 3.1 Fast")
    await ru.tap("Hailuo 2.3")
    await ru.tap("Далее ➡ (")
    assert "Длительность и формат для всех" in ru.screen().text
    await ru.tap("Далее ➡")
    await ru.send("лиса в снегу")
    card = ru.screen()
    assert "⚖️ <b>Сравнение моделей</b> · видео из текста" in card.text
    assert "1. <b>Veo 3.1 Fast</b>" in card.text and "2. <b>Hailuo 2.3</b>" in card.text

"""The live catalog check in the real process: it runs at start-up without holding up the
first answer, and what Runware retired leaves the menus with one message to the admins."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import ADMIN, BotProcess


async def test_the_start_up_check_retires_what_the_registry_lacks(tmp_path, telegram, runware):
    runware.rules.retire("runway:1@2")
    gate = runware.hold("registry")  # the schema service answers slowly
    bot = BotProcess(tmp_path, telegram, runware)
    await bot.start()
    try:
        telegram.send_text(301, "/start")
        await telegram.wait_message(301, "What shall we make?", timeout=10)
        assert telegram.texts(ADMIN) == []  # the check is still waiting: users were not
        gate.set()
        alert = await telegram.wait_message(ADMIN, "Model catalog check", timeout=20)
        assert "Runway Gen-4.5 (runway:1@2): retired" in alert.text
        mark = telegram.mark(301)
        telegram.send_text(301, "/start")
        menu = await telegram.wait_message(301, "What shall we make?", after=mark)
        await telegram.tap(301, menu, "Text to video")
        models = await telegram.wait_message(301, "choose a model")
        await telegram.tap(301, models, "More models")
        for _ in range(400):  # until the list has become the long one
            if any("Kling" in label for label, _ in models.buttons()):
                break
            await asyncio.sleep(0.05)
        labels = [label for label, _ in models.buttons()]
        assert any(label.startswith("Kling") for label in labels)
        assert not any("Runway" in label for label in labels)
        assert len(telegram.texts(ADMIN)) == 1
    finally:
        assert await bot.stop() == 0
    rows = bot.query("SELECT status FROM model_state WHERE model_id = 'runway:1@2'")
    assert [r[0] for r in rows] == ["retired"]
    bot.assert_clean()

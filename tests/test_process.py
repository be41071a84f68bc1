"""The real `python -m bot` process against a fake Bot API server on 127.0.0.1."""

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY = "rw-process-test-key-0123456789"


async def test_reaches_long_polling_answers_start_and_stops_on_sigterm(tmp_path):
    telegram = FakeTelegram(TOKEN)
    url = await telegram.start()
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("BOT_", "RUNWARE_"))}
    env.update(
        BOT_TOKEN=TOKEN,
        RUNWARE_API_KEY=KEY,
        TELEGRAM_API_URL=url,
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        LOG_LEVEL="DEBUG",
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await telegram.wait_for("getUpdates", timeout=30)
        commands = telegram.called("setMyCommands")
        assert {c.params.get("language_code") for c in commands} == {None, "ru", "uk", "be", "kk"}

        telegram.send_text(555, "/start")
        [reply] = await telegram.wait_for("sendMessage")
        assert reply.params["chat_id"] == "555"
        assert "Hi, U555!" in reply.params["text"]

        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 15)
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await telegram.stop()
    out = (await proc.stdout.read() + await proc.stderr.read()).decode()
    assert "bot started" in out and "bot stopped" in out
    assert TOKEN not in out and KEY not in out
    assert (tmp_path / "bot.sqlite3").exists()

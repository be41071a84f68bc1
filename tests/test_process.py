"""The real `python -m bot` process against a fake Bot API server on 127.0.0.1."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
KEY = "rw-process-test-key-0123456789"


async def test_reaches_long_polling_answers_start_and_stops_on_sigterm(tmp_path):
    telegram = FakeTelegram(TOKEN)
    url = await telegram.start()
    env = {**bot_env(tmp_path, url), "LOG_LEVEL": "DEBUG"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Read the output as it comes: at DEBUG it is more than a pipe holds (64 KB), and a bot
    # whose log nobody reads blocks on its next line.
    reading = [asyncio.create_task(s.read()) for s in (proc.stdout, proc.stderr) if s]
    try:
        await telegram.wait_for("getUpdates", timeout=30)
        commands = telegram.called("setMyCommands")
        assert {c.params.get("language_code") for c in commands} == {None, "ru", "uk", "be", "kk"}

        telegram.send_text(555, "/start")
        [reply] = await telegram.wait_for("sendMessage")
        assert reply.params["chat_id"] == "555"
        assert "Hi, U555!" in reply.params["text"]

        assert await stopped(proc) == 0
    finally:
        await killed(proc)
        await telegram.stop()
    out = b"".join(await asyncio.gather(*reading)).decode()
    assert "bot started" in out and "bot stopped" in out
    assert TOKEN not in out and KEY not in out
    assert (tmp_path / "bot.sqlite3").exists()


async def stopped(proc: asyncio.subprocess.Process) -> int | None:
    """SIGTERM, as a deploy stops the bot; its exit code within 15 s."""
    proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(proc.wait(), 15)
    return proc.returncode


async def killed(proc: asyncio.subprocess.Process) -> None:
    """Whatever a failed test left running is killed."""
    if proc.returncode is None:
        proc.kill()
        await proc.wait()


def bot_env(tmp_path, url, token=TOKEN):
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("BOT_", "RUNWARE_"))}
    env.update(
        BOT_TOKEN=token,
        RUNWARE_API_KEY=KEY,
        TELEGRAM_API_URL=url,
        DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        RUNWARE_SCHEMAS_URL="http://127.0.0.1:9/schemas",
        PYTHONPATH=str(ROOT),
    )
    return env


async def test_a_refused_token_stops_start_up_with_one_line_naming_bot_token(tmp_path):
    telegram = FakeTelegram("999:ANOTHER-bots-token-0123456789")  # knows another token only
    url = await telegram.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=bot_env(tmp_path, url),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        await telegram.stop()
    assert proc.returncode == 2
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("Start-up error: Telegram refused BOT_TOKEN")
    text = (out + err).decode()
    assert "Traceback" not in text and TOKEN not in text and TOKEN.split(":")[1] not in text


async def test_telegram_unreachable_at_start_is_waited_for(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    telegram = FakeTelegram(TOKEN)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path,
        env=bot_env(tmp_path, f"http://127.0.0.1:{port}"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []

    async def read(stream):
        while line := await stream.readline():
            lines.append(line.decode(errors="replace").rstrip())

    readers = [asyncio.create_task(read(s)) for s in (proc.stdout, proc.stderr)]
    try:
        for _ in range(600):
            if sum("Telegram is not reachable" in line for line in lines) >= 2:
                break
            assert proc.returncode is None, lines
            await asyncio.sleep(0.1)
        assert sum("Telegram is not reachable" in line for line in lines) >= 2, lines
        await telegram.start(port)  # the network is back
        await telegram.wait_for("getUpdates", timeout=90)
        assert await stopped(proc) == 0
    finally:
        await killed(proc)
        await asyncio.gather(*readers)
        await telegram.stop()
    text = "\n".join(lines)
    assert "Traceback" not in text and TOKEN not in text
    assert "Telegram reached as @video_bot" in text


async def test_the_migration_step_brings_the_database_up_to_date_and_exits(tmp_path):
    env = bot_env(tmp_path, "http://127.0.0.1:9")  # no Telegram is needed, nor asked
    for _ in range(2):  # the second run finds nothing to do
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "migrate", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
    assert "database up to date (0 migrations applied now)" in (out + err).decode()
    import sqlite3

    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "ledger", "jobs", "duties"} <= tables

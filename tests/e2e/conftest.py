"""End-to-end fixtures: the fake Telegram and Runware servers on 127.0.0.1 and the bot as a
real `python -m bot` subprocess pointed at them, on a temporary database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.catalog import Mode, ValidParams, load_catalog
from tests.fake_runware import RunwareServer
from tests.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "7777777777:E2E-SECRET-TOKEN-abcdefghijklmnopqr"
KEY = "rw-E2E-SECRET-KEY-0123456789abcdef"
ADMIN = 9
BONUS = 2000  # enough for three of the dearest default cards
CATALOG = load_catalog()


def price(model_id: str, mode: str = "t2v") -> int:
    """The tokens a model's default card costs, as the bot computes it from the catalog."""
    model = CATALOG.get(model_id)
    assert model is not None
    valid = CATALOG.default_choice(model, Mode(mode))
    assert isinstance(valid, ValidParams)
    return valid.price


VEO_FAST = "google:3@3"  # the model of the text shortcut's card


class BotProcess:
    def __init__(
        self, folder: Path, telegram: FakeTelegram, runware: RunwareServer, **env: Any
    ) -> None:
        self.folder = folder
        self.telegram = telegram
        self.runware = runware
        self.env = env
        self.db_path = folder / "bot.sqlite3"
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.upper().startswith(("BOT_", "RUNWARE_", "TELEGRAM_", "TRANSLATE_"))
        }
        env.update(
            BOT_TOKEN=TOKEN,
            RUNWARE_API_KEY=KEY,
            TELEGRAM_API_URL=self.telegram.url,
            RUNWARE_API_URL=f"{self.runware.url}/v1",
            DATABASE_PATH=str(self.db_path),
            ADMIN_IDS=str(ADMIN),
            LOG_LEVEL="INFO",
            WELCOME_BONUS=str(BONUS),
            RUNWARE_SCHEMAS_URL=self.runware.schemas_url,
            POLL_FIRST_SECONDS="0.5",
            POLL_MAX_SECONDS="1",
            RUNWARE_TIMEOUT_SECONDS="2",
            RUNWARE_MAX_ATTEMPTS="3",
            JOB_LEASE_SECONDS="3",
            PROBE_INTERVAL_SECONDS="1",
            SUBMIT_RETRY_SECONDS="0.5",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        env.update({k: str(v) for k, v in self.env.items()})
        polls = len(self.telegram.called("getUpdates"))
        self._readers.clear()  # a restart: the lines of the last run stay (the story so far)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.folder,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for stream in (self.proc.stdout, self.proc.stderr):
            self._readers.append(asyncio.create_task(self._read(stream)))
        if "WEBHOOK_URL" in self.env:
            await self.wait_ready()
        else:
            await self.telegram.wait_for("getUpdates", polls + 1, timeout=30)

    @property
    def local_url(self) -> str:
        """Where a webhook-mode replica listens (WEBHOOK_LISTEN)."""
        return f"http://{self.env['WEBHOOK_LISTEN']}"

    async def wait_ready(self, timeout: float = 30) -> None:
        """Until /readyz answers 200 (a webhook-mode replica)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while True:
                assert self.proc is not None
                if self.proc.returncode is not None:
                    await asyncio.gather(*self._readers)
                    raise AssertionError(f"the replica exited: {self.lines[-5:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.local_url + "/readyz") as answer:
                        if answer.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise AssertionError(f"not ready within {timeout}s: {self.lines[-5:]}")
                await asyncio.sleep(0.05)

    async def _read(self, stream: asyncio.StreamReader | None) -> None:
        assert stream is not None
        while line := await stream.readline():
            self.lines.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.proc.wait(), 30)
        await asyncio.gather(*self._readers)
        return self.proc.returncode or 0

    async def kill(self) -> None:
        """kill -9: no shutdown code runs, leases stay held, requests in flight are cut."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()
        await asyncio.gather(*self._readers)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            return list(conn.execute(sql, params))
        finally:
            conn.close()

    async def wait_jobs(self, condition: str, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.query(f"SELECT count(*) FROM jobs WHERE {condition}")
            if rows[0][0] >= count:
                return
            if time.monotonic() > deadline:
                states = self.query("SELECT id, status, error_class FROM jobs")
                raise AssertionError(
                    f"{count} jobs with {condition} not reached: {[tuple(r) for r in states]}"
                )
            await asyncio.sleep(0.1)

    def assert_books_balance(self) -> None:
        """Every balance equals its ledger sum; no job refunded twice or charged twice."""
        rows = self.query(
            "SELECT u.id, u.balance, coalesce(sum(l.amount), 0) FROM users u"
            " LEFT JOIN ledger l ON l.user_id = u.id GROUP BY u.id"
        )
        assert all(r[1] == r[2] >= 0 for r in rows), [tuple(r) for r in rows]
        twice = self.query(
            "SELECT job_id, kind, count(*) FROM ledger WHERE job_id IS NOT NULL"
            " GROUP BY job_id, kind HAVING count(*) > 1"
        )
        assert twice == [], [tuple(r) for r in twice]

    def assert_clean(self, errors_allowed: bool = True) -> None:
        text = self.output
        assert TOKEN not in text and KEY not in text, "a secret reached the logs"
        assert TOKEN.split(":")[1] not in text and KEY[3:] not in text
        if not errors_allowed:
            bad = [line for line in self.lines if " ERROR " in line or "Traceback" in line]
            assert bad == [], bad[:5]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def runware() -> AsyncIterator[RunwareServer]:
    server = RunwareServer(KEY, latency=1.0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(tmp_path, telegram, runware) -> AsyncIterator[BotProcess]:
    process = BotProcess(tmp_path, telegram, runware)
    await process.start()
    yield process
    if process.proc is not None and process.proc.returncode is None:
        assert await process.stop() == 0
    process.assert_clean()
    assert runware.violations == [], runware.violations
    assert telegram.refused == [], telegram.refused  # a text Telegram would not take


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)

"""Several replicas on one PostgreSQL database and one Redis: a user's conversation and order
belong to the fleet, not to the process that happened to receive an update."""

from __future__ import annotations

import asyncio

import pytest
from aiogram.fsm.storage import redis as aiogram_redis
from aiogram.fsm.storage.base import StorageKey

from bot.app import build_services
from bot.errors import StartupError
from bot.settings import load_settings
from services.catalog import Mode, load_catalog
from services.jobs import Status
from tests.harness import Harness
from tests.recording_session import TOKEN
from tests.servers import fleet_settings

VEO_FAST = load_catalog().get("google:3@3")


@pytest.fixture
async def pair(tmp_path):
    """Two replicas (a, b) sharing PostgreSQL and Redis; the user has 1,000 tokens."""
    async with fleet_settings("fleet") as settings:
        a = await Harness.start(tmp_path, **settings)
        b = await a.replica()
        await a.give(1000)
        yield a, b
        for replica in (a, b):
            await replica.dp.storage.close()
            await replica.close()


async def test_a_wizard_begun_on_one_replica_goes_on_at_the_other(pair):
    a, b = pair
    await a.send("/start")
    await b.tap("Text to video")
    await a.tap("Veo 3.1 Fast ·")
    await b.tap("Next")
    assert "Describe" in b.last_text()
    await a.send("a lighthouse in a storm")
    assert "Check and confirm" in a.last_text()
    card = b.screen()
    await b.tap("Generate", card)
    [job] = await a.jobs()
    assert (job.model_id, job.status, job.prompt) == (
        VEO_FAST.id,
        Status.QUEUED,
        "a lighthouse in a storm",
    )
    price = a.services.catalog.default_choice(VEO_FAST, Mode.T2V).price
    assert await b.services.billing.balance(a.user_id) == 1000 - price
    assert "already used" in await a.tap("Generate", card)  # the same card, the other replica


async def test_a_language_chosen_on_one_replica_is_spoken_by_the_other(pair):
    a, b = pair
    await a.send("/start")
    await b.send("/start")  # b has now seen the user in English
    await a.send("/language")
    await a.tap("Русский")
    await b.send("/balance")
    assert "Ваш баланс" in b.last_text()


async def test_one_users_updates_take_turns_across_replicas(pair, monkeypatch):
    """While replica a is inside one of the user's updates, the user's next update at replica b
    waits for it; another user's update at b does not."""
    a, b = pair
    await a.send("/start")
    refused = asyncio.Event()

    class WatchedLock(aiogram_redis.Lock):
        async def do_acquire(self, token):
            taken = await super().do_acquire(token)
            if not taken:
                refused.set()
            return taken

    monkeypatch.setattr(aiogram_redis, "Lock", WatchedLock)
    key = StorageKey(bot_id=a.bot.id, chat_id=a.chat(), user_id=a.user_id)
    async with a.dp.fsm.events_isolation.lock(key):  # a is handling one of the user's updates
        before = len(a.session.requests)
        waiting = asyncio.create_task(b.send("/balance"))
        await asyncio.wait_for(refused.wait(), 10)  # b asked for the user's turn and was told no
        other = b.as_user(2002)
        await other.send("/balance")  # somebody else is not held up
        assert "Your balance" in other.last_text()
        assert not waiting.done()
        assert [
            r for r in a.session.requests[before:] if getattr(r, "chat_id", None) == a.chat()
        ] == []
    await asyncio.wait_for(waiting, 10)
    assert "Your balance" in a.last_text()


async def test_redis_that_does_not_answer_stops_start_up_naming_the_server_only(tmp_path):
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        runware_api_key="rw-test-key-0123456789",
        database_path=tmp_path / "bot.sqlite3",
        redis_url="redis://:hunter2-secret@127.0.0.1:1/0",
    )
    with pytest.raises(StartupError) as refused:
        await build_services(settings)
    message = str(refused.value)
    assert "Redis at 127.0.0.1:1/0 (REDIS_URL) does not answer" in message
    assert "hunter2" not in message
    assert not (tmp_path / "bot.sqlite3").exists()  # nothing started on a half configuration

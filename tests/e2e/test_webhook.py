"""Webhook mode: Telegram POSTs updates through a load balancer (tests/proxy.py) to the bot."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest

from services.payments import Package, make_payload
from tests.e2e.conftest import BotProcess
from tests.proxy import RoundRobinProxy

PUBLIC = "https://bot.test"  # what Telegram is told; the proxy stands for its TLS terminator
SECRET = "whk-E2E-SECRET-0123456789abcdefABCDEF"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_env(**extra: str) -> dict[str, str]:
    return {
        "WEBHOOK_URL": PUBLIC,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": f"127.0.0.1:{free_port()}",
        **extra,
    }


@pytest.fixture
async def proxy(telegram, runware):
    """The load balancer at PUBLIC: Telegram's updates and Runware's results come through it."""
    balancer = RoundRobinProxy([])
    await balancer.start()
    telegram.routes[PUBLIC] = balancer.url
    runware.routes[PUBLIC] = balancer.url
    yield balancer
    await balancer.stop()


async def test_one_replica_on_a_webhook_answers_checks_the_secret_and_keeps_the_hook(
    tmp_path, telegram, runware, proxy
):
    bot = BotProcess(tmp_path, telegram, runware, **webhook_env())
    proxy.backends.append(bot.local_url)
    await bot.start()
    try:
        await telegram.wait_for("setWebhook")
        hook = telegram.webhook
        assert hook is not None and hook["url"].startswith(PUBLIC + "/telegram/")
        assert hook["secret"] == SECRET and SECRET not in hook["url"]
        assert (
            "message" in hook["allowed_updates"] and "pre_checkout_query" in hook["allowed_updates"]
        )

        telegram.send_text(555, "/start")
        [reply] = await telegram.wait_for("sendMessage")
        assert reply.params["chat_id"] == "555" and "Hi, U555!" in reply.params["text"]

        path = hook["url"].removeprefix(PUBLIC)
        update = {"update_id": 99, "message": {"message_id": 1, "date": 0,
                  "chat": {"id": 556, "type": "private"}, "text": "/start",
                  "from": {"id": 556, "is_bot": False, "first_name": "Eve"}}}  # fmt: skip
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-0123456789"}):
                async with http.post(bot.local_url + path, json=update, headers=headers) as answer:
                    assert answer.status == 401  # forged: not handled
            async with http.get(bot.local_url + "/healthz") as answer:
                assert answer.status == 200
            async with http.get(bot.local_url + "/readyz") as answer:
                assert answer.status == 200
                assert await answer.json() == {"ready": True, "failed": {}}
        assert telegram.texts(556) == []

        assert await bot.stop() == 0
        assert telegram.webhook == hook  # a stopping replica leaves the webhook to the others
        telegram.send_text(555, "/balance")  # arrives while the bot is down: Telegram keeps it
        await bot.start()  # the next deploy: the same URL, nothing set again
        await telegram.wait_message(555, "Your balance")
        assert len(telegram.called("setWebhook")) == 1
        assert await bot.stop() == 0
    finally:
        if bot.proc is not None and bot.proc.returncode is None:
            await bot.kill()
    bot.assert_clean(errors_allowed=False)
    assert SECRET not in bot.output

    polling = BotProcess(tmp_path, telegram, runware)  # back to long polling
    await polling.start()
    assert telegram.webhook is None and len(telegram.called("deleteWebhook")) == 1
    telegram.send_text(555, "/help")
    await telegram.wait_message(555, "How it works")
    assert await polling.stop() == 0


async def test_a_changed_secret_sets_the_webhook_again(tmp_path, telegram, runware, proxy):
    bot = BotProcess(tmp_path, telegram, runware, **webhook_env())
    proxy.backends.append(bot.local_url)
    await bot.start()
    await telegram.wait_for("setWebhook")
    first = telegram.webhook
    assert await bot.stop() == 0
    bot.env["WEBHOOK_SECRET"] = "whk-rotated-secret-9876543210zyx"
    await bot.start()
    await telegram.wait_for("setWebhook", 2)
    assert telegram.webhook is not None and first is not None
    assert telegram.webhook["url"] != first["url"]
    assert telegram.webhook["secret"] == "whk-rotated-secret-9876543210zyx"
    telegram.send_text(555, "/start")
    await telegram.wait_message(555, "Hi, U555!")
    assert await bot.stop() == 0


async def test_a_payment_through_the_webhook_counts_once_when_telegram_sends_it_again(
    tmp_path, telegram, runware, proxy
):
    bot = BotProcess(tmp_path, telegram, runware, **webhook_env())
    proxy.backends.append(bot.local_url)
    await bot.start()
    await telegram.wait_for("setWebhook")
    telegram.send_text(964, "/start")
    await telegram.wait_message(964, "What shall we make?")
    payload = make_payload(Package(100, 50), 964)
    query = telegram.pre_checkout(964, payload, 50)
    assert (await wait_checkout(telegram, query))["ok"] in (True, "true", "True")
    # The checkout's own 200 first (the bot answers the query before Telegram hears the 200):
    # the answer lost below is the payment's, not the checkout's.
    deadline = asyncio.get_running_loop().time() + 20
    while [status for _, status in telegram.webhook_posts] != [200, 200]:
        assert asyncio.get_running_loop().time() < deadline, telegram.webhook_posts
        await asyncio.sleep(0.02)
    telegram.webhook_lost_answers = 1  # the payment is recorded, the 200 lost: it comes again
    telegram.pay(964, payload, 50, "charge-964")
    await telegram.wait_message(964, "100 tokens")
    deadline = asyncio.get_running_loop().time() + 20
    # /start, the checkout, the payment (its answer lost), the payment again
    while [status for _, status in telegram.webhook_posts] != [200, 200, 0, 200]:
        assert asyncio.get_running_loop().time() < deadline, telegram.webhook_posts
        await asyncio.sleep(0.05)  # until the payment's second delivery has been answered
    [row] = bot.query("SELECT count(*), sum(amount) FROM ledger WHERE user_id = 964 AND kind = ?",
                      ("purchase",))  # fmt: skip
    assert tuple(row) == (1, 100)
    assert sum("Payment received" in text for text in telegram.texts(964)) == 1  # told once
    bot.assert_books_balance()
    assert await bot.stop() == 0


async def wait_checkout(telegram, query_id: str) -> dict:
    deadline = asyncio.get_running_loop().time() + 20
    while query_id not in telegram.checkout_answers:
        assert asyncio.get_running_loop().time() < deadline, "pre_checkout_query not answered"
        await asyncio.sleep(0.05)
    return telegram.checkout_answers[query_id]

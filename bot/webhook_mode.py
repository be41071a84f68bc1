"""Webhook mode as the bot runs it: the aiohttp server with Telegram's updates, Runware's
results, /healthz and /readyz; Telegram pointed at it once per deploy; and, back in long
polling, a leftover webhook removed."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError

from bot.errors import StartupError
from bot.result_hook import result_route
from bot.settings import Settings
from services.runner import JobRunner
from telegram_side.webhook import Check, build_app, ensure_webhook, serve, webhook_path

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


async def leave_webhook(bot: Bot) -> None:
    """Long polling is refused while a webhook is set (409): a bot moved back from webhook mode
    removes it, keeping the updates Telegram holds."""
    info = await bot.get_webhook_info()
    if info.url:
        log.warning("a webhook was set; removing it for long polling (pending updates kept)")
        await bot.delete_webhook(drop_pending_updates=False)


def readiness(services: Services) -> dict[str, Check]:
    """What /readyz asks: each raises when its part cannot serve."""

    async def database() -> None:
        await services.db.fetchval("SELECT 1")

    async def redis() -> None:
        if services.redis is not None:
            await services.redis.ping()  # type: ignore[misc]  # typed for both clients

    async def runware() -> None:
        if services.runware.closed or services.closed:
            raise ConnectionError("the Runware client is closed")

    return {"database": database, "redis": redis, "runware": runware}


async def serve_webhook(
    settings: Settings, services: Services, dp: Dispatcher, bot: Bot, runner: JobRunner
) -> None:
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    url = settings.webhook_url + webhook_path(secret)
    url_key = hashlib.sha256(url.encode()).hexdigest()[:16]
    app = build_app(dp, bot, secret, readiness(services), dict([result_route(runner)]))

    async def point_telegram_here() -> None:
        try:
            await ensure_webhook(
                bot,
                url,
                secret,
                dp.resolve_used_update_types(),
                # replicas of one deploy (the same URL) race to set it: one does; a new URL
                # (a rotated secret, another host) is a new duty
                may_set=lambda: services.duties.once(f"set-webhook {url_key}", 60.0),
            )
        except TelegramAPIError as exc:
            raise StartupError(f"Telegram refused the webhook: {exc.message}") from None

    await serve(app, settings.webhook_listen, point_telegram_here)

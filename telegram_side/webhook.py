"""Webhook mode: Telegram POSTs each update to the bot (WEBHOOK_URL), so any number of replicas
behind a load balancer can share one token (long polling allows one consumer).

- The update is handled before the answer (aiogram's request handler, not in the background):
  a payment is recorded when Telegram hears 200, and a replica that dies mid-update leaves it
  unanswered, so Telegram delivers it again (to another replica).
- Every request must carry the secret (`X-Telegram-Bot-Api-Secret-Token`, checked in constant
  time by aiogram); the path carries a fingerprint of it, so a changed secret is a changed URL
  and the next deploy sets the webhook again instead of being refused forever.
- `ensure_webhook` compares `getWebhookInfo` first: replicas restarting one by one do not reset
  the webhook (nor drop pending updates), and only one of replicas starting together sets it.
- `/healthz`: the process answers. `/readyz`: the database, Redis and the Runware client answer
  (a load balancer sends updates only to a ready replica)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Seconds a stopping replica gives the updates it is handling (Telegram waits up to 60).
SHUTDOWN_GRACE = 10.0


def webhook_path(secret: str) -> str:
    """/telegram/<16 hex of the secret's SHA-256>: not the secret, but changes with it."""
    return "/telegram/" + hashlib.sha256(secret.encode()).hexdigest()[:16]


async def ensure_webhook(
    bot: Bot,
    url: str,
    secret: str,
    allowed_updates: list[str],
    *,
    may_set: Callable[[], Awaitable[bool]],
) -> bool:
    """Point Telegram at `url` unless it already points there with these update types; `may_set`
    lets one replica of those starting together do it. True when this call set it."""
    info = await bot.get_webhook_info()
    if info.url == url and sorted(info.allowed_updates or []) == sorted(allowed_updates):
        log.info("webhook already set; pending updates: %d", info.pending_update_count)
        return False
    if not await may_set():
        log.info("another replica sets the webhook")
        return False
    await bot.set_webhook(
        url, secret_token=secret, allowed_updates=allowed_updates, drop_pending_updates=False
    )
    log.info("webhook set (it pointed at %s)", "another URL" if info.url else "nothing")
    return True


def build_app(
    dp: Dispatcher,
    bot: Bot,
    secret: str,
    checks: Mapping[str, Check],
    posts: Mapping[str, Handler] | None = None,
) -> web.Application:
    """The aiohttp application: the update endpoint, /healthz, /readyz and `posts` (path ->
    handler: Runware's results). The Dispatcher's start-up and shutdown run with it."""
    app = web.Application()
    for path, handler in (posts or {}).items():
        app.router.add_post(path, handler)
    setup_application(app, dp, bot=bot)  # before the handler, which closes the session
    handler = SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token=secret)
    handler.register(app, path=webhook_path(secret))

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        failed: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), 5.0)
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                failed[name] = type(exc).__name__  # the kind only: messages may hold a URL
        status = 503 if failed else 200
        return web.json_response({"ready": not failed, "failed": failed}, status=status)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def parse_listen(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - a server listens on all


async def serve(
    app: web.Application, listen: str, on_listening: Callable[[], Awaitable[None]]
) -> None:
    """Listen until SIGTERM or SIGINT; `on_listening` runs once requests can arrive."""
    host, port = parse_listen(listen)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
    await runner.setup()  # the Dispatcher's start-up
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("listening for Telegram's webhook on %s:%d", host, port)
        await on_listening()
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()  # in-flight updates finish, then the Dispatcher's shutdown

"""Telegram-facing code: routers, keyboards, texts. Thin: parse, call one service, answer."""

from aiogram import Router

from handlers import start


def setup_routers() -> Router:
    """The whole router tree, built fresh for every Dispatcher (production and each test)."""
    root = Router(name="root")
    root.include_router(start.setup())
    return root

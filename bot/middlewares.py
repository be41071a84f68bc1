"""Middlewares: know the user (created on first contact) and speak their language before any
handler runs; hand the services to the handler that runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n

from services.users import Users


class UserMiddleware(BaseMiddleware):
    """Puts `user` (services.users.User) and `i18n` into the handler data and runs the handler
    in the user's language (the one stored, set from Telegram's on first contact, changed with
    /language). Updates without a human sender (channel posts, bots) pass through without a
    user, in the default language. One middleware, not aiogram's I18nMiddleware after ours:
    every middleware layer is paid on every update (bench/updates.py)."""

    def __init__(self, users: Users, i18n: I18n) -> None:
        self.users = users
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        locale = self.i18n.default_locale
        sender = data.get("event_from_user")
        if isinstance(sender, User) and not sender.is_bot:
            user, _ = await self.users.touch(sender.id, sender.username, sender.language_code)
            data["user"] = user
            locale = user.language
        data["i18n"] = self.i18n
        # What `with i18n.context(), i18n.use_locale(locale)` does, without two generator
        # context managers on every update.
        current = I18n.set_current(self.i18n)
        language = self.i18n.ctx_locale.set(locale)
        try:
            return await handler(event, data)
        finally:
            self.i18n.ctx_locale.reset(language)
            I18n.reset_current(current)


class ServicesMiddleware(BaseMiddleware):
    """An inner middleware: adds the services to the data of the one handler that runs, after
    the filters have chosen it."""

    def __init__(self, **services: Any) -> None:
        self.services = services

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data.update(self.services)
        return await handler(event, data)

"""Middlewares: know the user (created on first contact) and speak their language before any
handler runs; hand the services to the handler that runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from services.users import Users


class UserMiddleware(I18nMiddleware):
    """aiogram's I18nMiddleware whose locale is the user's: it knows the user (created on first
    contact, `user` in the handler data) and runs the handler in the language stored for them
    (set from Telegram's on first contact, changed with /language). Updates without a human
    sender (channel posts, bots) pass through without a user, in the default language."""

    def __init__(self, users: Users, i18n: I18n) -> None:
        super().__init__(i18n, middleware_key="")  # "": no extra key in the data
        self.users = users

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        sender = data.get("event_from_user")
        if not isinstance(sender, User) or sender.is_bot:
            return self.i18n.default_locale
        user, created = await self.users.touch(sender.id, sender.username, sender.language_code)
        data["user"] = user
        data["user_is_new"] = created  # this very update made them: a start link may refer
        return user.language


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

"""Update middlewares: know the user (created on first contact) before any handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from services.users import Users


class UserMiddleware(BaseMiddleware):
    """Puts `user` (services.users.User) into the handler data. Updates without a human sender
    (channel posts, bots) pass through without one."""

    def __init__(self, users: Users) -> None:
        self.users = users

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender = data.get("event_from_user")
        if isinstance(sender, User) and not sender.is_bot:
            user, _ = await self.users.touch(sender.id, sender.username, sender.language_code)
            data["user"] = user
        return await handler(event, data)

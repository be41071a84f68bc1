"""Factories for incoming updates."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from aiogram.types import Chat, Message, Update, User

_ids = itertools.count(1)


def user(user_id: int = 1001, language: str = "en", username: str | None = None) -> User:
    return User(
        id=user_id,
        is_bot=False,
        first_name=f"User{user_id}",
        username=username or f"user{user_id}",
        language_code=language,
    )


def message_update(text: str, from_user: User | None = None, **extra: Any) -> Update:
    from_user = from_user or user()
    return Update(
        update_id=next(_ids),
        message=Message(
            message_id=next(_ids),
            date=datetime.now(),
            chat=Chat(id=from_user.id, type="private"),
            from_user=from_user,
            text=text,
            **extra,
        ),
    )

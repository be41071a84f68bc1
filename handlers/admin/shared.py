"""What the admin commands share: usage lines, the target user, telling a user."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.render import fill
from services.errors import AmountError
from services.users import User, Users

log = logging.getLogger(__name__)


USAGE = {
    "topup": "/topup <user id | @username> <amount> [reason]",
    "debit": "/debit <user id | @username> <amount> [reason]",
    "user": "/user <user id | @username>",
    "refund": "/refund <job id>",
    "stats": "/stats",
    "models": "/models",
    "pause": "/pause",
    "resume": "/resume",
}


def usage(command: str, problem: str | None = None) -> str:
    line = fill(_("Usage: {usage}"), usage=USAGE[command])
    return f"{problem}\n{line}" if problem else line


def amount_problem(exc: AmountError) -> str:
    if exc.reason == "not_positive":
        return _("The amount must be a positive whole number.")
    if exc.reason == "too_large":
        return _("The amount is too large: at most {limit} at once.").format(limit=exc.limit)
    return _("The amount must be a whole number of tokens.")


def who(user: User) -> str:
    name = f"@{user.username}" if user.username else _("no username")
    return fill("{name} (id {id})", name=name, id=user.id)


async def tell_user(bot: Bot, i18n: I18n, user: User, render: Callable[[], str]) -> bool:
    """Send a text rendered in the user's own language. False if it could not go."""
    with i18n.context(), i18n.use_locale(user.language):  # context: also outside a handler
        rendered = render()
    try:
        await bot.send_message(user.id, rendered)
    except TelegramAPIError as exc:
        log.info("user %d not notified: %s", user.id, exc)
        return False
    return True


async def target_of(
    message: Message,
    command: CommandObject,
    users: Users,
    name: str,
    min_args: int,
    max_args: int | None,
) -> tuple[User, list[str]] | None:
    parts = (command.args or "").split(maxsplit=2 if max_args is None else max_args)
    if len(parts) < min_args or (max_args is not None and len(parts) > max_args):
        await message.answer(usage(name))
        return None
    target = await users.find(parts[0])
    if target is None:
        await message.answer(
            usage(name, fill(_("No user {ref} has talked to the bot."), ref=parts[0]))
        )
        return None
    return target, parts

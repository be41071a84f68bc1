"""The command menus Telegram shows: the public ones in English and Russian, the admins' in
their own chats."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault

log = logging.getLogger(__name__)

COMMANDS = {
    "en": [
        BotCommand(command="start", description="Main menu"),
        BotCommand(command="gallery", description="My videos"),
        BotCommand(command="balance", description="Balance and history"),
        BotCommand(command="language", description="Language"),
        BotCommand(command="settings", description="Settings: language, original quality"),
        BotCommand(command="buy", description="Buy tokens with Stars"),
        BotCommand(command="promo", description="Use a promo code: /promo <code>"),
        BotCommand(command="invite", description="Invite friends, earn tokens"),
        BotCommand(command="help", description="How it works"),
        BotCommand(command="cancel", description="Stop what you are doing"),
        BotCommand(command="terms", description="Terms of service"),
        BotCommand(command="paysupport", description="Help with payments"),
    ],
    "ru": [
        BotCommand(command="start", description="Главное меню"),
        BotCommand(command="gallery", description="Мои видео"),
        BotCommand(command="balance", description="Баланс и история"),
        BotCommand(command="language", description="Язык"),
        BotCommand(command="settings", description="Настройки: язык, исходное качество"),
        BotCommand(command="buy", description="Купить токены за звёзды"),
        BotCommand(command="promo", description="Промокод: /promo <код>"),
        BotCommand(command="invite", description="Пригласить друзей и получить токены"),
        BotCommand(command="help", description="Как это работает"),
        BotCommand(command="cancel", description="Остановить текущее действие"),
        BotCommand(command="terms", description="Условия использования"),
        BotCommand(command="paysupport", description="Помощь с оплатой"),
    ],
}


ADMIN_COMMANDS = [
    BotCommand(command="stats", description="Figures"),
    BotCommand(command="models", description="Models: live check, prices, margins"),
    BotCommand(command="user", description="A user: /user <id|@name>"),
    BotCommand(command="topup", description="Add tokens: /topup <user> <amount> [reason]"),
    BotCommand(command="debit", description="Take tokens: /debit <user> <amount> [reason]"),
    BotCommand(command="refund", description="Refund a job: /refund <job id>"),
    BotCommand(command="refundstars", description="Refund Stars: /refundstars <charge id>"),
    BotCommand(command="reconcile", description="Credit payments missing from the database"),
    BotCommand(command="pause", description="Stop accepting generations"),
    BotCommand(command="resume", description="Accept generations again"),
    BotCommand(command="promo", description="Promo codes: /promo create|list|off"),
    BotCommand(command="broadcast", description="Reply to a message: send it to users"),
    BotCommand(command="export", description="Ledger and jobs as CSV: /export [days]"),
]


async def register_commands(bot: Bot, admin_ids: frozenset[int] = frozenset()) -> None:
    """Public commands for everyone (en, ru); admin commands only in the admins' own chats."""
    for admin in sorted(admin_ids):
        try:
            await bot.set_my_commands(
                COMMANDS["en"] + ADMIN_COMMANDS, scope=BotCommandScopeChat(chat_id=admin)
            )
        except TelegramAPIError as exc:  # e.g. the admin has not started the bot yet
            log.warning("admin commands not registered for %d: %s", admin, exc)
    try:
        await bot.set_my_commands(COMMANDS["en"], scope=BotCommandScopeDefault())
        for language in ("ru", "uk", "be", "kk"):  # the clients the bot answers in Russian
            await bot.set_my_commands(
                COMMANDS["ru"], scope=BotCommandScopeDefault(), language_code=language
            )
    except TelegramAPIError as exc:  # the bot works without a command menu; say so, go on
        log.warning("could not register the command list: %s", exc)

"""Builds the long-lived objects once, hands them to the Dispatcher, closes them on shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeDefault

from bot.settings import Settings
from handlers import setup_routers
from services.billing import Billing
from services.catalog import CATALOG_PATH, Catalog, load_catalog
from services.db import Database
from services.migrations import migrate
from services.runware import RunwareClient
from services.users import Users

log = logging.getLogger(__name__)

COMMANDS = {
    "en": [BotCommand(command="start", description="Main menu")],
    "ru": [BotCommand(command="start", description="Главное меню")],
}


@dataclass
class Services:
    """Everything the handlers may be given, made once at start-up."""

    settings: Settings
    db: Database
    catalog: Catalog
    runware: RunwareClient
    billing: Billing
    users: Users

    closed: bool = False

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.runware.close()
        await self.db.close()


async def build_services(settings: Settings) -> Services:
    catalog = load_catalog(settings.catalog_path or CATALOG_PATH)
    db = Database(settings.database_path)
    await db.connect()
    try:
        await migrate(db)
    except BaseException:
        await db.close()
        raise
    runware = RunwareClient(settings.runware_api_key.get_secret_value(), settings.runware_api_url)
    billing = Billing(db, settings.max_tokens_per_operation)
    users = Users(db, billing, settings.welcome_bonus)
    return Services(
        settings=settings, db=db, catalog=catalog, runware=runware, billing=billing, users=users
    )


def build_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher(
        settings=services.settings,
        db=services.db,
        catalog=services.catalog,
        runware=services.runware,
        billing=services.billing,
        users=services.users,
    )
    dp.include_router(setup_routers())
    return dp


async def register_commands(bot: Bot) -> None:
    try:
        await bot.set_my_commands(COMMANDS["en"], scope=BotCommandScopeDefault())
        await bot.set_my_commands(
            COMMANDS["ru"], scope=BotCommandScopeDefault(), language_code="ru"
        )
    except TelegramAPIError as exc:  # the bot works without a command menu; say so, go on
        log.warning("could not register the command list: %s", exc)


async def run(settings: Settings) -> None:
    services = await build_services(settings)
    bot = build_bot(settings)
    dp = build_dispatcher(services)

    async def on_startup() -> None:
        await register_commands(bot)
        log.info("bot started; long polling")

    async def on_shutdown() -> None:
        await services.close()
        log.info("bot stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    try:
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await services.close()

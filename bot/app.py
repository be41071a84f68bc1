"""Builds the long-lived objects once, hands them to the Dispatcher, closes them on shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeDefault

from bot.settings import Settings
from bot.telegram_retry import RetryMiddleware
from handlers import setup_routers
from handlers.delivery import MB, TelegramMessenger
from services.billing import Billing
from services.catalog import CATALOG_PATH, Catalog, load_catalog
from services.db import Database
from services.jobs import JobService
from services.migrations import migrate
from services.runner import JobRunner, RunnerOptions
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
    jobs: JobService
    downloads: httpx.AsyncClient
    closed: bool = False

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.downloads.aclose()
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
    jobs = JobService(db, billing, catalog, max_active_per_user=settings.max_active_jobs_per_user)
    downloads = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0), follow_redirects=True)
    return Services(settings, db, catalog, runware, billing, users, jobs, downloads)


def build_bot(settings: Settings) -> Bot:
    session = AiohttpSession()
    if settings.telegram_api_url:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(
                settings.telegram_api_url, is_local=settings.telegram_api_local
            )
        )
    session.middleware(RetryMiddleware())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_runner(services: Services, bot: Bot) -> JobRunner:
    settings = services.settings
    messenger = TelegramMessenger(
        bot,
        services.users,
        services.catalog,
        settings.admin_ids,
        services.downloads,
        upload_limit=(2000 if settings.telegram_api_local else 50) * MB,
    )
    options = RunnerOptions(
        max_job_age=settings.job_max_age_minutes * 60, lease=settings.job_lease_seconds
    )
    return JobRunner(services.jobs, services.runware, services.catalog, messenger, options)


def build_dispatcher(services: Services) -> Dispatcher:
    dp = Dispatcher(
        settings=services.settings,
        db=services.db,
        catalog=services.catalog,
        runware=services.runware,
        billing=services.billing,
        users=services.users,
        jobs=services.jobs,
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
    runner = build_runner(services, bot)

    async def on_startup() -> None:
        await register_commands(bot)
        runner.start()
        log.info("bot started; long polling")

    async def on_shutdown() -> None:
        await runner.stop()
        await services.close()
        log.info("bot stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    try:
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
    finally:
        await services.close()

"""Builds the long-lived objects once, hands them to the Dispatcher, closes them on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.fsm.strategy import FSMStrategy
from aiogram.utils.i18n import I18n
from redis.asyncio import Redis

from bot.commands import register_commands
from bot.errors import StartupError
from bot.fsm_storage import SQLiteStorage
from bot.loop_monitor import LoopLagMonitor
from bot.middlewares import ServicesMiddleware, UserMiddleware
from bot.redis_state import connect_redis, redis_fsm
from bot.result_hook import RESULT_PATH
from bot.settings import Settings
from bot.telegram_retry import RetryMiddleware
from bot.webhook_mode import leave_webhook, serve_webhook
from handlers import setup_routers
from handlers.admin.operations import tell_low_margins
from handlers.cards import Cards
from handlers.i18n import build_i18n
from services.admin import Admin
from services.billing import Billing
from services.broadcasts import Broadcasts
from services.cards import CardService
from services.catalog import CATALOG_PATH, Catalog, load_catalog
from services.catalog_check import CatalogChecker
from services.db import Database, open_database
from services.drafts import Drafts
from services.duties import Duties
from services.editing import EditMessenger, EditRunner, EditService, FFmpeg, Prices
from services.exports import Exports
from services.ideas import Ideas, load_ideas
from services.jobs import JobService
from services.margins import MarginWatch
from services.migrations import migrate
from services.payments import Payments
from services.promos import Promos
from services.referrals import Referrals
from services.runner import JobRunner, RunnerOptions
from services.runware import RunwareClient, RunwareOptions
from services.translate import LibreTranslate, PromptTranslator
from services.users import Users
from telegram_side.broadcaster import BroadcastRunner
from telegram_side.budget import BudgetMiddleware, LocalBudget, RedisBudget, SendBudget
from telegram_side.messenger import MB, TelegramMessenger
from telegram_side.sources import BotVideoFetcher, VideoSources
from telegram_side.stars import reconcile

log = logging.getLogger(__name__)

# Replicas starting within this many seconds of each other reconcile Stars payments once.
RECONCILE_PERIOD = 120.0


@dataclass
class Services:
    """Everything the handlers may be given, made once at start-up."""

    settings: Settings
    db: Database
    catalog: Catalog
    runware: RunwareClient
    checker: CatalogChecker
    billing: Billing
    users: Users
    jobs: JobService
    drafts: Drafts
    admin: Admin
    payments: Payments
    i18n: I18n
    downloads: httpx.AsyncClient  # video downloads and the translator
    translator: PromptTranslator
    ideas: Ideas
    cards: Cards
    schemas: httpx.AsyncClient  # Runware's schema service
    duties: Duties  # what one replica does for the fleet
    edits: EditService
    sources: VideoSources  # where edits get their source videos
    ffmpeg: FFmpeg
    promos: Promos
    referrals: Referrals
    broadcasts: Broadcasts
    exports: Exports
    margins: MarginWatch
    redis: Redis | None = None  # REDIS_URL: what the replicas share besides the database
    closed: bool = False

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        await self.downloads.aclose()
        await self.schemas.aclose()
        await self.runware.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.db.close()


def build_runware(settings: Settings) -> RunwareClient:
    return RunwareClient(
        settings.runware_api_key.get_secret_value(),
        settings.runware_api_url,
        RunwareOptions(
            timeout=settings.runware_timeout_seconds,
            max_attempts=settings.runware_max_attempts,
            max_retry_seconds=max(60.0, settings.runware_timeout_seconds * 2),
        ),
    )


def build_translator(settings: Settings, http: httpx.AsyncClient) -> PromptTranslator:
    """LibreTranslate when TRANSLATE_API_URL is set; otherwise prompts go as written."""
    if not settings.translate_api_url:
        return PromptTranslator(None)
    key = settings.translate_api_key.get_secret_value() if settings.translate_api_key else None
    return PromptTranslator(LibreTranslate(settings.translate_api_url, key, http))


async def build_services(settings: Settings) -> Services:
    catalog = load_catalog(settings.catalog_path or CATALOG_PATH)
    redis = (
        await connect_redis(settings.redis_url.get_secret_value()) if settings.redis_url else None
    )
    try:
        db, _ = await migrated_database(settings)
    except BaseException:
        if redis is not None:
            await redis.aclose()
        raise
    runware = build_runware(settings)
    schemas = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=True)
    duties = Duties(db)
    checker = CatalogChecker(
        catalog,
        db,
        schemas,
        settings.runware_schemas_url,
        runware=runware,
        dry_run=settings.runware_dry_run_check,
        duties=duties,
    )
    await checker.load()  # the last known state: menus are right before the first check
    billing = Billing(db, settings.max_tokens_per_operation)
    # With several replicas a user's language or settings may change on another one: no
    # per-process copy then (one indexed read per update instead).
    users = Users(db, billing, settings.welcome_bonus, remember=settings.redis_url is None)
    jobs = JobService(db, billing, catalog, max_active_per_user=settings.max_active_jobs_per_user)
    drafts = Drafts(db)
    await drafts.cleanup()
    downloads = httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=10.0), follow_redirects=True)
    translator = build_translator(settings, downloads)
    upload_limit = (2000 if settings.telegram_api_local else 50) * MB
    edits = EditService(
        db,
        billing,
        jobs,
        prices=Prices(trim=settings.edit_trim_price, join=settings.edit_join_price),
    )
    sources = VideoSources(
        settings.video_cache_dir or settings.database_path.resolve().parent / "videos",
        settings.video_cache_days,
        downloads,
        max_bytes=upload_limit,
        telegram_limit=upload_limit if settings.telegram_api_local else 20 * MB,
    )
    await sources.cleanup()
    ffmpeg = FFmpeg(time_limit=settings.edit_time_limit_seconds, max_bytes=upload_limit)
    referrals = Referrals(db, billing, settings.referral_bonus_percent)
    admin = Admin(db, billing)
    return Services(
        settings,
        db,
        catalog,
        runware,
        checker,
        billing,
        users,
        jobs,
        drafts,
        admin,
        Payments(db, billing, settings.token_packages, referrals=referrals),
        build_i18n(),
        downloads,
        translator,
        load_ideas(),
        Cards(CardService(catalog, billing, drafts, users, translator, jobs)),
        schemas,
        duties,
        edits,
        sources,
        ffmpeg,
        Promos(db, billing),
        referrals,
        Broadcasts(db),
        Exports(db),
        MarginWatch(db, admin, catalog.pricing.usd_per_token, settings.min_margin_percent),
        redis,
    )


def build_budget(services: Services) -> SendBudget:
    """The send budget: the fleet's in Redis when replicas share one, else this process's."""
    rate = services.settings.telegram_sends_per_second
    return RedisBudget(services.redis, rate) if services.redis else LocalBudget(rate)


def build_bot(settings: Settings, budget: SendBudget | None = None) -> Bot:
    session = AiohttpSession()
    if settings.telegram_api_url:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(
                settings.telegram_api_url, is_local=settings.telegram_api_local
            )
        )
    session.middleware(RetryMiddleware())  # outside the budget: each attempt takes a slot
    if budget is not None:
        session.middleware(BudgetMiddleware(budget))
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode="HTML"),
    )


def build_runner(services: Services, bot: Bot, budget: SendBudget | None = None) -> JobRunner:
    settings = services.settings
    messenger = TelegramMessenger(
        bot,
        services.i18n,
        services.users,
        services.catalog,
        settings.admin_ids,
        services.downloads,
        upload_limit=(2000 if settings.telegram_api_local else 50) * MB,
        budget=budget,
        sources=services.sources,
    )
    options = RunnerOptions(
        max_job_age=settings.job_max_age_minutes * 60,
        lease=settings.job_lease_seconds,
        first_poll=settings.poll_first_seconds,
        max_poll_interval=max(settings.poll_first_seconds, settings.poll_max_seconds),
        probe_interval=settings.probe_interval_seconds,
        submit_retry_delay=settings.submit_retry_seconds,
        max_delivery_attempts=settings.delivery_attempts,
        delivery_retry_delay=settings.delivery_retry_seconds,
        result_ttl=int(settings.result_ttl_hours * 3600),
        # longer than the slowest poll (every attempt timing out): then another replica polls
        poll_hold=settings.runware_timeout_seconds * settings.runware_max_attempts + 5,
        result_url=settings.webhook_url + RESULT_PATH if settings.webhook_url else None,
    )
    services.checker.alert = messenger.alert_admins
    return JobRunner(
        services.jobs,
        services.runware,
        services.catalog,
        messenger,
        options,
        checker=services.checker,
        duties=services.duties,
    )


def build_edit_runner(services: Services, bot: Bot, messenger: EditMessenger) -> EditRunner:
    return EditRunner(
        services.edits,
        services.ffmpeg,
        BotVideoFetcher(services.sources, bot),
        messenger,
        concurrency=services.settings.edit_concurrency,
        lease=services.settings.edit_time_limit_seconds * 3,
    )


def conversation_state(services: Services) -> tuple[BaseStorage, BaseEventIsolation]:
    """Where wizards are kept and how one user's updates are ordered: in Redis when the
    replicas share it (REDIS_URL), else in this process and its database."""
    if services.settings.redis_url is not None:
        return redis_fsm(services.settings.redis_url.get_secret_value())
    return SQLiteStorage(services.db), SimpleEventIsolation()


def build_dispatcher(services: Services) -> Dispatcher:
    """The production Dispatcher; tests build theirs here too (with a recording session)."""
    storage, isolation = conversation_state(services)
    dp = Dispatcher(
        storage=storage,
        fsm_strategy=FSMStrategy.USER_IN_CHAT,
        events_isolation=isolation,
    )
    dp.update.outer_middleware(UserMiddleware(services.users, services.i18n))
    # What handlers may ask for by name (catalog: Catalog, ...), handed to the handler that
    # runs rather than put in the Dispatcher's workflow data: aiogram copies that dict at
    # every router and filter an update passes, and eleven more keys cost 3-4% of the
    # throughput (bench/updates.py).
    provide = ServicesMiddleware(
        catalog=services.catalog,
        billing=services.billing,
        users=services.users,
        jobs=services.jobs,
        drafts=services.drafts,
        admin=services.admin,
        checker=services.checker,
        payments=services.payments,
        admin_ids=services.settings.admin_ids,
        translator=services.translator,
        ideas=services.ideas,
        cards=services.cards,
        edits=services.edits,
        sources=services.sources,
        ffmpeg=services.ffmpeg,
        promos=services.promos,
        referrals=services.referrals,
        broadcasts=services.broadcasts,
        exports=services.exports,
    )
    for observer in (dp.message, dp.callback_query, dp.pre_checkout_query):
        observer.middleware(provide)
    setup_routers(dp, services.settings.admin_ids)
    return dp


async def reach_telegram(
    bot: Bot,
    *,
    max_wait: float = 60.0,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> str:
    """getMe until Telegram answers: a network blip at start is ridden out (one log line per
    attempt, waits doubling up to `max_wait`); a refused token stops start-up at once."""
    delay = 1.0
    attempt = 1
    while True:
        try:
            me = await bot.me()
        except TelegramUnauthorizedError:
            raise StartupError(
                "Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather"
            ) from None
        except TelegramNotFound:
            raise StartupError(
                "Telegram does not know BOT_TOKEN (404 Not Found): check the token from "
                "@BotFather and TELEGRAM_API_URL"
            ) from None
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning(
                "Telegram is not reachable (attempt %d: %s); trying again in %.0f s",
                attempt,
                type(exc).__name__,
                delay,
            )
            await sleep(delay)
            delay = min(max_wait, delay * 2)
            attempt += 1
            continue
        return me.username or str(me.id)


MARGIN_CHECK_PERIOD = 3600.0


async def watch_margins(services: Services, bot: Bot, stop: asyncio.Event) -> None:
    """Hourly, on one replica of the fleet: models whose margin over the last day fell below
    MIN_MARGIN_PERCENT, told to the admins once (services.margins)."""
    settings = services.settings
    while not stop.is_set():
        try:
            if await services.duties.once("margin-check", MARGIN_CHECK_PERIOD):
                lows = await services.margins.check()
                if lows:
                    await tell_low_margins(
                        bot,
                        services.i18n,
                        services.users,
                        settings.admin_ids,
                        services.catalog,
                        settings.min_margin_percent,
                        lows,
                    )
        except Exception:  # a database or Telegram blip: the next hour tries again
            log.exception("margin check failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), MARGIN_CHECK_PERIOD / 4)


async def migrated_database(settings: Settings) -> tuple[Database, list[int]]:
    """The database (PostgreSQL at DATABASE_URL, else the SQLite file), connected and brought
    up to date; the versions applied now. One that does not answer is a StartupError."""
    url = settings.database_url.get_secret_value() if settings.database_url else None
    db = open_database(url, settings.database_path)
    try:
        await db.connect()
        return db, await migrate(db)
    except BaseException as exc:
        await db.close()
        if isinstance(exc, ConnectionError):  # worded without the URL by the database module
            raise StartupError(str(exc)) from None
        raise


async def migrate_only(settings: Settings) -> None:
    """The migration step of a deploy: the database brought up to date, nothing else started."""
    db, applied = await migrated_database(settings)
    await db.close()
    log.info("database up to date (%d migrations applied now)", len(applied))


async def run(settings: Settings) -> None:
    services = await build_services(settings)
    budget = build_budget(services)
    bot = build_bot(settings, budget)
    try:
        name = await reach_telegram(bot)
    except BaseException:
        await bot.session.close()
        await services.close()
        raise
    log.info("Telegram reached as @%s", name)
    dp = build_dispatcher(services)
    runner = build_runner(services, bot, budget)
    assert isinstance(runner.messenger, TelegramMessenger)
    editor = build_edit_runner(services, bot, runner.messenger)
    broadcaster = BroadcastRunner(
        services.broadcasts,
        bot,
        budget,
        services.i18n,
        share=settings.broadcast_share_percent / 100,
        lease=settings.job_lease_seconds,  # after a crash, when another run takes it over
    )

    monitor = LoopLagMonitor(settings.loop_lag_report) if settings.loop_lag_report else None
    stop_checks = asyncio.Event()
    background: set[asyncio.Task[None]] = set()

    async def on_startup() -> None:
        if monitor is not None:
            monitor.start()
        if await services.duties.once("commands", RECONCILE_PERIOD):  # once for the fleet
            await register_commands(bot, settings.admin_ids)
        try:  # payments Telegram confirmed while the bot was down; once for replicas starting
            if await services.duties.once("stars-reconcile", RECONCILE_PERIOD):  # together
                await reconcile(bot, services.payments)
        except AiogramError as exc:  # the bot serves users without it; an admin can /reconcile
            log.warning("start-up reconciliation of Stars payments failed: %s", exc)
        runner.start()
        editor.start()
        broadcaster.start()
        check_task = asyncio.create_task(
            services.checker.run(settings.catalog_check_hours * 3600, stop_checks),
            name="catalog-check",
        )  # in the background: the first answer to users never waits for Runware's schemas
        background.add(check_task)
        background.add(
            asyncio.create_task(watch_margins(services, bot, stop_checks), name="margins")
        )
        log.info("bot started; %s", "webhook" if settings.webhook_url else "long polling")

    async def on_shutdown() -> None:
        stop_checks.set()
        await asyncio.gather(*background, return_exceptions=True)
        await runner.stop()
        await editor.stop()
        await broadcaster.stop()
        await dp.storage.close()  # the FSM writes behind: flush before the database closes
        await services.close()
        if monitor is not None:
            await monitor.stop()
        log.info("bot stopped")

    dp.startup.register(on_startup)
    dp.shutdown.register(on_shutdown)
    try:
        if settings.webhook_url is None:
            await leave_webhook(bot)
            await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
        else:
            await serve_webhook(settings, services, dp, bot, runner)
    finally:
        await services.close()
        await bot.session.close()

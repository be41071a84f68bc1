"""/start, /help, /balance, /language, /cancel, the main menu, and what is left over."""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import gallery, invite, promo, screens, wizard
from handlers.callbacks import Language, Menu, MenuAction, Setting
from handlers.filters import IsCommand, Tapped, TappedAny
from handlers.payments import packages_keyboard
from handlers.render import fill
from handlers.states import WizardData
from handlers.ui import outdated, show
from services.billing import Billing, Kind, LedgerEntry
from services.catalog import Catalog, Mode
from services.drafts import Drafts
from services.jobs import JobService
from services.payments import Payments
from services.promos import Promos
from services.referrals import LINK_PREFIX as REF_PREFIX
from services.referrals import Referrals
from services.users import LANGUAGES, User, Users


def entry_text(entry: LedgerEntry) -> str:
    when = f"{entry.created_at[8:10]}.{entry.created_at[5:7]} {entry.created_at[11:16]}"
    amount = f"+{entry.amount}" if entry.amount > 0 else str(entry.amount)
    words = {
        Kind.ADMIN_TOPUP: _("top-up by an admin"),
        Kind.ADMIN_DEBIT: _("correction by an admin"),
        Kind.PURCHASE: _("purchase"),
        Kind.PURCHASE_REFUND: _("purchase refunded"),
        Kind.JOB_CHARGE: _("video #{job}").format(job=entry.job_id),
        Kind.JOB_REFUND: _("refund for video #{job}").format(job=entry.job_id),
        Kind.BONUS: _("welcome bonus"),
    }[entry.kind]
    if entry.reason and entry.kind in (Kind.ADMIN_TOPUP, Kind.ADMIN_DEBIT):
        words = fill("{words} ({reason})", words=words, reason=entry.reason)  # an admin's words
    return f"{when}  <b>{amount}</b>  {words}"


async def balance_screen(
    billing: Billing, payments: Payments, user: User
) -> tuple[str, InlineKeyboardMarkup]:
    balance = await billing.balance(user.id)
    lines = [_("💰 Your balance: <b>{balance}</b>").format(balance=screens.tokens(balance))]
    history = await billing.history(user.id, limit=5)
    if history:
        lines += ["", _("Latest:")] + [entry_text(e) for e in history]
    lines += ["", _("Top up with Telegram Stars:")]
    return "\n".join(lines), packages_keyboard(payments)


async def cmd_start(
    message: Message,
    state: FSMContext,
    billing: Billing,
    promos: Promos,
    referrals: Referrals,
    users: Users,
    bot: Bot,
    i18n: I18n,
    user: User,
    command: CommandObject | None = None,
    user_is_new: bool = False,
) -> None:
    """The greeting; a link's payload "promo-<CODE>" redeems the code first, "ref-<id>" makes a
    new user the inviter's."""
    await state.clear()
    payload = (command.args or "") if command else ""
    if payload.startswith(promo.LINK_PREFIX):
        await promo.redeem(message, promos, user, payload.removeprefix(promo.LINK_PREFIX))
    elif payload.startswith(REF_PREFIX):
        await invite.follow_link(
            message, payload, referrals, users, bot, i18n, user, new=user_is_new
        )
    name = message.from_user.first_name if message.from_user else ""
    await message.answer(
        screens.greeting(name, await billing.balance(user.id)), reply_markup=screens.main_menu()
    )


async def cmd_help(message: Message) -> None:
    await message.answer(screens.help_text(), reply_markup=screens.home_button())


async def cmd_balance(message: Message, billing: Billing, payments: Payments, user: User) -> None:
    text, markup = await balance_screen(billing, payments, user)
    await message.answer(text, reply_markup=markup)


async def cmd_language(message: Message) -> None:
    await message.answer(_("Choose your language:"), reply_markup=screens.language_menu())


async def cmd_settings(message: Message, user: User) -> None:
    text, markup = screens.settings_screen(user.language, user.send_file, user.send_link)
    await message.answer(text, reply_markup=markup)


async def toggle_setting(
    callback: CallbackQuery, callback_data: Setting, users: Users, user: User
) -> None:
    """Original quality switches, remembered per user; new jobs take them."""
    if callback_data.name not in ("file", "link"):
        await outdated(callback)
        return
    send_file = user.send_file != (callback_data.name == "file")
    send_link = user.send_link != (callback_data.name == "link")
    await users.set_delivery(user.id, send_file=send_file, send_link=send_link)
    await callback.answer(_("Saved. New videos follow it."))
    await show(callback, *screens.settings_screen(user.language, send_file, send_link))


async def cmd_cancel(message: Message, state: FSMContext, drafts: Drafts, user: User) -> None:
    if await state.get_state() is None:
        await message.answer(
            _("Nothing to cancel. What shall we make?"), reply_markup=screens.main_menu()
        )
        return
    await wizard.cancel_wizard(message, state, drafts, user)


async def set_language(
    callback: CallbackQuery, callback_data: Language, users: Users, user: User, i18n: I18n
) -> None:
    if callback_data.code not in LANGUAGES:
        await outdated(callback)
        return
    await users.set_language(user.id, callback_data.code)
    i18n.current_locale = callback_data.code
    await callback.answer(
        _("Language: English") if callback_data.code == "en" else _("Language: Russian")
    )
    await show(callback, _("Done. What shall we make?"), screens.main_menu())


async def menu(
    callback: CallbackQuery,
    callback_data: Menu,
    state: FSMContext,
    catalog: Catalog,
    billing: Billing,
    payments: Payments,
    jobs: JobService,
    user: User,
) -> None:
    action = callback_data.action
    if action in (MenuAction.T2V, MenuAction.I2V):
        await callback.answer()
        mode = Mode(action.value)
        data = await wizard.with_recent(WizardData(mode=mode), jobs, user)
        await wizard.begin(callback, state, catalog, mode, data)
        return
    await callback.answer()
    if action is MenuAction.VIDEOS:
        await gallery.show_page(callback, jobs, catalog, user, page=0)
    elif action is MenuAction.BALANCE:
        text, markup = await balance_screen(billing, payments, user)
        await show(callback, text, markup)
    elif action is MenuAction.HELP:
        await show(callback, screens.help_text(), screens.home_button())
    elif action is MenuAction.LANGUAGE:
        await show(callback, _("Choose your language:"), screens.language_menu())
    elif action is MenuAction.SETTINGS:
        await show(
            callback, *screens.settings_screen(user.language, user.send_file, user.send_link)
        )
    else:
        await state.clear()
        name = callback.from_user.first_name
        await show(
            callback, screens.greeting(name, await billing.balance(user.id)), screens.main_menu()
        )


async def unknown_command(message: Message) -> None:
    await message.answer(_("I don't know this command. /help shows what I can do."))


async def anything_else(message: Message) -> None:
    await message.answer(_("I can't use this here. /start opens the menu."))


async def group_start(message: Message) -> None:
    await message.answer(_("I make videos in a private chat: open me and press Start."))


async def ignore(message: Message) -> None:
    """Outside private chats: handled by doing nothing."""


async def ignore_tap(callback: CallbackQuery) -> None:
    """Outside private chats: the spinner stops, nothing else happens."""
    await callback.answer()


def setup_commands() -> Router:
    router = Router(name="commands")
    router.message.filter(IsCommand())
    router.callback_query.filter(TappedAny(Language, Menu, Setting))
    router.message.register(cmd_start, CommandStart())
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_balance, Command("balance"))
    router.message.register(cmd_language, Command("language"))
    router.message.register(cmd_settings, Command("settings"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.message.register(gallery.cmd_gallery, Command("gallery"))
    router.callback_query.register(set_language, Tapped(Language))
    router.callback_query.register(toggle_setting, Tapped(Setting))
    router.callback_query.register(menu, Tapped(Menu))
    return router


def setup_fallback() -> Router:
    router = Router(name="fallback")
    # Any command no router above took: the same reply for everyone, in every state (the
    # wizard's states take any text, but never a command).
    router.message.register(unknown_command, Command(re.compile(r".+")))
    router.message.register(anything_else)
    router.callback_query.register(outdated)  # never leave a button spinning
    return router

"""Buying tokens for Telegram Stars: packages, invoices, pre-checkout, successful payments,
/paysupport and /terms, and the admins' /refundstars and /reconcile."""

from __future__ import annotations

import logging
from functools import cache

from aiogram import Bot, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject, Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers import invite
from handlers.callbacks import Menu, MenuAction
from handlers.filters import CommandOrPayment, Tapped
from handlers.i18n import LOCALES_DIR
from handlers.keyboard import Keyboard
from handlers.render import escape, fill
from handlers.replies import domain_error_text
from handlers.screens import tokens
from services.errors import (
    AlreadyRefunded,
    CheckoutRefused,
    DomainError,
    PaymentNotFound,
    StarsRefundRefused,
    TokensSpent,
)
from services.payments import Package, Payments, make_payload
from services.users import User, Users
from telegram_side import stars

log = logging.getLogger(__name__)


class Buy(CallbackData, prefix="b"):
    tokens: int


class HasSuccessfulPayment(Filter):
    async def __call__(self, message: Message) -> bool:
        return message.successful_payment is not None


@cache
def _text_file(name: str, language: str) -> str:
    for lang in (language, "en"):
        path = LOCALES_DIR / lang / f"{name}.txt"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
    raise FileNotFoundError(f"{name}.txt")


def package_label(package: Package) -> str:
    return _("{tokens} for {stars} ⭐").format(tokens=tokens(package.tokens), stars=package.stars)


def packages_keyboard(payments: Payments) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for package in payments.packages:
        kb.button(text=package_label(package), callback_data=Buy(tokens=package.tokens))
    kb.button(text=_("🏠 Menu"), callback_data=Menu(action=MenuAction.HOME))
    kb.adjust(1)
    return kb.as_markup()


def buy_text() -> str:
    return _(
        "💫 <b>Buy tokens with Telegram Stars</b>\n"
        "Choose a package. Tokens arrive as soon as the payment goes through.\n"
        "/terms · /paysupport"
    )


async def cmd_buy(message: Message, payments: Payments) -> None:
    await message.answer(buy_text(), reply_markup=packages_keyboard(payments))


async def on_buy(
    callback: CallbackQuery, callback_data: Buy, payments: Payments, bot: Bot, user: User
) -> None:
    package = payments.package(callback_data.tokens)
    if package is None:
        await callback.answer(_("This package is no longer offered."), show_alert=True)
        return
    await callback.answer()
    await bot.send_invoice(
        chat_id=user.id,
        title=_("{tokens} for AI videos").format(tokens=tokens(package.tokens)),
        description=_("{tokens} to spend on AI video generation in this bot.").format(
            tokens=tokens(package.tokens)
        ),
        payload=make_payload(package, user.id),
        currency="XTR",
        prices=[LabeledPrice(label=tokens(package.tokens), amount=package.stars)],
        provider_token="",
    )


def refusal_text(reason: str) -> str:
    texts = {
        "not_ours": _("This invoice is not from this bot."),
        "currency": _("This invoice is not in Telegram Stars."),
        "unknown_package": _("This package is no longer offered. Please open /buy again."),
        "amount": _("The price has changed. Please open /buy again."),
        "payer": _("This invoice was made for another user. Please open /buy yourself."),
    }
    return texts[reason]


async def on_pre_checkout(query: PreCheckoutQuery, payments: Payments) -> None:
    """Answered at once from the payload alone (Telegram allows 10 s)."""
    try:
        payments.check_checkout(
            query.invoice_payload, query.currency, query.total_amount, query.from_user.id
        )
    except CheckoutRefused as exc:
        log.warning("pre-checkout %s refused: %s", query.id, exc.reason)
        await query.answer(ok=False, error_message=refusal_text(exc.reason))
        return
    await query.answer(ok=True)


async def on_successful_payment(
    message: Message,
    payments: Payments,
    users: Users,
    bot: Bot,
    i18n: I18n,
    admin_ids: frozenset[int],
    user: User,
) -> None:
    paid = message.successful_payment
    assert paid is not None
    # Recorded first, before anything that could fail: the money is already taken.
    recorded = await payments.record(
        paid.telegram_payment_charge_id, user.id, paid.invoice_payload, paid.total_amount
    )
    if not recorded.applied:
        log.info("payment %s seen before; nothing credited", paid.telegram_payment_charge_id)
        return
    if recorded.tokens == 0:
        await message.answer(
            _(
                "Thank you! We could not match this payment to a package; the admins have been "
                "told and will sort it out. /paysupport"
            )
        )
        await alert(
            bot,
            admin_ids,
            f"Unmatched Stars payment {paid.telegram_payment_charge_id} "
            f"from {user.id}: payload {paid.invoice_payload!r}",
        )
        return
    text = _("✅ Payment received: {tokens} added. Balance: {balance}.").format(
        tokens=tokens(recorded.tokens), balance=tokens(recorded.balance)
    )
    if recorded.referral is not None:
        text += "\n" + _("🤝 The friend who invited you got a thank-you bonus.")
    await message.answer(text)
    if recorded.referral is not None:
        buyer = message.from_user.first_name if message.from_user else ""
        await invite.tell_bonus(recorded.referral, buyer, users, bot, i18n, refunded=False)


async def alert(bot: Bot, admin_ids: frozenset[int], text: str) -> None:
    for admin in admin_ids:
        try:
            await bot.send_message(admin, escape(text))
        except TelegramAPIError as exc:
            log.warning("admin %d not alerted: %s", admin, exc)


async def cmd_terms(message: Message, user: User) -> None:
    await message.answer(_text_file("terms", user.language))


async def cmd_paysupport(message: Message, user: User) -> None:
    await message.answer(_text_file("paysupport", user.language))


# --- admins --------------------------------------------------------------------------------------


def refund_problem_text(exc: Exception, charge: str) -> str:
    """Why /refundstars did nothing (or may have done it: Telegram did not answer)."""
    if isinstance(exc, PaymentNotFound):
        return fill(_("No payment {charge}."), charge=charge)
    if isinstance(exc, AlreadyRefunded):
        return _("This payment was refunded before; nothing changed.")
    if isinstance(exc, TokensSpent):
        return _(
            "The user has spent the tokens: {have} of {need} left. Nothing was refunded; add "
            "<code>force</code> to refund the Stars and take what is left."
        ).format(have=exc.have, need=exc.need)
    if isinstance(exc, StarsRefundRefused):
        return fill(_("Telegram refused the refund: {error}. Nothing changed."), error=exc.reason)
    if isinstance(exc, DomainError):
        return domain_error_text(exc)
    return _(
        "Telegram did not answer, so the refund may or may not have gone through. It is "
        "marked pending: run the same command again to complete it."
    )


async def cmd_refundstars(
    message: Message,
    command: CommandObject,
    payments: Payments,
    users: Users,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    """/refundstars <charge id> [force]: the Stars back to the payer, the tokens taken back."""
    parts = (command.args or "").split()
    force = len(parts) == 2 and parts[1].lower() == "force"
    if len(parts) not in (1, 2) or (len(parts) == 2 and not force):
        await message.answer(fill(_("Usage: {usage}"), usage="/refundstars <charge id> [force]"))
        return
    try:
        done = await payments.refund(
            parts[0], user.id, force=force, refund_stars=stars.refunder(bot)
        )
    except (DomainError, TelegramNetworkError, TelegramServerError) as exc:
        await message.answer(refund_problem_text(exc, parts[0]))
        return
    await message.answer(
        _("Stars refunded; {taken} taken back. The user's balance: {balance}.").format(
            taken=tokens(done.tokens_taken), balance=tokens(done.balance)
        )
    )
    if done.referral is not None:
        await message.answer(
            _("The inviter's bonus for this purchase: {taken} taken back (user {id}).").format(
                taken=tokens(done.referral.tokens), id=done.referral.referrer_id
            )
        )
        await invite.tell_bonus(done.referral, "", users, bot, i18n, refunded=True)


async def cmd_reconcile(message: Message, payments: Payments, bot: Bot) -> None:
    count = await stars.reconcile(bot, payments)
    await message.answer(
        _("Reconciliation done: {count} missing payment(s) credited.").format(count=count)
    )


def setup() -> Router:
    """Everyone's payment handlers; the admins' /refundstars and /reconcile are in admin.py."""
    router = Router(name="payments")
    router.message.filter(CommandOrPayment())
    router.pre_checkout_query.register(on_pre_checkout)
    router.message.register(on_successful_payment, HasSuccessfulPayment())
    router.message.register(cmd_buy, Command("buy"))
    router.message.register(cmd_terms, Command("terms"))
    router.message.register(cmd_paysupport, Command("paysupport"))
    router.callback_query.register(on_buy, Tapped(Buy))
    return router

"""The Stars gateway: what the payment service asks of Telegram (refunds, and the payments
Telegram has that the database may lack), with Telegram's answers turned into its terms."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import TransactionPartnerUser

from services.errors import StarsAlreadyRefunded, StarsRefundRefused
from services.payments import Payment, Payments, StarPayment

log = logging.getLogger(__name__)


def refunder(bot: Bot) -> Callable[[Payment], Awaitable[None]]:
    """refundStarPayment for Payments.refund(): CHARGE_ALREADY_REFUNDED and a definite refusal
    become the service's own exceptions; a network fault stays what it is (ambiguous)."""

    async def refund_stars(payment: Payment) -> None:
        try:
            await bot.refund_star_payment(payment.user_id, payment.charge_id)
        except TelegramBadRequest as exc:
            if "CHARGE_ALREADY_REFUNDED" in exc.message.upper():
                raise StarsAlreadyRefunded(payment.charge_id) from None
            raise StarsRefundRefused(exc.message) from None

    return refund_stars


async def fetch_star_payments(bot: Bot, pages: int = 10) -> list[StarPayment]:
    """Incoming Stars payments from users, newest first, as getStarTransactions lists them."""
    found: list[StarPayment] = []
    for page in range(pages):
        batch = await bot.get_star_transactions(offset=page * 100, limit=100)
        for tx in batch.transactions:
            source = tx.source
            if isinstance(source, TransactionPartnerUser) and source.invoice_payload:
                found.append(StarPayment(tx.id, source.user.id, source.invoice_payload, tx.amount))
        if len(batch.transactions) < 100:
            break
    return found


async def reconcile(bot: Bot, payments: Payments) -> int:
    credited = await payments.reconcile(await fetch_star_payments(bot))
    if credited:
        log.warning(
            "reconciliation credited %d payment(s) missing from the database", len(credited)
        )
    return len(credited)

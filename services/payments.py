"""Token packages sold for Telegram Stars: invoice payloads, checkout checks, crediting each
payment once (keyed on telegram_payment_charge_id), refunds, and reconciliation."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from services.billing import Billing, Kind
from services.db import Database
from services.errors import (
    AlreadyRefunded,
    CheckoutRefused,
    PaymentNotFound,
    StarsAlreadyRefunded,
    StarsRefundRefused,
    TokensSpent,
)
from services.referrals import Bonus, Referrals

PAYLOAD_RE = re.compile(r"^buy:(\d{1,9}):(\d{1,9}):(\d{1,20})$")


@dataclass(frozen=True)
class Package:
    tokens: int
    stars: int


def parse_packages(text: str) -> tuple[Package, ...]:
    """ "100:50,500:225" -> tokens:stars pairs; raises ValueError naming the bad part."""
    packages = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        tokens, sep, stars = part.partition(":")
        if not sep or not tokens.strip().isdigit() or not stars.strip().isdigit():
            raise ValueError(f"expected tokens:stars pairs like 100:50, got {part!r}")
        package = Package(int(tokens), int(stars))
        if package.tokens <= 0 or not 1 <= package.stars <= 10_000:
            raise ValueError(f"{part!r}: tokens must be positive, stars 1-10000")
        packages.append(package)
    if len({p.tokens for p in packages}) != len(packages):
        raise ValueError("two packages have the same number of tokens")
    return tuple(sorted(packages, key=lambda p: p.tokens))


def make_payload(package: Package, user_id: int) -> str:
    payload = f"buy:{package.tokens}:{package.stars}:{user_id}"
    assert len(payload.encode()) <= 128
    return payload


@dataclass(frozen=True)
class Payload:
    tokens: int
    stars: int
    user_id: int


def parse_payload(text: str) -> Payload | None:
    match = PAYLOAD_RE.fullmatch(text or "")
    if match is None:
        return None
    return Payload(int(match[1]), int(match[2]), int(match[3]))


@dataclass(frozen=True)
class Recorded:
    tokens: int  # credited for this payment (0: its payload was not understood)
    balance: int
    applied: bool  # False: the charge id was recorded before, nothing changed
    referral: Bonus | None = None  # the referrer's bonus paid for this purchase


@dataclass(frozen=True)
class Payment:
    charge_id: str
    user_id: int
    stars: int
    tokens: int
    refunded_at: float | None
    refund_pending_at: float | None = None


@dataclass(frozen=True)
class Refunded:
    tokens_taken: int
    balance: int
    referral: Bonus | None = None  # the referrer's bonus for this purchase, taken back


@dataclass(frozen=True)
class StarPayment:
    """An incoming payment as Telegram's getStarTransactions lists it."""

    charge_id: str
    user_id: int
    payload: str
    stars: int


class Payments:
    def __init__(
        self,
        db: Database,
        billing: Billing,
        packages: tuple[Package, ...],
        *,
        clock: Callable[[], float] = time.time,
        referrals: Referrals | None = None,
    ) -> None:
        self.db = db
        self.billing = billing
        self.packages = packages
        self.clock = clock
        self.referrals = referrals

    def package(self, tokens: int) -> Package | None:
        return next((p for p in self.packages if p.tokens == tokens), None)

    def check_checkout(self, payload: str, currency: str, total: int, payer_id: int) -> Package:
        """Pre-checkout: the payload is ours, the package exists at this price, the payer is
        the user it was made for. No I/O: Telegram wants the answer within 10 s."""
        parsed = parse_payload(payload)
        if parsed is None:
            raise CheckoutRefused("not_ours")
        if currency != "XTR":
            raise CheckoutRefused("currency")
        package = self.package(parsed.tokens)
        if package is None:
            raise CheckoutRefused("unknown_package")
        if package.stars != parsed.stars or total != package.stars:
            raise CheckoutRefused("amount")
        if parsed.user_id != payer_id:
            raise CheckoutRefused("payer")
        return package

    async def record(
        self, charge_id: str, user_id: int, payload: str, stars: int, *, source: str = "update"
    ) -> Recorded:
        """Credit a successful payment once: the payment row, its ledger row and (for a referred
        user's first purchase) the referrer's bonus commit together, and a charge id seen before
        changes nothing."""
        parsed = parse_payload(payload)
        tokens = parsed.tokens if parsed is not None and parsed.user_id == user_id else 0
        async with self.db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM payments WHERE charge_id = ?", (charge_id,)):
                balance = await tx.fetchval("SELECT balance FROM users WHERE id = ?", (user_id,))
                return Recorded(0, int(balance or 0), applied=False)
            await tx.execute(
                "INSERT INTO users (id) VALUES (?) ON CONFLICT (id) DO NOTHING", (user_id,)
            )
            await tx.execute(
                "INSERT INTO payments (charge_id, user_id, stars, tokens, payload, source,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (charge_id, user_id, stars, tokens, payload, source, self.clock()),
            )
            if tokens:
                posted = await self.billing.credit(user_id, tokens, Kind.PURCHASE, charge_id, tx=tx)
                bonus = (
                    await self.referrals.on_purchase(tx, user_id, charge_id, tokens)
                    if self.referrals is not None
                    else None
                )
                return Recorded(tokens, posted.balance, applied=True, referral=bonus)
            balance = await tx.fetchval("SELECT balance FROM users WHERE id = ?", (user_id,))
            return Recorded(0, int(balance or 0), applied=True)

    async def get(self, charge_id: str) -> Payment | None:
        row = await self.db.fetchone(
            "SELECT charge_id, user_id, stars, tokens, refunded_at, refund_pending_at"
            " FROM payments"
            " WHERE charge_id = ?",
            (charge_id,),
        )
        return None if row is None else Payment(*row)

    async def refund(
        self,
        charge_id: str,
        admin_id: int,
        *,
        force: bool,
        refund_stars: Callable[[Payment], Awaitable[None]],
    ) -> Refunded:
        """Give the Stars back (through `refund_stars`, Telegram's refundStarPayment) and take
        the tokens back, never below zero. If the user already spent them, refuse unless
        `force`.

        The order makes a crash harmless: the refund is marked pending, then Telegram is asked,
        then the tokens are taken and the refund completed. A crash after Telegram's refund
        leaves the mark (so does a network fault: the refund may have happened); the next attempt
        finds the charge refunded (StarsAlreadyRefunded) and completes it, or refunds it now.
        When Telegram refuses (StarsRefundRefused), the mark goes and nothing changes."""
        payment = await self.get(charge_id)
        if payment is None:
            raise PaymentNotFound(charge_id)
        if payment.refunded_at is not None:
            raise AlreadyRefunded(charge_id)
        pending = payment.refund_pending_at is not None
        balance = await self.billing.balance(payment.user_id)
        if balance < payment.tokens and not force and not pending:
            raise TokensSpent(have=balance, need=payment.tokens)
        await self._set_pending(charge_id, admin_id)
        try:
            await refund_stars(payment)
        except StarsAlreadyRefunded:
            pass  # an earlier attempt went through at Telegram: complete it
        except StarsRefundRefused:
            if not pending:
                await self._set_pending(charge_id, None)
            raise
        return await self._complete_refund(payment, admin_id)

    async def _set_pending(self, charge_id: str, admin_id: int | None) -> None:
        """Mark the refund as asked of Telegram (admin_id), or take the mark away (None)."""
        at = None if admin_id is None else self.clock()
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE payments SET refund_pending_at = ?, refund_pending_by = ?"
                " WHERE charge_id = ? AND refunded_at IS NULL",
                (at, admin_id, charge_id),
            )

    async def _complete_refund(self, payment: Payment, admin_id: int) -> Refunded:
        """The Stars are back with the user: take the tokens back, never below zero, once, and
        the referrer's bonus for this purchase (if any) likewise."""
        async with self.db.transaction() as tx:
            current = int(
                await tx.fetchval("SELECT balance FROM users WHERE id = ?", (payment.user_id,))
            )
            take = min(current, payment.tokens)
            changed = await tx.execute(
                "UPDATE payments SET refunded_at = ?, refunded_tokens = ?, refunded_by = ?"
                " WHERE charge_id = ? AND refunded_at IS NULL",
                (self.clock(), take, admin_id, payment.charge_id),
            )
            if not changed:
                raise AlreadyRefunded(payment.charge_id)
            if take:
                await self.billing.debit(
                    payment.user_id,
                    take,
                    Kind.PURCHASE_REFUND,
                    payment.charge_id,
                    admin_id=admin_id,
                    reason="Stars refunded",
                    tx=tx,
                )
            bonus = (
                await self.referrals.on_refund(tx, payment.charge_id)
                if self.referrals is not None
                else None
            )
            return Refunded(take, current - take, bonus)

    async def reconcile(self, seen: Iterable[StarPayment]) -> list[Recorded]:
        """Credit payments Telegram has and the database lacks (a crash between Telegram's
        confirmation and the handler). Known charge ids are skipped."""
        credited = []
        for payment in seen:
            if await self.get(payment.charge_id) is not None:
                continue
            recorded = await self.record(
                payment.charge_id,
                payment.user_id,
                payment.payload,
                payment.stars,
                source="reconcile",
            )
            if recorded.applied:
                credited.append(recorded)
        return credited

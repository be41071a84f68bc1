"""Referrals: a new user who starts through someone's link is theirs, once; the referrer earns a
share of that user's first Stars purchase as a ledger bonus keyed on the purchase, taken back
(never below zero) when the purchase is refunded. Plain queries; the payment service calls in
within its own transactions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.billing import Billing, Kind
from services.db import Database, Tx

LINK_PREFIX = "ref-"
REFERENCE = "referral:"  # + the charge id: the bonus ledger row and its take-back


@dataclass(frozen=True)
class Attribution:
    """What a start link did: `outcome` is joined | self | unknown | not_new | already."""

    outcome: str
    referrer_id: int | None = None


@dataclass(frozen=True)
class Bonus:
    """A referrer's bonus for a purchase, paid (or taken back) now."""

    referrer_id: int
    buyer_id: int
    tokens: int
    balance: int  # the referrer's, after it


@dataclass(frozen=True)
class InviteFigures:
    joined: int
    bought: int  # of them, made a purchase that earned a bonus
    earned: int  # tokens: bonuses less what refunds took back


def parse_link(payload: str) -> int | None:
    """The referrer's id from a start payload "ref-<id>", or None."""
    digits = payload.removeprefix(LINK_PREFIX)
    if not payload.startswith(LINK_PREFIX) or not digits.isascii() or not digits.isdigit():
        return None
    return int(digits) if 0 < len(digits) <= 19 else None


class Referrals:
    def __init__(
        self,
        db: Database,
        billing: Billing,
        percent: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.billing = billing
        self.percent = percent
        self.clock = clock

    async def attribute(self, user_id: int, referrer_id: int, *, new: bool) -> Attribution:
        """Make `user_id` the referrer's, once, and only when the user is new (created by this
        very update): an existing user following a link changes nothing."""
        if referrer_id == user_id:
            return Attribution("self")
        async with self.db.transaction() as tx:
            if not await tx.fetchval("SELECT 1 FROM users WHERE id = ?", (referrer_id,)):
                return Attribution("unknown")
            current = await tx.fetchval(
                "SELECT referrer_id FROM referrals WHERE user_id = ?", (user_id,)
            )
            if current is not None:
                return Attribution("already", int(current))
            if not new:
                return Attribution("not_new")
            await tx.execute(
                "INSERT INTO referrals (user_id, referrer_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO NOTHING",
                (user_id, referrer_id, self.clock()),
            )
        return Attribution("joined", referrer_id)

    async def referrer_of(self, user_id: int) -> int | None:
        value = await self.db.fetchval(
            "SELECT referrer_id FROM referrals WHERE user_id = ?", (user_id,)
        )
        return None if value is None else int(value)

    async def on_purchase(self, tx: Tx, buyer_id: int, charge_id: str, tokens: int) -> Bonus | None:
        """Within the payment's transaction: the referrer's bonus when this is the buyer's first
        purchase. The conditional UPDATE takes the "first" once, so two purchases landing
        together pay one bonus."""
        bonus = tokens * self.percent // 100
        if bonus <= 0:
            return None
        taken = await tx.execute(
            "UPDATE referrals SET bonus_charge = ?, bonus_tokens = ?"
            " WHERE user_id = ? AND bonus_charge IS NULL AND NOT EXISTS ("
            "  SELECT 1 FROM payments WHERE user_id = ? AND charge_id <> ? AND tokens > 0)",
            (charge_id, bonus, buyer_id, buyer_id, charge_id),
        )
        if not taken:
            return None
        referrer = int(
            await tx.fetchval("SELECT referrer_id FROM referrals WHERE user_id = ?", (buyer_id,))
        )
        posted = await self.billing.credit(
            referrer, bonus, Kind.BONUS, REFERENCE + charge_id, reason="referral", tx=tx
        )
        return Bonus(referrer, buyer_id, bonus, posted.balance)

    async def on_refund(self, tx: Tx, charge_id: str) -> Bonus | None:
        """Within the refund's transaction: the bonus paid for this purchase taken back from the
        referrer, as much of it as they still have (never below zero), once."""
        row = await tx.fetchone(
            "SELECT user_id, referrer_id, bonus_tokens FROM referrals WHERE bonus_charge = ?",
            (charge_id,),
        )
        if row is None:
            return None
        referrer = int(row["referrer_id"])
        balance = int(await tx.fetchval("SELECT balance FROM users WHERE id = ?", (referrer,)))
        take = min(balance, int(row["bonus_tokens"]))
        if take <= 0:
            return Bonus(referrer, int(row["user_id"]), 0, balance)
        posted = await self.billing.debit(
            referrer,
            take,
            Kind.PURCHASE_REFUND,
            REFERENCE + charge_id,
            reason="referred purchase refunded",
            tx=tx,
        )
        return Bonus(referrer, int(row["user_id"]), take, posted.balance)

    async def figures(self, referrer_id: int) -> InviteFigures:
        row = await self.db.fetchone(
            "SELECT count(*), count(bonus_charge) FROM referrals WHERE referrer_id = ?",
            (referrer_id,),
        )
        earned = await self.db.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM ledger WHERE user_id = ? AND reference LIKE ?",
            (referrer_id, REFERENCE + "%"),
        )
        assert row is not None
        return InviteFigures(int(row[0]), int(row[1]), int(earned))

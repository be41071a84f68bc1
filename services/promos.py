"""Promo codes: made, listed and switched off by admins; redeemed by users, once each, as a
ledger bonus. Exact under concurrency: the last use is taken by a conditional UPDATE in the
transaction that credits the tokens, so of twenty users racing for it exactly one wins."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.billing import Billing, Kind
from services.db import Database, Row
from services.errors import DomainError

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
MAX_USES = 1_000_000
MAX_DAYS = 3650


class PromoRefused(DomainError):
    """Why a promo code was not made or not redeemed; nothing changed."""

    def __init__(self, reason: str, code: str = "") -> None:
        super().__init__(f"promo {reason}: {code}")
        # bad_code | bad_tokens | bad_uses | bad_days | exists (making one);
        # unknown | off | expired | used_up | redeemed (redeeming one)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Promo:
    code: str
    tokens: int
    uses: int
    used: int
    expires_at: float | None
    active: bool

    @classmethod
    def from_row(cls, row: Row) -> Promo:
        return cls(
            row["code"],
            row["tokens"],
            row["uses"],
            row["used"],
            row["expires_at"],
            bool(row["active"]),
        )


def normal_code(text: str) -> str:
    """The code as stored (upper case); PromoRefused("bad_code") when it is not one."""
    code = text.strip()
    if not CODE_RE.fullmatch(code):
        raise PromoRefused("bad_code", code[:40])
    return code.upper()


class Promos:
    def __init__(
        self, db: Database, billing: Billing, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.billing = billing
        self.clock = clock

    async def create(
        self, code: str, tokens: int, uses: int, days: float | None, admin_id: int
    ) -> Promo:
        code = normal_code(code)
        if not 1 <= tokens <= self.billing.max_amount:
            raise PromoRefused("bad_tokens", code)
        if not 1 <= uses <= MAX_USES:
            raise PromoRefused("bad_uses", code)
        if days is not None and not 0 < days <= MAX_DAYS:
            raise PromoRefused("bad_days", code)
        now = self.clock()
        expires = now + days * 86400 if days is not None else None
        async with self.db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM promo_codes WHERE code = ?", (code,)):
                raise PromoRefused("exists", code)
            await tx.execute(
                "INSERT INTO promo_codes (code, tokens, uses, expires_at, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (code, tokens, uses, expires, admin_id, now),
            )
        return Promo(code, tokens, uses, 0, expires, True)

    async def all(self) -> list[Promo]:
        rows = await self.db.fetchall("SELECT * FROM promo_codes ORDER BY created_at DESC")
        return [Promo.from_row(r) for r in rows]

    async def off(self, code: str) -> bool:
        """Switch a code off (redemptions made stay). False when there is no such code."""
        code = normal_code(code)
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute("UPDATE promo_codes SET active = 0 WHERE code = ?", (code,))
            )

    async def redeem(self, user_id: int, text: str) -> tuple[Promo, int]:
        """The code's tokens on the user's balance, once per user: (the code, the balance
        after). Raises PromoRefused with the reason, changing nothing."""
        code = normal_code(text)
        try:
            async with self.db.transaction() as tx:
                row = await tx.fetchone("SELECT * FROM promo_codes WHERE code = ?", (code,))
                if row is None:
                    raise PromoRefused("unknown", code)
                promo = Promo.from_row(row)
                if not promo.active:
                    raise PromoRefused("off", code)
                if promo.expires_at is not None and promo.expires_at <= self.clock():
                    raise PromoRefused("expired", code)
                if await tx.fetchval(
                    "SELECT 1 FROM promo_redemptions WHERE code = ? AND user_id = ?",
                    (code, user_id),
                ):
                    raise PromoRefused("redeemed", code)
                taken = await tx.execute(  # the use, if one is left: exact under a race
                    "UPDATE promo_codes SET used = used + 1"
                    " WHERE code = ? AND used < uses AND active = 1",
                    (code,),
                )
                if not taken:
                    raise PromoRefused("used_up", code)
                await tx.execute(
                    "INSERT INTO promo_redemptions (code, user_id, created_at) VALUES (?, ?, ?)",
                    (code, user_id, self.clock()),
                )
                posted = await self.billing.credit(
                    user_id, promo.tokens, Kind.BONUS, f"promo:{code}:{user_id}", tx=tx
                )
        except self.db.errors:
            if await self.db.fetchval(  # the same user's second redemption raced the first
                "SELECT 1 FROM promo_redemptions WHERE code = ? AND user_id = ?", (code, user_id)
            ):
                raise PromoRefused("redeemed", code) from None
            raise
        return promo, posted.balance

"""Token balances: an append-only ledger that never loses or invents a token.

Every operation is one `BEGIN IMMEDIATE` transaction, or joins the caller's (`tx=`), so the job
service creates a job row and its charge as one unit. Each ledger row has a UNIQUE idempotency
key, which makes a repeated charge, refund or credit a no-op. `users.balance` is maintained by a
trigger on the ledger (migrations/<engine>/0002) and can never go below zero (CHECK)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum

from services.db import Database, Tx
from services.errors import AmountError, InsufficientBalance, UnknownUser

DEFAULT_MAX_AMOUNT = 1_000_000


class Kind(StrEnum):
    ADMIN_TOPUP = "admin_topup"
    ADMIN_DEBIT = "admin_debit"
    PURCHASE = "purchase"
    PURCHASE_REFUND = "purchase_refund"
    JOB_CHARGE = "job_charge"
    JOB_REFUND = "job_refund"
    BONUS = "bonus"


CREDIT_KINDS = {Kind.ADMIN_TOPUP, Kind.PURCHASE, Kind.BONUS}
DEBIT_KINDS = {Kind.ADMIN_DEBIT, Kind.PURCHASE_REFUND}


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    user_id: int
    amount: int
    kind: Kind
    job_id: int | None
    reference: str | None
    admin_id: int | None
    reason: str | None
    created_at: str


@dataclass(frozen=True)
class Posted:
    """The outcome of a credit or debit: the balance after it, and whether this call wrote it
    (False: the same reference was posted before, nothing changed)."""

    balance: int
    applied: bool


def check_amount(value: object, limit: int = DEFAULT_MAX_AMOUNT) -> int:
    """A positive whole number of tokens, at most `limit`; text is parsed ("1 000", "+5")."""
    if isinstance(value, str):
        text = value.strip().replace(" ", "").replace("_", "").removeprefix("+")
        negative = text.startswith("-")
        digits = text.removeprefix("-")
        if not digits.isascii() or not digits.isdigit():
            raise AmountError("not_a_number")
        value = -int(digits) if negative else int(digits)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountError("not_a_number")
    if value <= 0:
        raise AmountError("not_positive")
    if value > limit:
        raise AmountError("too_large", limit=limit)
    return value


class Billing:
    def __init__(self, db: Database, max_amount: int = DEFAULT_MAX_AMOUNT) -> None:
        self.db = db
        self.max_amount = max_amount

    @asynccontextmanager
    async def _tx(self, tx: Tx | None) -> AsyncIterator[Tx]:
        if tx is not None:
            yield tx
        else:
            async with self.db.transaction() as own:
                yield own

    # --- jobs ---------------------------------------------------------------------------------

    async def charge_for_job(
        self, user_id: int, job_id: int, amount: int, *, tx: Tx | None = None
    ) -> int:
        """Take `amount` tokens for a job, once. Returns the balance after the charge.

        Raises InsufficientBalance (changing nothing) when the balance does not cover it."""
        amount = check_amount(amount, self.max_amount)
        key = f"job:{job_id}:charge"
        async with self._tx(tx) as t:
            balance, done = await _balance_and_key(t, user_id, key)
            if done:
                return balance
            if balance < amount:
                raise InsufficientBalance(need=amount, have=balance)
            await _post(t, user_id, -amount, Kind.JOB_CHARGE, key, job_id=job_id)
            return balance - amount

    async def refund_job(
        self,
        job_id: int,
        *,
        tx: Tx | None = None,
        reason: str | None = None,
        admin_id: int | None = None,
    ) -> int:
        """Give back exactly what the job was charged, once. Returns the tokens refunded by this
        call (0 when nothing was charged or the refund was made before)."""
        key = f"job:{job_id}:refund"
        async with self._tx(tx) as t:
            charge = await t.fetchone(
                "SELECT user_id, amount FROM ledger WHERE idempotency_key = ?",
                (f"job:{job_id}:charge",),
            )
            if charge is None:
                return 0
            if await t.fetchval("SELECT 1 FROM ledger WHERE idempotency_key = ?", (key,)):
                return 0
            refund = -int(charge["amount"])
            await _post(
                t,
                charge["user_id"],
                refund,
                Kind.JOB_REFUND,
                key,
                job_id=job_id,
                reason=reason,
                admin_id=admin_id,
            )
            return refund

    async def charge_for_edit(self, user_id: int, edit_id: int, amount: int, *, tx: Tx) -> None:
        """Take an edit's price, once (a free edit posts nothing). A job charge with no job:
        the ledger's kinds stay as they are; the reference names the edit."""
        if amount <= 0:
            return
        key = f"edit:{edit_id}:charge"
        balance, done = await _balance_and_key(tx, user_id, key)
        if done:
            return
        if balance < amount:
            raise InsufficientBalance(need=amount, have=balance)
        await _post(tx, user_id, -amount, Kind.JOB_CHARGE, key, reference=f"edit:{edit_id}")

    async def refund_edit(self, edit_id: int, *, tx: Tx, reason: str | None = None) -> int:
        """Give back exactly what the edit was charged, once; the tokens given back now."""
        charge = await tx.fetchone(
            "SELECT user_id, amount FROM ledger WHERE idempotency_key = ?",
            (f"edit:{edit_id}:charge",),
        )
        key = f"edit:{edit_id}:refund"
        if charge is None or await tx.fetchval(
            "SELECT 1 FROM ledger WHERE idempotency_key = ?", (key,)
        ):
            return 0
        refund = -int(charge["amount"])
        await _post(
            tx, charge["user_id"], refund, Kind.JOB_REFUND, key, reference=f"edit:{edit_id}",
            reason=reason,
        )  # fmt: skip
        return refund

    async def charged_for_job(self, job_id: int) -> tuple[int, int]:
        """(tokens charged, tokens refunded) for a job, from the ledger."""
        row = await self.db.fetchone(
            "SELECT coalesce(sum(CASE WHEN kind = 'job_charge' THEN -amount END), 0),"
            " coalesce(sum(CASE WHEN kind = 'job_refund' THEN amount END), 0)"
            " FROM ledger WHERE job_id = ?",
            (job_id,),
        )
        assert row is not None
        return int(row[0]), int(row[1])

    # --- top-ups and corrections --------------------------------------------------------------

    async def credit(
        self,
        user_id: int,
        amount: int | str,
        kind: Kind,
        reference: str,
        admin_id: int | None = None,
        reason: str | None = None,
        *,
        tx: Tx | None = None,
    ) -> Posted:
        """Add tokens (admin top-up, purchase, bonus), idempotent on (kind, reference): the
        reference is a Telegram payment charge id, an admin command's update id, ..."""
        if kind not in CREDIT_KINDS:
            raise ValueError(f"{kind} is not a credit")
        value = check_amount(amount, self.max_amount)
        return await self._post_once(user_id, value, kind, reference, admin_id, reason, tx)

    async def debit(
        self,
        user_id: int,
        amount: int | str,
        kind: Kind,
        reference: str,
        admin_id: int | None = None,
        reason: str | None = None,
        *,
        tx: Tx | None = None,
    ) -> Posted:
        """Take tokens back (admin correction, refunded purchase); never below zero:
        InsufficientBalance says how many the user has."""
        if kind not in DEBIT_KINDS:
            raise ValueError(f"{kind} is not a debit")
        value = check_amount(amount, self.max_amount)
        return await self._post_once(user_id, -value, kind, reference, admin_id, reason, tx)

    async def _post_once(
        self,
        user_id: int,
        amount: int,
        kind: Kind,
        reference: str,
        admin_id: int | None,
        reason: str | None,
        tx: Tx | None,
    ) -> Posted:
        key = f"{kind.value}:{reference}"
        async with self._tx(tx) as t:
            balance, done = await _balance_and_key(t, user_id, key)
            if done:
                return Posted(balance, applied=False)
            if balance + amount < 0:
                raise InsufficientBalance(need=-amount, have=balance)
            await _post(
                t, user_id, amount, kind, key, reference=reference, admin_id=admin_id, reason=reason
            )
            return Posted(balance + amount, applied=True)

    # --- reading ------------------------------------------------------------------------------

    async def balance(self, user_id: int) -> int:
        value = await self.db.fetchval("SELECT balance FROM users WHERE id = ?", (user_id,))
        if value is None:
            raise UnknownUser(user_id)
        return int(value)

    async def history(self, user_id: int, limit: int = 10) -> list[LedgerEntry]:
        rows = await self.db.fetchall(
            "SELECT id, user_id, amount, kind, job_id, reference, admin_id, reason, created_at"
            " FROM ledger WHERE user_id = ? ORDER BY id DESC LIMIT ?",
            (user_id, limit),
        )
        return [
            LedgerEntry(
                id=r["id"],
                user_id=r["user_id"],
                amount=r["amount"],
                kind=Kind(r["kind"]),
                job_id=r["job_id"],
                reference=r["reference"],
                admin_id=r["admin_id"],
                reason=r["reason"],
                created_at=r["created_at"],
            )
            for r in rows
        ]


async def _balance_and_key(tx: Tx, user_id: int, key: str) -> tuple[int, bool]:
    """The user's balance and whether `key` was posted already, in one round trip."""
    row = await tx.fetchone(
        "SELECT balance, EXISTS (SELECT 1 FROM ledger WHERE idempotency_key = ?)"
        " FROM users WHERE id = ?",
        (key, user_id),
    )
    if row is None:
        raise UnknownUser(user_id)
    return int(row[0]), bool(row[1])


async def _post(
    tx: Tx,
    user_id: int,
    amount: int,
    kind: Kind,
    key: str,
    *,
    job_id: int | None = None,
    reference: str | None = None,
    admin_id: int | None = None,
    reason: str | None = None,
) -> None:
    await tx.execute(
        "INSERT INTO ledger (user_id, amount, kind, job_id, reference, admin_id, reason,"
        " idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (user_id, amount, kind.value, job_id, reference, admin_id, reason, key),
    )

"""What admins look at: one user's summary and the bot's figures. Plain queries, no aiogram."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from services.billing import Billing, LedgerEntry
from services.db import Database
from services.users import User


@dataclass(frozen=True)
class UserSummary:
    user: User
    jobs_by_status: dict[str, int]
    history: list[LedgerEntry]


@dataclass(frozen=True)
class Stats:
    users: int
    active_7d: int
    jobs_by_status: dict[str, int]
    jobs_by_model: dict[str, int]
    tokens_credited: int  # admin top-ups, purchases, bonuses
    tokens_debited: int  # admin corrections and refunded purchases
    tokens_charged: int  # for jobs, before refunds
    tokens_refunded: int
    refunds: int
    usd_cost: float  # Runware's own figure (includeCost) over the jobs it finished
    tokens_for_costed_jobs: int
    delivered_as: dict[str, int]  # video | link | blocked (unreachable) | unsent

    @property
    def tokens_spent(self) -> int:
        return self.tokens_charged - self.tokens_refunded

    @property
    def tokens_per_usd(self) -> float | None:
        return self.tokens_for_costed_jobs / self.usd_cost if self.usd_cost > 0 else None


@dataclass(frozen=True)
class ModelCost:
    """One model's jobs (edits left out): tokens charged net of refunds, and Runware's cost
    (`includeCost`) for those it finished with a reported cost."""

    model_id: str
    jobs: int
    costed_jobs: int
    usd: float
    tokens: int  # charged for the costed jobs, net of refunds (their revenue)
    tokens_net: int = 0  # charged for all its jobs, net of refunds

    @property
    def usd_per_job(self) -> float | None:
        return self.usd / self.costed_jobs if self.costed_jobs else None

    def margin_percent(self, usd_per_token: float) -> float | None:
        """(revenue - cost) / revenue of the costed jobs, the revenue being their tokens at
        the catalog's USD per token; None without a cost or a revenue to compare."""
        revenue = self.tokens * usd_per_token
        if self.usd <= 0 or revenue <= 0:
            return None
        return (revenue - self.usd) / revenue * 100


# Each job's refunds, from the ledger: a job's tokens net of them are what it earned.
_REFUNDS = (
    "LEFT JOIN (SELECT job_id, sum(amount) AS back FROM ledger WHERE kind = 'job_refund'"
    " AND job_id IS NOT NULL GROUP BY job_id) r ON r.job_id = j.id"
)


class Admin:
    def __init__(
        self, db: Database, billing: Billing, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.billing = billing
        self.clock = clock

    async def user_summary(self, user: User, history: int = 5) -> UserSummary:
        rows = await self.db.fetchall(
            "SELECT status, count(*) FROM jobs WHERE user_id = ? GROUP BY status", (user.id,)
        )
        return UserSummary(
            user, {r[0]: r[1] for r in rows}, await self.billing.history(user.id, history)
        )

    async def model_costs(self, since: float | None = None) -> dict[str, ModelCost]:
        """Per model, over all its jobs or those made since a time (Unix seconds)."""
        where = " AND j.created_at >= ?" if since is not None else ""
        rows = await self.db.fetchall(
            "SELECT j.model_id, count(*), count(j.cost_usd), coalesce(sum(j.cost_usd), 0),"
            " coalesce(sum(CASE WHEN j.cost_usd IS NOT NULL"
            "   THEN j.tokens - coalesce(r.back, 0) END), 0),"
            " coalesce(sum(j.tokens - coalesce(r.back, 0)), 0)"
            f" FROM jobs j {_REFUNDS} WHERE j.edit_kind IS NULL{where}"
            " GROUP BY j.model_id ORDER BY count(*) DESC, j.model_id",
            (since,) if since is not None else (),
        )
        return {r[0]: ModelCost(r[0], r[1], r[2], float(r[3]), int(r[4]), int(r[5])) for r in rows}

    async def stats(self) -> Stats:
        week_ago = datetime.fromtimestamp(self.clock() - 7 * 86400, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        users = await self.db.fetchone(
            "SELECT count(*), count(CASE WHEN seen_at >= ? THEN 1 END) FROM users", (week_ago,)
        )
        by_status = await self.db.fetchall("SELECT status, count(*) FROM jobs GROUP BY status")
        by_delivery = await self.db.fetchall(
            "SELECT delivered_as, count(*) FROM jobs WHERE status = 'delivered'"
            " GROUP BY delivered_as"
        )
        by_model = await self.db.fetchall(
            "SELECT model_id, count(*) FROM jobs WHERE edit_kind IS NULL"
            " GROUP BY model_id ORDER BY count(*) DESC"
        )
        ledger = await self.db.fetchone(
            "SELECT"
            " coalesce(sum(CASE WHEN kind IN ('admin_topup', 'purchase', 'bonus')"
            "   THEN amount END), 0),"
            " coalesce(sum(CASE WHEN kind IN ('admin_debit', 'purchase_refund')"
            "   THEN -amount END), 0),"
            " coalesce(sum(CASE WHEN kind = 'job_charge' THEN -amount END), 0),"
            " coalesce(sum(CASE WHEN kind = 'job_refund' THEN amount END), 0),"
            " count(CASE WHEN kind = 'job_refund' THEN 1 END)"
            " FROM ledger"
        )
        cost = await self.db.fetchone(
            "SELECT coalesce(sum(cost_usd), 0), coalesce(sum(tokens), 0) FROM jobs"
            " WHERE cost_usd IS NOT NULL"
        )
        assert users is not None and ledger is not None and cost is not None
        return Stats(
            users=users[0],
            active_7d=users[1],
            jobs_by_status={r[0]: r[1] for r in by_status},
            jobs_by_model={r[0]: r[1] for r in by_model},
            tokens_credited=ledger[0],
            tokens_debited=ledger[1],
            tokens_charged=ledger[2],
            tokens_refunded=ledger[3],
            refunds=ledger[4],
            usd_cost=float(cost[0]),
            tokens_for_costed_jobs=int(cost[1]),
            delivered_as={str(r[0]): r[1] for r in by_delivery},
        )

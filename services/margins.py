"""Margins watched: when a model's margin over the last day falls below MIN_MARGIN_PERCENT
(Runware's prices moved, or a price in the catalog is wrong), the admins are told once; a model
that recovers is forgotten, so a later fall is told again. Exact across replicas: the alert row
is taken by an INSERT that only one process can make."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from services.admin import Admin
from services.db import Database

DAY = 86400.0


@dataclass(frozen=True)
class LowMargin:
    model_id: str
    percent: float
    jobs: int  # with a cost, over the last day
    usd: float
    tokens: int


class MarginWatch:
    def __init__(
        self,
        db: Database,
        admin: Admin,
        usd_per_token: float,
        min_percent: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.admin = admin
        self.usd_per_token = usd_per_token
        self.min_percent = min_percent
        self.clock = clock

    async def check(self) -> list[LowMargin]:
        """The models newly below the minimum over the last day: to tell the admins about,
        once. Models without a cost in that day are left as they were."""
        now = self.clock()
        costs = await self.admin.model_costs(since=now - DAY)
        low: list[LowMargin] = []
        recovered: list[str] = []
        for cost in costs.values():
            percent = cost.margin_percent(self.usd_per_token)
            if percent is None:
                continue
            if percent < self.min_percent:
                low.append(LowMargin(cost.model_id, percent, cost.costed_jobs, cost.usd,
                                     cost.tokens))  # fmt: skip
            else:
                recovered.append(cost.model_id)
        fresh: list[LowMargin] = []
        async with self.db.transaction() as tx:
            for model_id in recovered:
                await tx.execute("DELETE FROM margin_alerts WHERE model_id = ?", (model_id,))
            for item in low:
                taken = await tx.execute(
                    "INSERT INTO margin_alerts (model_id, margin, alerted_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (model_id) DO NOTHING",
                    (item.model_id, item.percent, now),
                )
                if taken:
                    fresh.append(item)
        return fresh

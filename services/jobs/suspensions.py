"""Models withdrawn for a while because their provider failed several jobs in a row, for the
whole fleet: the failures are counted from the jobs table (so those met by different replicas
add up) and the withdrawal is a row in `model_suspensions` (so every replica, and a restart,
sees it). Used by the runner's ProviderHealth."""

from __future__ import annotations

import time

from services.db import Database
from services.jobs.model import Clock


class ModelSuspensions:
    def __init__(self, db: Database, clock: Clock = time.time) -> None:
        self.db = db
        self.clock = clock

    async def provider_failures_in_a_row(self, model_id: str, limit: int, window: float) -> int:
        """How many of the model's last outcomes at Runware (created within `window` seconds)
        were provider failures, counted back from the newest until a finished video. Counted
        from the jobs themselves, so failures seen by different replicas add up."""
        rows = await self.db.fetchall(
            "SELECT ready_at, error_class FROM jobs WHERE model_id = ? AND created_at > ?"
            " AND edit_kind IS NULL"  # a trim or join of its video says nothing of the model
            " AND (ready_at IS NOT NULL OR error_class = 'upstream')"
            " ORDER BY coalesce(ready_at, finished_at) DESC, id DESC LIMIT ?",
            (model_id, self.clock() - window, limit),
        )
        count = 0
        for row in rows:
            if row["ready_at"] is not None:
                break
            count += 1
        return count

    async def suspend_model(self, model_id: str, until: float, reason: str) -> bool:
        """Withdraw the model until `until`. True for the one caller that withdrew it; False
        while it is already withdrawn (by this replica or another)."""
        now = self.clock()
        async with self.db.transaction() as tx:
            written = await tx.execute(
                "INSERT INTO model_suspensions (model_id, until, reason, since) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (model_id) DO UPDATE SET until = excluded.until,"
                " reason = excluded.reason, since = excluded.since"
                " WHERE model_suspensions.until <= excluded.since",
                (model_id, until, reason, now),
            )
        return written > 0

    async def suspended_models(self) -> dict[str, tuple[float, str]]:
        """Models withdrawn now: model id -> (until, why)."""
        rows = await self.db.fetchall(
            "SELECT model_id, until, reason FROM model_suspensions WHERE until > ?",
            (self.clock(),),
        )
        return {row["model_id"]: (row["until"], row["reason"]) for row in rows}

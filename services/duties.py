"""Duties one replica does for the whole fleet, at most once per period.

`once(name, period)` is true for the first process to ask in each period and false for every
other ask (its own included) until the period ends: a row per duty, taken in one write
transaction, so two replicas starting at the same moment cannot both win. A replica that dies
after taking a duty leaves it to the next period, never to nobody."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from services.db import Database


class Duties:
    def __init__(
        self,
        db: Database,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.owner = owner or f"replica-{uuid.uuid4().hex[:12]}"
        self.clock = clock

    async def once(self, name: str, period: float) -> bool:
        """True when this process is to do duty `name` now (and nobody else for `period` s)."""
        now = self.clock()
        async with self.db.transaction() as tx:
            taken = await tx.execute(
                "INSERT INTO duties (name, owner, taken_at, until) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
                " taken_at = excluded.taken_at, until = excluded.until"
                " WHERE duties.until <= excluded.taken_at",
                (name, self.owner, now, now + period),
            )
        return taken > 0

    async def holder(self, name: str) -> tuple[str, float] | None:
        """Who took the duty last and until when (for the admins' figures)."""
        row = await self.db.fetchone("SELECT owner, until FROM duties WHERE name = ?", (name,))
        return None if row is None else (row["owner"], row["until"])

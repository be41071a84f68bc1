"""`EditService`: the only code that writes the edits table. An edit (a trim of one of the
user's videos, a join of 2-5 of them) is created and charged in one transaction, taken by a
runner under a lease, and ends done (its video a new gallery item) or failed (refunded once)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.billing import Billing
from services.db import Database, Row
from services.errors import EditRefused
from services.jobs import Job, JobService, Status

Clock = Callable[[], float]

MIN_TRIM = 0.5  # seconds: the shortest trim
JOIN_MIN, JOIN_MAX = 2, 5  # clips in a join
RANGE_SLACK = 0.05  # a clip's real length may pass its nominal one by a frame or so


@dataclass(frozen=True)
class Prices:
    trim: int = 0
    join: int = 5


@dataclass(frozen=True)
class Edit:
    id: int
    user_id: int
    chat_id: int
    kind: str  # trim | join
    sources: tuple[int, ...]
    start: float | None
    end: float | None
    tokens: int
    status: str  # queued | running | done | failed
    attempts: int
    error: str | None
    notified: bool
    result_job: int | None
    created_at: float
    finished_at: float | None

    @classmethod
    def from_row(cls, row: Row) -> Edit:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            chat_id=row["chat_id"],
            kind=row["kind"],
            sources=tuple(json.loads(row["sources"])),
            start=row["start_s"],
            end=row["end_s"],
            tokens=row["tokens"],
            status=row["status"],
            attempts=row["attempts"],
            error=row["error"],
            notified=bool(row["notified"]),
            result_job=row["result_job"],
            created_at=row["created_at"],
            finished_at=row["finished_at"],
        )

    @property
    def length(self) -> float | None:
        """A trim's length in seconds (None for a join: known once made)."""
        return None if self.start is None or self.end is None else self.end - self.start


def parse_range(text: str) -> tuple[float, float] | None:
    """ "1.5-6" (or "1,5 - 6", "1.5–6") as (start, end) seconds; None when it is not a range."""
    cleaned = text.strip().replace(",", ".").replace("–", "-").replace("—", "-").replace(" ", "")
    start, dash, end = cleaned.partition("-")
    if not dash:
        return None
    try:
        low, high = float(start), float(end)
    except ValueError:
        return None
    if low != low or high != high or low < 0:  # NaN, negative
        return None
    return low, high


class EditService:
    def __init__(
        self,
        db: Database,
        billing: Billing,
        jobs: JobService,
        *,
        prices: Prices | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.db = db
        self.billing = billing
        self.jobs = jobs
        self.prices = prices or Prices()
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []

    # --- checking and creating ----------------------------------------------------------------

    async def source(self, user_id: int, job_id: int) -> Job:
        """One of the user's finished videos. Raises EditRefused not_found (someone else's, or
        deleted) or not_ready (still generating, or failed)."""
        job = await self.jobs.get_for_user(job_id, user_id)
        if job is None:
            raise EditRefused("not_found", job=job_id)
        if job.status is not Status.DELIVERED or job.delivered_as in ("blocked", "unsent"):
            raise EditRefused("not_ready", job=job_id)
        return job

    def check_range(self, job: Job, start: float, end: float) -> None:
        if not (0 <= start < end <= job.length + RANGE_SLACK):
            raise EditRefused("range", length=job.length)
        if end - start < MIN_TRIM:
            raise EditRefused("too_short", least=MIN_TRIM)

    async def create_trim(self, user_id: int, chat_id: int, job_id: int, start: float,
                          end: float) -> Edit:  # fmt: skip
        job = await self.source(user_id, job_id)
        self.check_range(job, start, end)
        end = min(end, job.length)
        return await self._create(user_id, chat_id, "trim", (job.id,), self.prices.trim, start, end)

    async def create_join(self, user_id: int, chat_id: int, job_ids: list[int]) -> Edit:
        if not JOIN_MIN <= len(job_ids) <= JOIN_MAX:
            raise EditRefused("count", least=JOIN_MIN, most=JOIN_MAX)
        if len(set(job_ids)) != len(job_ids):
            raise EditRefused("twice")
        for job_id in job_ids:
            await self.source(user_id, job_id)
        return await self._create(user_id, chat_id, "join", tuple(job_ids), self.prices.join)

    async def _create(
        self,
        user_id: int,
        chat_id: int,
        kind: str,
        sources: tuple[int, ...],
        tokens: int,
        start: float | None = None,
        end: float | None = None,
    ) -> Edit:
        """The edit and its charge, one transaction; the per-user limit of work in progress
        counts it. Raises TooManyActiveJobs or InsufficientBalance, changing nothing."""
        async with self.db.transaction() as tx:
            await self.jobs.refuse_if_full(tx, user_id)
            edit_id = await tx.insert(
                "INSERT INTO edits (user_id, chat_id, kind, sources, start_s, end_s, tokens,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (user_id, chat_id, kind, json.dumps(list(sources)), start, end, tokens,
                 self.clock()),
            )  # fmt: skip
            await self.billing.charge_for_edit(user_id, edit_id, tokens, tx=tx)
            row = await tx.fetchone("SELECT * FROM edits WHERE id = ?", (edit_id,))
        assert row is not None
        for listener in self._listeners:
            listener()
        return Edit.from_row(row)

    def on_created(self, listener: Callable[[], None]) -> None:
        """Called after an edit is committed (the edit runner starts it now)."""
        self._listeners.append(listener)

    # --- reading ------------------------------------------------------------------------------

    async def get(self, edit_id: int) -> Edit | None:
        row = await self.db.fetchone("SELECT * FROM edits WHERE id = ?", (edit_id,))
        return None if row is None else Edit.from_row(row)

    async def sources_of(self, edit: Edit) -> list[Job]:
        """The edit's source videos in order (as stored now: one may have been deleted)."""
        found = []
        for job_id in edit.sources:
            job = await self.jobs.get(job_id)
            if job is not None and job.user_id == edit.user_id:
                found.append(job)
        return found

    # --- the runner's moves -------------------------------------------------------------------

    async def claim(self, owner: str, lease: float, limit: int) -> list[Edit]:
        """Up to `limit` edits to make: queued, or running under a lease that ran out (the
        replica that had it died). Each taken is running under `owner`'s lease."""
        if limit <= 0:
            return []
        now = self.clock()
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE edits SET status = 'running', lease_owner = ?, lease_until = ?,"
                " attempts = attempts + 1 WHERE id IN (SELECT id FROM edits WHERE"
                " status = 'queued' OR (status = 'running' AND lease_until < ?)"
                " ORDER BY id LIMIT ?) RETURNING *",
                (owner, now + lease, now, limit),
            )
        return sorted((Edit.from_row(r) for r in rows), key=lambda e: e.id)

    async def finish(self, edit: Edit, owner: str, file_id: str, seconds: float) -> Job | None:
        """Done: its video is a new gallery item (a delivered job that remembers its sources),
        in one transaction with the edit's end. None when the edit is no longer this owner's."""
        sources = await self.sources_of(edit)
        head = sources[0] if sources else None
        now = self.clock()
        params: dict[str, Any] = {"duration": round(seconds, 2)}
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT status, lease_owner FROM edits WHERE id = ?", (edit.id,)
            )
            if row is None or row["status"] != "running" or row["lease_owner"] != owner:
                return None
            job_id = await tx.insert(
                "INSERT INTO jobs (user_id, chat_id, mode, model_id, params, prompt, status,"
                " task_uuid, tokens, file_id, delivered_as, notified, created_at, ready_at,"
                " finished_at, updated_at, edit_kind, edit_of)"
                " VALUES (?, ?, ?, ?, ?, ?, 'delivered', ?, ?, ?, 'video', 1, ?, ?, ?, ?, ?, ?)",
                (
                    edit.user_id,
                    edit.chat_id,
                    head.mode.value if head else "t2v",
                    head.model_id if head else "edit",
                    json.dumps(params),
                    head.user_prompt if head else "",
                    str(uuid.uuid4()),
                    edit.tokens,
                    file_id,
                    now,
                    now,
                    now,
                    now,
                    edit.kind,
                    json.dumps(list(edit.sources)),
                ),
            )
            await tx.execute(
                "UPDATE edits SET status = 'done', result_job = ?, finished_at = ?,"
                " lease_owner = NULL, lease_until = NULL, notified = 1 WHERE id = ?",
                (job_id, now, edit.id),
            )
            made = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        assert made is not None
        return Job.from_row(made)

    async def fail(self, edit: Edit, error: str) -> Edit | None:
        """Failed and refunded, once, in one transaction; the user is told by the runner's
        notice step (notified = 0). None when it had finished already."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE edits SET status = 'failed', error = ?, finished_at = ?,"
                " lease_owner = NULL, lease_until = NULL"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (error[:300], self.clock(), edit.id),
            )
            if not changed:
                return None
            await self.billing.refund_edit(edit.id, tx=tx, reason=error[:100])
            row = await tx.fetchone("SELECT * FROM edits WHERE id = ?", (edit.id,))
        assert row is not None
        return Edit.from_row(row)

    async def release(self, edit: Edit, owner: str, delay: float) -> None:
        """Try again later (a fault that may pass): queued again after `delay` seconds."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE edits SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                (self.clock() + delay, edit.id, owner),
            )

    async def unnotified(self, limit: int = 50) -> list[Edit]:
        rows = await self.db.fetchall(
            "SELECT * FROM edits WHERE status = 'failed' AND notified = 0 ORDER BY id LIMIT ?",
            (limit,),
        )
        return [Edit.from_row(r) for r in rows]

    async def mark_notified(self, edit: Edit) -> bool:
        """Once: True for the caller that may tell the user."""
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE edits SET notified = 1 WHERE id = ? AND notified = 0", (edit.id,)
                )
            )

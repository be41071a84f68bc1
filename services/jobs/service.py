"""`JobService`: the only code that writes the jobs table. Creating a job charges for it in the
same transaction; every move is a compare-and-set on the stored status."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from services.billing import Billing
from services.catalog import Catalog, Mode, Problem, ValidParams, check_prompt
from services.db import Database, Tx
from services.drafts import Drafts
from services.errors import (
    GenerationPaused,
    IllegalTransition,
    InvalidRequest,
    TooManyActiveJobs,
    UnknownModel,
)
from services.jobs.model import ACTIVE, PAUSE_FLAG, TRANSITIONS, Clock, Draft, Job, Status
from services.runware import image_mime, new_task_uuid


@dataclass(frozen=True)
class AdminRefund:
    job_id: int
    user_id: int  # the job's owner
    tokens: int  # given back now (0: refunded before)
    stopped: bool  # the job was still in progress and is now failed (the runner tells the user)


class CancelOutcome(StrEnum):
    CANCELLED = "cancelled"  # refunded in full; nothing reached Runware
    AT_RUNWARE = "at_runware"  # Runware has it (or is being sent it) and bills it: not refunded
    FINISHED = "finished"  # delivered or failed already
    NOT_FOUND = "not_found"  # no such job of this user


@dataclass(frozen=True)
class UserCancel:
    outcome: CancelOutcome
    job: Job | None = None  # the job as it is now (None: not found)
    tokens: int = 0  # given back by this cancel


class JobService:
    def __init__(
        self,
        db: Database,
        billing: Billing,
        catalog: Catalog,
        *,
        max_active_per_user: int = 2,
        clock: Clock = time.time,
    ) -> None:
        self.db = db
        self.billing = billing
        self.catalog = catalog
        self.max_active_per_user = max_active_per_user
        self.clock = clock
        self.drafts = Drafts(db, clock=clock)  # the cards a job is made from: their owner
        self._listeners: list[Callable[[], None]] = []

    def on_created(self, listener: Callable[[], None]) -> None:
        """Called after a job is committed (the runner wakes up instead of waiting a tick)."""
        self._listeners.append(listener)

    # --- creating -----------------------------------------------------------------------------

    def check(self, draft: Draft) -> tuple[ValidParams, str]:
        """Validate a draft against the catalog: (parameters with price, trimmed prompt)."""
        model = self.catalog.available(draft.model_id)
        if model is None:  # unknown, retired, or every combination withdrawn
            raise UnknownModel(draft.model_id)
        frames = 2 if draft.has_last_frame else 1
        result = self.catalog.validate(model, draft.mode, draft.params, frames)
        problems: list[Problem] = [] if isinstance(result, ValidParams) else list(result)
        prompt = check_prompt(model, draft.mode, draft.prompt)
        if isinstance(prompt, Problem):
            problems.append(prompt)
        has_image = draft.image_uuid is not None or (
            draft.image is not None and image_mime(draft.image) is not None
        )
        if draft.mode is Mode.I2V and not has_image:
            problems.append(Problem("image", "image-to-video needs a JPEG, PNG or WEBP image"))
        if draft.mode is Mode.T2V and (draft.image is not None or draft.image_uuid is not None):
            problems.append(Problem("image", "text-to-video takes no image"))
        if draft.has_last_frame and not (draft.mode is Mode.I2V and model.last_frame):
            problems.append(Problem("last_frame", f"{model.name} takes no last frame here"))
        extension = isinstance(result, ValidParams) and result.extend
        if extension != (draft.video_input is not None):
            problems.append(Problem("extend", "an extension needs the video it extends"))
        if draft.last_image is not None and image_mime(draft.last_image) is None:
            problems.append(Problem("image", "the last frame must be a JPEG, PNG or WEBP image"))
        if problems or not isinstance(result, ValidParams) or isinstance(prompt, Problem):
            raise InvalidRequest(problems)
        return result, prompt

    async def create(self, draft: Draft, *, progress_message_id: int | None = None) -> Job:
        """Record the job and charge for it, as one transaction; nothing is sent yet.

        Raises GenerationPaused, UnknownModel, InvalidRequest, TooManyActiveJobs or
        InsufficientBalance, each changing nothing."""
        params, prompt = self.check(draft)
        await self._refuse_if_paused()
        async with self.db.transaction() as tx:
            job = await self._insert(tx, draft, params, prompt, progress_message_id)
        self._created()
        return job

    async def create_from_draft(
        self, draft_id: int, user_id: int, *, progress_message_id: int | None = None
    ) -> list[Job]:
        """Generate from a confirmation card: its variants or its models side by side (one job
        each, in order), all created
        and charged in the transaction that uses the card up, so either all start or none does,
        and a second tap (or an old card) never makes more. The first job takes the card's
        message for its progress. Raises DraftGone besides the refusals of create() (the limit
        of active jobs and the balance count every variant); a refusal leaves the card usable."""
        stored, image, last = await self.drafts.for_job(draft_id, user_id)
        sent = stored.prompt_sent
        draft = Draft(
            user_id=user_id,
            chat_id=user_id,
            mode=stored.mode,
            model_id=stored.model_id,
            params=stored.params,
            prompt=sent or stored.prompt,
            image=image,
            image_uuid=stored.image_uuid,
            prompt_original=stored.prompt if sent else None,
            last_image=last,
            last_image_uuid=stored.last_image_uuid,
            video_input=stored.video_input,
            extends=stored.extends,
        )
        if stored.compare:  # models side by side: each entry its own model and parameters
            each = [replace(draft, model_id=m, params=p) for m, p in stored.compare]
        else:  # variants: the same request again
            each = [draft] * max(1, stored.variants)
        checked = [self.check(one) for one in each]  # every one valid before anything is made
        await self._refuse_if_paused()
        count = len(each)
        async with self.db.transaction() as tx:
            await self.drafts.use(tx, draft_id)
            made: list[Job] = []
            for n, (one, (params, prompt)) in enumerate(zip(each, checked, strict=True), 1):
                made.append(
                    await self._insert(
                        tx,
                        one,
                        params,
                        prompt,
                        progress_message_id if n == 1 else None,
                        group=(made[0].id if made else None, n, count) if count > 1 else None,
                        compare=stored.compare is not None,
                    )
                )
            if count > 1:
                await tx.execute(
                    "UPDATE jobs SET group_id = ? WHERE id = ?", (made[0].id, made[0].id)
                )
                made = [await _get(tx, job.id) for job in made]
            await self.drafts.link(tx, draft_id, made[0].id)
        self._created()
        return made

    async def _refuse_if_paused(self) -> None:
        paused = await self.paused()
        if paused:
            raise GenerationPaused(paused)

    def _created(self) -> None:
        for listener in self._listeners:
            listener()

    async def _insert(
        self,
        tx: Tx,
        draft: Draft,
        params: ValidParams,
        prompt: str,
        progress_message_id: int | None,
        *,
        group: tuple[int | None, int, int] | None = None,  # (group_id, variant, variants)
        compare: bool = False,
    ) -> Job:
        await self.refuse_if_full(tx, draft.user_id)
        now = self.clock()
        group_id, variant, variants = group or (None, 1, 1)
        wants = await tx.fetchone(
            "SELECT send_file, send_link FROM users WHERE id = ?", (draft.user_id,)
        )
        extras = ",".join(
            name for name, on in (("file", wants and wants["send_file"]),
                                  ("link", wants and wants["send_link"])) if on
        ) or None  # fmt: skip
        job_id = await tx.insert(
            "INSERT INTO jobs (user_id, chat_id, mode, model_id, params, prompt, task_uuid,"
            " image_uuid, tokens, progress_message_id, prompt_original, created_at, updated_at,"
            " callback_token, group_id, variant, variants, extras, last_frame, last_image_uuid,"
            " compare, video_input, extends)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft.user_id,
                draft.chat_id,
                draft.mode.value,
                draft.model_id,
                json.dumps(params.to_json()),
                prompt,
                new_task_uuid(),
                draft.image_uuid,
                params.price,
                progress_message_id,
                draft.prompt_original,
                now,
                now,
                secrets.token_urlsafe(24),
                group_id,
                variant,
                variants,
                extras,
                int(draft.has_last_frame),
                draft.last_image_uuid,
                int(compare),
                draft.video_input,
                draft.extends,
            ),
        )
        await self.billing.charge_for_job(draft.user_id, job_id, params.price, tx=tx)
        if draft.image is not None and draft.image_uuid is None:
            await tx.execute(
                "INSERT INTO job_images (job_id, mime, data) VALUES (?, ?, ?)",
                (job_id, image_mime(draft.image), draft.image),
            )
        if draft.last_image is not None and draft.last_image_uuid is None:
            await tx.execute(
                "INSERT INTO job_last_images (job_id, mime, data) VALUES (?, ?, ?)",
                (job_id, image_mime(draft.last_image), draft.last_image),
            )
        return await _get(tx, job_id)

    # --- reading ------------------------------------------------------------------------------

    async def refuse_if_full(self, tx: Tx, user_id: int) -> None:
        """TooManyActiveJobs when the user's videos in progress and edits fill their limit
        (in the caller's transaction: the job or edit it is about to make counts next)."""
        if await tx.fetchval(_ACTIVE_COUNT, (user_id, *ACTIVE, user_id)) >= (
            self.max_active_per_user
        ):
            raise TooManyActiveJobs(self.max_active_per_user)

    async def active_count(self, user_id: int) -> int:
        """The user's jobs in progress (what the per-user limit counts)."""
        value = await self.db.fetchval(
            _ACTIVE_COUNT,
            (user_id, *ACTIVE, user_id),
        )
        return int(value or 0)

    async def group(self, group_id: int, user_id: int) -> list[Job]:
        """The user's variants of one card, in order (anyone else's: none)."""
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE group_id = ? AND user_id = ? AND hidden = 0 ORDER BY variant",
            (group_id, user_id),
        )
        return [Job.from_row(r) for r in rows]

    async def get(self, job_id: int) -> Job | None:
        row = await self.db.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else Job.from_row(row)

    async def image(self, job_id: int) -> bytes | None:
        value = await self.db.fetchval("SELECT data FROM job_images WHERE job_id = ?", (job_id,))
        return bytes(value) if value is not None else None

    async def last_image(self, job_id: int) -> bytes | None:
        value = await self.db.fetchval(
            "SELECT data FROM job_last_images WHERE job_id = ?", (job_id,)
        )
        return bytes(value) if value is not None else None

    async def get_for_user(self, job_id: int, user_id: int) -> Job | None:
        """The user's own job, shown in their gallery; anyone else's reads as not found."""
        row = await self.db.fetchone(
            "SELECT * FROM jobs WHERE id = ? AND user_id = ? AND hidden = 0", (job_id, user_id)
        )
        return None if row is None else Job.from_row(row)

    async def gallery(self, user_id: int, offset: int, limit: int) -> tuple[list[Job], int]:
        """A page of the user's jobs, newest first, and how many there are in all. The variants
        of one card are one entry: their first job still shown stands for the group."""
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs j WHERE {_LISTED} ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        total = await self.db.fetchval(f"SELECT count(*) FROM jobs j WHERE {_LISTED}", (user_id,))
        return [Job.from_row(r) for r in rows], int(total)

    async def delivered(self, user_id: int, offset: int, limit: int) -> tuple[list[Job], int]:
        """A page of the user's finished videos (each one, variants too), newest first, and
        how many there are: what a join picks from."""
        where = (
            "user_id = ? AND hidden = 0 AND status = 'delivered'"
            " AND coalesce(delivered_as, 'video') NOT IN ('blocked', 'unsent')"
        )
        rows = await self.db.fetchall(
            f"SELECT * FROM jobs WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (user_id, limit, offset),
        )
        total = await self.db.fetchval(f"SELECT count(*) FROM jobs WHERE {where}", (user_id,))
        return [Job.from_row(r) for r in rows], int(total)

    async def hide(self, job_id: int, user_id: int) -> bool:
        """Remove from the user's gallery; the job and its ledger rows stay for accounting."""
        async with self.db.transaction() as tx:
            return bool(
                await tx.execute(
                    "UPDATE jobs SET hidden = 1 WHERE id = ? AND user_id = ?"
                    " AND status IN ('delivered', 'failed')",
                    (job_id, user_id),
                )
            )

    async def last_settings(self, user_id: int, mode: Mode) -> tuple[str, dict[str, Any]] | None:
        """The model and parameters of the user's latest job in this mode."""
        row = await self.db.fetchone(
            "SELECT model_id, params FROM jobs WHERE user_id = ? AND mode = ?"
            " AND edit_kind IS NULL ORDER BY id DESC LIMIT 1",
            (user_id, mode.value),
        )
        return None if row is None else (row["model_id"], json.loads(row["params"]))

    async def claim_polls(self, limit: int, hold: float) -> list[Job]:
        """Up to `limit` submitted jobs due for a poll, each taken by this poll round alone:
        their next poll moves `hold` seconds on, so another replica's round (or a later one of
        this replica's) skips them until this round records its answers (record_polls) or the
        hold runs out because the replica died. A read first: no write when none is due."""
        now = self.clock()
        due = await self.db.fetchval(
            "SELECT count(*) FROM jobs WHERE status = 'submitted' AND next_at <= ?", (now,)
        )
        if not due:
            return []
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE jobs SET next_at = ? WHERE id IN (SELECT id FROM jobs"
                " WHERE status = 'submitted' AND next_at <= ? ORDER BY next_at, id LIMIT ?)"
                " RETURNING *",
                (now + hold, now, limit),
            )
        return sorted((Job.from_row(r) for r in rows), key=lambda j: j.id)

    async def older_than(self, age: float) -> list[Job]:
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE status IN ('queued', 'uploading', 'submitted')"
            " AND created_at < ?",
            (self.clock() - age,),
        )
        return [Job.from_row(r) for r in rows]

    # --- leases -------------------------------------------------------------------------------

    async def claim(
        self, statuses: tuple[Status, ...], owner: str, lease: float, limit: int, **where: Any
    ) -> list[Job]:
        """Take up to `limit` due jobs in these statuses that no live lease holds, this
        runner's own included: a step still running is never started a second time."""
        if limit <= 0:
            return []
        now = self.clock()
        extra = "".join(f" AND {column} = ?" for column in where)
        marks = ", ".join("?" for _ in statuses)
        async with self.db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE jobs SET lease_owner = ?, lease_until = ? WHERE id IN ("
                f" SELECT id FROM jobs WHERE status IN ({marks}) AND next_at <= ?"
                f" AND (lease_until IS NULL OR lease_until < ?){extra}"
                " ORDER BY next_at, id LIMIT ?) RETURNING *",
                (owner, now + lease, *statuses, now, now, *where.values(), limit),
            )
        return sorted((Job.from_row(r) for r in rows), key=lambda j: j.id)

    async def poll_soon(self, job_id: int) -> None:
        """The job's next poll now (a pushed result that said nothing final)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET next_at = ? WHERE id = ? AND status = 'submitted'",
                (self.clock(), job_id),
            )

    async def renew(self, job_id: int, owner: str, lease: float) -> bool:
        """Extend `owner`'s lease on the job; False when another runner has taken it since
        (this one's lease ran out while it waited)."""
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                (self.clock() + lease, job_id, owner),
            )
        return changed > 0

    async def release(self, job_id: int, owner: str, *, delay: float = 0.0) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, next_at = ?"
                " WHERE id = ? AND lease_owner = ?",
                (self.clock() + delay, job_id, owner),
            )

    async def release_leases(self, owner: str) -> None:
        """Every job `owner` holds, free for the next runner at once (a clean stop)."""
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?",
                (owner,),
            )

    async def record_polls(self, polled: list[tuple[int, int | None, float]]) -> None:
        """One poll round's answers for jobs still generating: (job id, progress, next poll at),
        in one transaction."""
        now = self.clock()
        async with self.db.transaction() as tx:
            await tx.executemany(
                "UPDATE jobs SET progress = ?, poll_count = poll_count + 1, next_at = ?,"
                " updated_at = ? WHERE id = ? AND status = 'submitted'",
                [(progress, next_at, now, job_id) for job_id, progress, next_at in polled],
            )

    # --- moves --------------------------------------------------------------------------------

    async def move(self, job: Job, to: Status, **fields: Any) -> Job | None:
        """Compare-and-set `job.status` -> `to`, writing `fields`. None if the job had moved on
        (someone else took the step); IllegalTransition if the edge does not exist."""
        async with self.db.transaction() as tx:
            return await self._move(tx, job.id, job.status, to, **fields)

    async def _move(
        self, tx: Tx, job_id: int, current: Status, to: Status, **fields: Any
    ) -> Job | None:
        if to not in TRANSITIONS[current]:
            raise IllegalTransition(f"job {job_id}: {current} -> {to}")
        fields.setdefault("updated_at", self.clock())
        if to in (Status.DELIVERED, Status.FAILED):
            fields.setdefault("finished_at", self.clock())
            fields.setdefault("lease_owner", None)
            fields.setdefault("lease_until", None)
        assignments = ", ".join(f"{column} = ?" for column in fields)
        changed = await tx.execute(
            f"UPDATE jobs SET status = ?, {assignments} WHERE id = ? AND status = ?",
            (to.value, *fields.values(), job_id, current.value),
        )
        if not changed:
            return None
        return await _get(tx, job_id)

    async def update(self, job: Job, **fields: Any) -> None:
        """Write fields without moving the job (progress, counters, message ids)."""
        fields.setdefault("updated_at", self.clock())
        assignments = ", ".join(f"{column} = ?" for column in fields)
        async with self.db.transaction() as tx:
            await tx.execute(
                f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job.id)
            )

    async def fail(
        self,
        job: Job,
        error_class: str,
        message: str,
        *,
        only_from: tuple[Status, ...] | None = None,
    ) -> Job | None:
        """Move to failed and refund, in one transaction. None if the job was already final,
        or (with `only_from`) had moved past those states: a failed submit fails only a job
        still waiting to be submitted, not one whose result Runware pushed meanwhile."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT status FROM jobs WHERE id = ?", (job.id,))
            if row is None or Status(row["status"]) in (Status.DELIVERED, Status.FAILED):
                return None
            if only_from is not None and Status(row["status"]) not in only_from:
                return None
            failed = await self._move(
                tx,
                job.id,
                Status(row["status"]),
                Status.FAILED,
                error_class=error_class,
                error_message=message[:1000],
                next_at=0,
            )
            await self.billing.refund_job(job.id, tx=tx, reason=error_class)
            await tx.execute("DELETE FROM job_images WHERE job_id = ?", (job.id,))
            await tx.execute("DELETE FROM job_last_images WHERE job_id = ?", (job.id,))
            return failed

    async def refund_by_admin(self, job_id: int, admin_id: int) -> AdminRefund | None:
        """An admin's refund of a job (None: there is no such job). A job still in progress is
        stopped in the same transaction, so Runware finishing it later delivers nothing (the
        runner only polls and delivers jobs in their running states); the runner tells the
        user, as for any failure, and takes down the progress message. A job refunded before
        gives back 0 and changes nothing."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone("SELECT status, user_id FROM jobs WHERE id = ?", (job_id,))
            if row is None:
                return None
            status = Status(row["status"])
            stopped = status not in (Status.DELIVERED, Status.FAILED)
            refunded = await self.billing.refund_job(
                job_id, tx=tx, reason="admin", admin_id=admin_id
            )
            if stopped and refunded:
                await self._move(
                    tx,
                    job_id,
                    status,
                    Status.FAILED,
                    error_class="cancelled",
                    error_message=f"stopped and refunded by admin {admin_id}",
                    next_at=0,
                    lease_owner=None,
                    lease_until=None,
                )
                await tx.execute("DELETE FROM job_images WHERE job_id = ?", (job_id,))
                await tx.execute("DELETE FROM job_last_images WHERE job_id = ?", (job_id,))
            return AdminRefund(job_id, int(row["user_id"]), refunded, stopped and bool(refunded))

    async def cancel_by_user(self, job_id: int, user_id: int) -> UserCancel:
        """The user's Cancel on a job's progress message. Before the runner commits to sending
        the task (`sending_at`), the job fails as cancelled and is refunded in full in one
        transaction, and the user needs no separate notice (they saw the answer). After it,
        Runware bills the task whatever happens: nothing changes (README, "Cancelling")."""
        async with self.db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM jobs WHERE id = ? AND user_id = ?", (job_id, user_id)
            )
            if row is None:
                return UserCancel(CancelOutcome.NOT_FOUND)
            job = Job.from_row(row)
            if job.status in (Status.DELIVERED, Status.FAILED):
                return UserCancel(CancelOutcome.FINISHED, job)
            if job.status not in (Status.QUEUED, Status.UPLOADING) or job.sending_at is not None:
                return UserCancel(CancelOutcome.AT_RUNWARE, job)
            cancelled = await self._move(
                tx,
                job_id,
                job.status,
                Status.FAILED,
                error_class="user_cancelled",
                error_message="cancelled by the user before it was sent",
                next_at=0,
                # They saw the answer; a side-by-side job still takes the notice step (silent
                # for a cancel), which sends the group's summary when it is the last one.
                notified=0 if job.compare else 1,
            )
            assert cancelled is not None  # the status was read in this transaction
            tokens = await self.billing.refund_job(job_id, tx=tx, reason="user_cancelled")
            await tx.execute("DELETE FROM job_images WHERE job_id = ?", (job_id,))
            await tx.execute("DELETE FROM job_last_images WHERE job_id = ?", (job_id,))
            return UserCancel(CancelOutcome.CANCELLED, cancelled, tokens)

    async def mark_sending(self, job: Job, owner: str) -> bool:
        """The runner's last step before a task leaves for Runware: true while the job is still
        waiting (not cancelled) and still this runner's. Written first, so a Cancel after it
        cannot refund a task Runware will bill."""
        now = self.clock()
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE jobs SET sending_at = coalesce(sending_at, ?), updated_at = ?"
                " WHERE id = ? AND status IN ('queued', 'uploading') AND lease_owner = ?",
                (now, now, job.id, owner),
            )
        return changed > 0

    async def take_extras(self, job_id: int) -> bool:
        """The file and/or link after a delivered video: true for the one caller that is to send
        them (written first, so they go at most once, even across replicas)."""
        async with self.db.transaction() as tx:
            taken = await tx.execute(
                "UPDATE jobs SET extras_at = ? WHERE id = ? AND extras IS NOT NULL"
                " AND extras_at IS NULL AND status = 'delivered' AND delivered_as = 'video'",
                (self.clock(), job_id),
            )
        return taken > 0

    async def take_summary(self, job: Job) -> list[Job] | None:
        """The jobs of `job`'s side-by-side group once every one is finished (delivered, or
        failed with the user told), taken once for the group: the first caller gets them, any
        later one None. None too while one is still running."""
        if not job.compare or job.group_id is None:
            return None
        rows = await self.db.fetchall(
            "SELECT * FROM jobs WHERE group_id = ? ORDER BY variant", (job.group_id,)
        )
        members = [Job.from_row(r) for r in rows]
        if not members or any(
            m.status is not Status.DELIVERED and not (m.status is Status.FAILED and m.notified)
            for m in members
        ):
            return None
        async with self.db.transaction() as tx:
            taken = await tx.execute(
                "UPDATE jobs SET summary_at = ? WHERE id = ? AND summary_at IS NULL",
                (self.clock(), job.group_id),
            )
        return members if taken else None

    async def forget_image(self, job_id: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM job_images WHERE job_id = ?", (job_id,))

    async def forget_last_image(self, job_id: int) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM job_last_images WHERE job_id = ?", (job_id,))

    # --- pausing ------------------------------------------------------------------------------

    async def paused(self) -> str | None:
        value = await self.db.fetchval("SELECT value FROM flags WHERE name = ?", (PAUSE_FLAG,))
        return str(value) if value else None

    async def pause(self, reason: str) -> bool:
        """Stop accepting new jobs. False if already paused (the first reason is kept)."""
        async with self.db.transaction() as tx:
            if await tx.fetchval("SELECT 1 FROM flags WHERE name = ?", (PAUSE_FLAG,)):
                return False
            await tx.execute(
                "INSERT INTO flags (name, value, updated_at) VALUES (?, ?, ?)",
                (PAUSE_FLAG, reason, self.clock()),
            )
            return True

    async def resume(self) -> bool:
        async with self.db.transaction() as tx:
            return bool(await tx.execute("DELETE FROM flags WHERE name = ?", (PAUSE_FLAG,)))


# What the per-user limit counts: the user's jobs in progress.
# Jobs in progress and edits queued or running: one per-user limit for both.
_ACTIVE_COUNT = (
    "SELECT (SELECT count(*) FROM jobs WHERE user_id = ? AND status IN (?, ?, ?, ?))"
    " + (SELECT count(*) FROM edits WHERE user_id = ? AND status IN ('queued', 'running'))"
)

# A gallery entry: a single video, or the first visible job of a card's variants.
_LISTED = (
    "j.user_id = ? AND j.hidden = 0 AND (j.group_id IS NULL OR j.id = (SELECT min(g.id)"
    " FROM jobs g WHERE g.group_id = j.group_id AND g.hidden = 0))"
)


async def _get(tx: Tx, job_id: int) -> Job:
    row = await tx.fetchone("SELECT * FROM jobs WHERE id = ?", (job_id,))
    assert row is not None
    return Job.from_row(row)

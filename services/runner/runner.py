"""The background runner: takes every job from its stored status to the user's chat.

One loop, one `step()` per tick (or sooner when a job is created):
  expire jobs past the maximum age -> probe Runware if paused by it -> submit queued jobs
  (uploading the image first for image-to-video) -> poll every due job in batched requests ->
  deliver finished videos -> tell users about failed jobs.
Submits, deliveries and failure notices run as tracked tasks with bounded concurrency, each under
a lease on its job. Stopping releases this runner's leases, so a restart resumes at once.
Telegram is reached only through the `Messenger` protocol: this module imports no aiogram."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Awaitable, Coroutine
from typing import Any

from services.catalog import Catalog, ValidParams, VideoModel, video_task
from services.catalog_check import CatalogChecker
from services.duties import Duties
from services.jobs import Clock, Job, JobService, Status
from services.runner.contracts import (
    ACCOUNT_ERRORS,
    PROVIDER_PAUSE,
    Messenger,
    RunnerOptions,
    error_text,
)
from services.runner.courier import Courier
from services.runner.health import ProviderHealth
from services.runware import (
    ErrorClass,
    Failed,
    PollResult,
    Processing,
    RunwareClient,
    RunwareFailure,
    Succeeded,
    VideoRequest,
    new_task_uuid,
)
from services.runware.answers import pushed_result

log = logging.getLogger(__name__)

RETRY_ON_SUBMIT = (ErrorClass.TRANSIENT, ErrorClass.PROTOCOL)


class JobRunner:
    def __init__(
        self,
        jobs: JobService,
        runware: RunwareClient,
        catalog: Catalog,
        messenger: Messenger,
        options: RunnerOptions | None = None,
        *,
        checker: CatalogChecker | None = None,
        clock: Clock = time.time,
        duties: Duties | None = None,
    ) -> None:
        self.checker = checker
        self.jobs = jobs
        self.runware = runware
        self.catalog = catalog
        self.messenger = messenger
        self.options = options or RunnerOptions()
        self.clock = clock
        self.owner = f"runner-{uuid.uuid4().hex[:12]}"
        self._tasks: set[asyncio.Task[None]] = set()
        self._submitting = 0
        self._delivering = 0
        self._progress_round: asyncio.Task[None] | None = None
        self._poll_round: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.health = ProviderHealth(
            jobs,
            runware,
            catalog,
            messenger,
            self.options,
            checker=checker,
            clock=clock,
            duties=duties or Duties(jobs.db, owner=self.owner, clock=clock),
        )
        self.courier = Courier(jobs, messenger, self.options, self.owner, self._fail)

    # --- life cycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self.jobs.on_created(self.wake)
        self._loop_task = asyncio.create_task(self._loop(), name="job-runner")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work, let running steps finish for `grace` seconds, cancel the rest and
        give back this runner's leases."""
        self._stopping.set()
        self._wake.set()
        if self._loop_task is not None:
            await self._loop_task
        await self.drain(grace)
        pending = [t for t in self._tasks if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.jobs.release_leases(self.owner)

    async def drain(self, limit: float | None = None) -> None:
        """Wait until the runner is idle: the tasks started so far and those they start (tests
        use it after step())."""
        loop = asyncio.get_running_loop()
        deadline = None if limit is None else loop.time() + limit
        while pending := [t for t in self._tasks if not t.done()]:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return
            await asyncio.wait(pending, timeout=left)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except Exception:
                log.exception("runner step failed; trying again next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.options.tick)
            self._wake.clear()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    # --- one step -----------------------------------------------------------------------------

    async def step(self) -> None:
        await self._expire()
        await self.health.probe()
        await self.health.refresh_suspensions()
        await self._start_submits()
        self._start_poll()
        await self._start_deliveries()
        await self._start_notices()

    def _start_poll(self) -> None:
        """One poll round at a time, beside the rest: a getResponse that takes long (up to the
        request timeout) holds up neither submits nor deliveries of videos already done."""
        if self._poll_round is not None and not self._poll_round.done():
            return
        self._poll_round = self._spawn(self._poll(), "poll-round")

    async def _expire(self) -> None:
        for job in await self.jobs.older_than(self.options.max_job_age):
            minutes = int(self.options.max_job_age // 60)
            if await self.jobs.fail(job, "timeout", f"not finished within {minutes} minutes"):
                log.warning("job %d timed out in %s", job.id, job.status)

    async def _start_submits(self) -> None:
        if self._stopping.is_set() or await self.jobs.paused() == PROVIDER_PAUSE:
            return  # queued jobs wait for the probe (or their maximum age)
        free = self.options.submit_concurrency - self._submitting
        claimed = await self.jobs.claim(
            (Status.QUEUED, Status.UPLOADING), self.owner, self.options.lease, free
        )
        for job in claimed:
            self._submitting += 1
            self._spawn(self._guard(self._submit(job), "_submitting"), f"submit-{job.id}")

    async def _start_deliveries(self) -> None:
        if self._stopping.is_set():
            return
        free = self.options.delivery_concurrency - self._delivering
        claimed = await self.jobs.claim((Status.SUCCEEDED,), self.owner, self.options.lease, free)
        for job in claimed:
            self._delivering += 1
            self._spawn(self._guard(self.courier.deliver(job), "_delivering"), f"deliver-{job.id}")

    async def _start_notices(self) -> None:
        if self._stopping.is_set():
            return
        claimed = await self.jobs.claim(
            (Status.FAILED,), self.owner, self.options.lease, 20, notified=0
        )
        for job in claimed:
            self._spawn(self.courier.notify(job), f"notice-{job.id}")

    async def _guard(self, work: Awaitable[None], counter: str) -> None:
        try:
            await work
        finally:
            setattr(self, counter, getattr(self, counter) - 1)
            self.wake()  # a free slot: take the next job now, not at the next tick

    # --- submitting ---------------------------------------------------------------------------

    async def _submit(self, job: Job) -> None:
        checked = await self._still_valid(job)
        if checked is None:
            return
        model, params = checked
        attempt = job.submit_attempts + 1  # this one (the job read back after an upload
        await self.jobs.update(job, submit_attempts=attempt)  # already counts it)
        try:
            images: tuple[str, ...] = ()
            if job.mode.value == "i2v":
                if job.image_uuid is None or (job.last_frame and job.last_image_uuid is None):
                    # "again" jobs reuse the images Runware already has
                    moved = await self._upload(job)
                    if moved is None:
                        return
                    job = moved
                assert job.image_uuid is not None
                images = (job.image_uuid,)
                if job.last_frame:
                    assert job.last_image_uuid is not None
                    images = (job.image_uuid, job.last_image_uuid)
            if not await self.jobs.mark_sending(job, self.owner):
                log.info("job %d: cancelled (or taken over) before it was sent", job.id)
                return
            request = VideoRequest(
                job.task_uuid,
                model,
                params,
                job.prompt,
                images,
                ttl=self.options.result_ttl,
                webhook_url=self._result_url(job),
                video_uuid=job.video_input,
            )
            await self.runware.submit_video(request, retry=attempt > 1)
        except RunwareFailure as exc:
            await self._submit_failed(job, exc, attempt)
            return
        now = self.clock()
        first = self.options.safety_poll if self._result_url(job) else self.options.first_poll
        submitted = await self.jobs.move(
            job,
            Status.SUBMITTED,
            submitted_at=now,
            next_at=now + first,
            lease_owner=None,
            lease_until=None,
        )
        if submitted is not None:
            log.info("job %d submitted as %s", job.id, job.task_uuid)
            await self._show_progress(submitted)

    async def _still_valid(self, job: Job) -> tuple[VideoModel, ValidParams] | None:
        """The job's model and parameters as Runware would take them now; otherwise the job is
        failed (refunded, the user told) and None. A request the schema refuses never leaves."""
        model = self.catalog.get(job.model_id)
        if model is None or job.model_id in self.catalog.live.retired:
            await self._fail(job, "retired", f"model {job.model_id} is retired")
            return None
        if self.catalog.live.is_suspended(job.model_id):
            why = self.catalog.live.suspended[job.model_id][1]
            await self._fail(job, ErrorClass.UPSTREAM.value, f"model withdrawn for now: {why}")
            return None
        params = self.catalog.validate(model, job.mode, job.params)
        if not isinstance(params, ValidParams):
            detail = "; ".join(p.message for p in params)
            log.warning("job %d: %s no longer takes its parameters: %s", job.id, model.id, detail)
            await self._fail(job, "refused", detail)
            return None
        if self.checker is not None:
            count = (2 if job.last_frame else 1) if job.mode.value == "i2v" else 0
            frames = ("00000000-0000-4000-8000-000000000000",) * count
            task = video_task(
                model,
                params,
                job.prompt,
                job.task_uuid,
                frames,
                ttl=self.options.result_ttl,
                video=job.video_input,
            )
            refusal = self.checker.refusal(model.id, task)
            if refusal is not None:
                log.warning("job %d: Runware's schema for %s refuses %s", job.id, model.id, refusal)
                await self._fail(job, "refused", refusal)
                return None
        return model, params

    async def _upload(self, job: Job) -> Job | None:
        """Upload the source image once; the stored imageUUID makes a retry skip it."""
        if job.status is Status.QUEUED:
            moved = await self.jobs.move(job, Status.UPLOADING)
            if moved is None:
                return None
            job = moved
            await self._show_progress(job)
        if job.image_uuid is None:
            data = await self.jobs.image(job.id)
            if data is None:
                await self._fail(job, "protocol", "the source image is missing")
                return None
            image_uuid = await self.runware.upload_image(data, task_uuid=new_task_uuid())
            await self.jobs.update(job, image_uuid=image_uuid)
            await self.jobs.forget_image(job.id)
            job = await self.jobs.get(job.id) or job
        if job.last_frame and job.last_image_uuid is None:  # then the last frame, once too
            data = await self.jobs.last_image(job.id)
            if data is None:
                await self._fail(job, "protocol", "the last frame is missing")
                return None
            last_uuid = await self.runware.upload_image(data, task_uuid=new_task_uuid())
            await self.jobs.update(job, last_image_uuid=last_uuid)
            await self.jobs.forget_last_image(job.id)
            job = await self.jobs.get(job.id) or job
        return job

    async def _submit_failed(self, job: Job, exc: RunwareFailure, attempts: int) -> None:
        error = exc.error
        if error.error_class in RETRY_ON_SUBMIT and attempts < self.options.max_submit_attempts:
            delay = self.options.submit_retry_delay * 2 ** (attempts - 1)
            log.warning("job %d: submit failed (%s); again in %.0fs", job.id, error.code, delay)
            await self.jobs.release(job.id, self.owner, delay=delay)
            return
        waiting = (Status.QUEUED, Status.UPLOADING)  # not a job whose result came meanwhile
        if await self._fail(job, error.error_class.value, error_text(error), only_from=waiting):
            await self.health.job_failed(job, exc)

    # --- polling ------------------------------------------------------------------------------

    async def _poll(self) -> None:
        due = await self.jobs.claim_polls(self.options.poll_limit, self.options.poll_hold)
        if not due:
            return
        try:
            results = await self.runware.poll([job.task_uuid for job in due])
        except RunwareFailure as exc:
            log.warning("poll of %d jobs failed: %s", len(due), exc.error.describe())
            if exc.error.error_class in ACCOUNT_ERRORS:
                await self.health.provider_down(exc)
            await self._record_polls([(job, job.progress) for job in due])
            return
        now = self.clock()
        still: list[tuple[Job, int | None]] = []
        for job in due:
            result = results.get(job.task_uuid)
            if not await self._settle(job, result, now):
                progress = result.progress if isinstance(result, Processing) else None
                still.append((job, progress if progress is not None else job.progress))
        await self._record_polls(still)
        if any(isinstance(r, Succeeded) for r in results.values()):
            self.wake()
        self._show_progress_round([job for job, _ in still])

    async def _settle(self, job: Job, result: PollResult | None, now: float) -> bool:
        """A final result (polled or pushed) written down: ready, or failed and refunded. The
        moves are compare-and-set, so a poll and a pushed result racing settle it once."""
        if isinstance(result, Succeeded):
            moved = await self.jobs.move(
                job,
                Status.SUCCEEDED,
                video_url=result.video_url,
                video_uuid=result.video_uuid,
                cost_usd=result.cost,
                seed=result.seed,
                progress=100,
                ready_at=now,
                next_at=0,
            )
            if moved is not None:
                log.info("job %d ready (cost %s USD)", job.id, result.cost)
            return True
        if isinstance(result, Failed):
            error = result.error
            await self._fail(job, error.error_class.value, error_text(error))
            await self.health.job_failed(job, RunwareFailure(error))
            return True
        return False

    # --- results pushed by Runware (webhook mode) ---------------------------------------------

    def _result_url(self, job: Job) -> str | None:
        if self.options.result_url is None or job.callback_token is None:
            return None
        return f"{self.options.result_url}/{job.id}/{job.callback_token}"

    async def pushed(self, job_id: int, token: str, body: Any) -> bool:
        """A result Runware POSTed to a job's URL. False (nothing done, nothing said) unless the
        token is the job's; a result with nothing final in it brings the job's poll forward."""
        job = await self.jobs.get(job_id)
        if job is None or job.callback_token is None:
            return False
        if not secrets.compare_digest(token.encode(), job.callback_token.encode()):
            return False
        result = pushed_result(body, job.task_uuid)
        if job.status in (Status.QUEUED, Status.UPLOADING) and job.sending_at is not None:
            if result is None:
                return True  # nothing final: the submit, once written down, brings the polls
            # A final result before the submit is written down: the replica that sent the task
            # died before Runware's answer, or the answer is still on its way. The push (the
            # job's token, its taskUUID) proves Runware has the task: the job is submitted now,
            # rather than waiting for the safety poll. The sender's own move then finds it done.
            moved = await self.jobs.move(
                job,
                Status.SUBMITTED,
                submitted_at=self.clock(),
                next_at=self.clock(),
                lease_owner=None,
                lease_until=None,
            )
            if moved is not None:
                log.info("job %d: its result came before its submit was written down", job.id)
            job = moved or await self.jobs.get(job_id) or job
        if job.status is not Status.SUBMITTED:
            return True  # settled already (a poll came first, or Runware sent it again)
        if await self._settle(job, result, self.clock()):
            self.wake()
        else:
            await self.jobs.poll_soon(job.id)
            self.wake()
        return True

    async def _record_polls(self, polled: list[tuple[Job, int | None]]) -> None:
        if not polled:
            return
        now = self.clock()
        rows = []
        for job, progress in polled:
            interval = min(
                self.options.max_poll_interval,
                self.options.first_poll * self.options.poll_growth ** (job.poll_count + 1),
            )
            if self._result_url(job) is not None:  # the result comes pushed: a safety net
                interval = self.options.safety_poll
            rows.append((job.id, progress, now + interval))
        await self.jobs.record_polls(rows)

    def _show_progress_round(self, jobs: list[Job]) -> None:
        """Progress is best effort: one round at a time, never holding up the loop."""
        if not jobs or (self._progress_round is not None and not self._progress_round.done()):
            return

        async def round_() -> None:
            for job in jobs:
                fresh = await self.jobs.get(job.id)
                if fresh is not None and fresh.status is Status.SUBMITTED:
                    await self._show_progress(fresh)

        self._progress_round = asyncio.create_task(round_(), name="progress-round")
        self._tasks.add(self._progress_round)
        self._progress_round.add_done_callback(self._done)

    async def _show_progress(self, job: Job) -> None:
        try:
            message_id = await self.messenger.show_progress(job)
        except Exception as exc:  # noqa: BLE001 - progress is cosmetic; it never stops a job
            log.warning("job %d: progress message failed: %s", job.id, exc)
            return
        if message_id is not None and message_id != job.progress_message_id:
            await self.jobs.update(job, progress_message_id=message_id)

    async def _fail(
        self,
        job: Job,
        error_class: str,
        message: str,
        *,
        only_from: tuple[Status, ...] | None = None,
    ) -> bool:
        """Failed and refunded (the user is told by the notice step); False if it was not."""
        failed = await self.jobs.fail(job, error_class, message, only_from=only_from)
        if failed is not None:
            log.warning(
                "job %d failed (%s): %s; %d tokens refunded",
                job.id,
                error_class,
                message,
                job.tokens,
            )
            self.wake()
        return failed is not None

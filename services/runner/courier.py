"""Delivering a finished video (retried, then its link) and telling a user their job failed
(retried, then given up), each through the `Messenger`, each under the job's lease."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from services.jobs import Job, JobService, Status
from services.runner.contracts import (
    Delivery,
    LeaseLost,
    Messenger,
    RunnerOptions,
    StillMine,
    VideoUnavailable,
)

log = logging.getLogger(__name__)


class Courier:
    def __init__(
        self,
        jobs: JobService,
        messenger: Messenger,
        options: RunnerOptions,
        owner: str,
        fail: Callable[[Job, str, str], Awaitable[object]],
    ) -> None:
        self.jobs = jobs
        self.messenger = messenger
        self.options = options
        self.owner = owner
        self.fail = fail  # the runner's: refund, then wake up to tell the user

    def _still_mine(self, job: Job) -> StillMine:
        """Renews the lease right before a send: a full lease from there on, so a slow step
        before it (a download, the wait for the send budget) cannot make two senders."""

        async def renew() -> bool:
            return await self.jobs.renew(job.id, self.owner, self.options.lease)

        return renew

    async def deliver(self, job: Job) -> None:
        await self.jobs.update(job, delivery_attempts=job.delivery_attempts + 1)
        try:
            delivery = await self.messenger.deliver(job, self._still_mine(job))
        except LeaseLost:
            log.warning("job %d: its lease ran out before sending; another runner has it", job.id)
            return
        except VideoUnavailable as exc:
            await self.fail(job, "video_unavailable", str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any delivery fault: retried, then a link
            attempts = job.delivery_attempts + 1
            if attempts < self.options.max_delivery_attempts:
                delay = min(600.0, self.options.delivery_retry_delay * 2 ** (attempts - 1))
                log.warning("job %d: delivery failed (%r); again in %.0fs", job.id, exc, delay)
                await self.jobs.release(job.id, self.owner, delay=delay)
                return
            log.error("job %d: the video could not be sent in %d attempts: %r", job.id, attempts,
                      exc)  # fmt: skip
            found = await self._give_up(job, attempts)
            if found is None:
                return
            delivery = found
        await self.jobs.move(
            job, Status.DELIVERED, file_id=delivery.file_id, delivered_as=delivery.delivered_as
        )
        log.info("job %d delivered as %s", job.id, delivery.delivered_as)
        if job.extras and await self.jobs.take_extras(job.id):
            try:
                await self.messenger.send_extras(job)
            except Exception as exc:  # noqa: BLE001 - the video is there; extras are a bonus
                log.warning("job %d: the file or link after the video failed: %r", job.id, exc)
        try:
            await self.messenger.keep_copy(job)
        except Exception as exc:  # noqa: BLE001 - an edit can still fetch it later
            log.info("job %d: no local copy kept: %r", job.id, exc)
        await self.summary(job)

    async def summary(self, job: Job) -> None:
        """The last of a side-by-side group to finish sends the group's summary, once."""
        members = await self.jobs.take_summary(job)
        if members is None:
            return
        try:
            await self.messenger.send_summary(members)
        except Exception as exc:  # noqa: BLE001 - every video is there; the summary is a bonus
            log.warning("group %s: the summary could not be sent: %r", job.group_id, exc)

    async def _give_up(self, job: Job, attempts: int) -> Delivery | None:
        """The link instead of the video. While even a message cannot be sent, a few more tries
        (None: released for later); past them the job is kept as ready ("unsent": the gallery
        has it, /stats counts it) and the admins' log says so."""
        await self.jobs.update(job, delivery_attempts=attempts + 1)
        try:
            return await self.messenger.give_up(job, self._still_mine(job))
        except LeaseLost:
            return None
        except Exception as exc:  # noqa: BLE001 - Telegram unreachable for now
            if attempts + 1 < 2 * self.options.max_delivery_attempts:
                delay = min(600.0, self.options.delivery_retry_delay * 2 ** (attempts - 1))
                log.warning("job %d: its link could not be sent (%r); again in %.0fs", job.id,
                            exc, delay)  # fmt: skip
                await self.jobs.release(job.id, self.owner, delay=delay)
                return None
            log.error("job %d: neither the video nor its link could be sent: %r", job.id, exc)
            return Delivery("unsent")

    async def notify(self, job: Job) -> None:
        # Attempts at telling the user are counted in delivery_attempts: a failed job is never
        # delivered, so the counter is free for its notice.
        try:
            await self.messenger.tell_failed(job)
        except Exception as exc:  # noqa: BLE001 - retried a few times, then given up
            log.warning("job %d: could not tell the user about the failure: %r", job.id, exc)
            if job.delivery_attempts + 1 < self.options.max_delivery_attempts:
                await self.jobs.update(job, delivery_attempts=job.delivery_attempts + 1)
                await self.jobs.release(job.id, self.owner, delay=self.options.delivery_retry_delay)
                return
        await self.jobs.update(job, notified=1, lease_owner=None, lease_until=None)
        await self.summary(job)

"""The health of our Runware account and of each model's provider, as the runner meets it:
account trouble pauses generation (and a probe resumes it), a model Runware no longer knows is
withdrawn, a provider failing again and again takes its model out of the menus for a while.
Admins are told, never too often."""

from __future__ import annotations

import logging
import time

from services.catalog import Catalog
from services.catalog_check import CatalogChecker
from services.duties import Duties
from services.jobs import Clock, Job, JobService
from services.jobs.suspensions import ModelSuspensions
from services.runner.contracts import ACCOUNT_ERRORS, PROVIDER_PAUSE, Messenger, RunnerOptions
from services.runware import ErrorClass, RunwareClient, RunwareError, RunwareFailure

log = logging.getLogger(__name__)

# Provider failures count as "in a row" among the model's jobs of the last day.
STREAK_WINDOW = 24 * 3600.0
# How stale another replica's view of withdrawn models may be (one read of a small table).
SUSPENSIONS_REFRESH = 10.0


class ProviderHealth:
    def __init__(
        self,
        jobs: JobService,
        runware: RunwareClient,
        catalog: Catalog,
        messenger: Messenger,
        options: RunnerOptions,
        *,
        checker: CatalogChecker | None = None,
        clock: Clock = time.time,
        duties: Duties,
    ) -> None:
        self.duties = duties  # probes and account alerts: one replica of the fleet at a time
        self.jobs = jobs
        self.runware = runware
        self.catalog = catalog
        self.messenger = messenger
        self.options = options
        self.checker = checker
        self.clock = clock
        self._next_probe = 0.0
        self._next_refresh = 0.0
        self.suspensions = ModelSuspensions(jobs.db, clock)

    async def job_failed(self, job: Job, exc: RunwareFailure) -> None:
        """A job Runware refused or failed (already refunded): what it says about the account,
        the model and its provider."""
        error = exc.error
        if error.error_class in ACCOUNT_ERRORS:
            await self.provider_down(exc)
        await self.model_gone(job, error)
        await self.count_upstream(job, error)

    async def provider_down(self, exc: RunwareFailure) -> None:
        """Auth or credit trouble: stop submitting, tell the admins (not too often)."""
        paused = await self.jobs.pause(PROVIDER_PAUSE)
        now = self.clock()
        self._next_probe = now + self.options.probe_interval
        if await self.duties.once("alert:runware-account", self.options.admin_alert_interval):
            what = (
                "API key refused" if exc.error.error_class is ErrorClass.AUTH else "out of credit"
            )
            await self.alert(
                f"Runware: {what} ({exc.error.code}: {exc.error.message}). "
                + ("New generations are paused; " if paused else "")
                + "users are refunded. /resume after fixing it, or wait for the automatic probe."
            )

    async def model_gone(self, job: Job, error: RunwareError) -> None:
        """Runware no longer knows the model: withdraw it until the live check says otherwise."""
        if error.error_class is ErrorClass.RETIRED and self.checker is not None:
            await self.checker.mark_retired(job.model_id, f"{error.code}: {error.message}")

    async def count_upstream(self, job: Job, error: RunwareError) -> None:
        """The model's provider failing jobs again and again (runware-api.md: upstream trouble,
        not our account): after `upstream_streak` in a row the model leaves the menus for
        `upstream_pause`, queued jobs for it are refunded without being sent, and the admins are
        told once. A finished video of the model ends the streak. The streak is counted from
        the jobs table and the suspension stored there, so it is the fleet's, not a replica's."""
        if error.error_class is not ErrorClass.UPSTREAM:
            return
        live = self.catalog.live
        streak = self.options.upstream_streak
        suspensions = self.suspensions
        count = await suspensions.provider_failures_in_a_row(job.model_id, streak, STREAK_WINDOW)
        if count < streak or live.is_suspended(job.model_id):
            return
        until = self.clock() + self.options.upstream_pause
        why = f"{error.code}: {error.message}"[:200]
        first = await self.suspensions.suspend_model(job.model_id, until, why)
        await self.refresh_suspensions(force=True)
        if not first:
            return  # another replica withdrew it a moment ago and told the admins
        name = self.catalog.name_of(job.model_id)
        log.warning("%s withdrawn for %.0f min after %d provider failures", job.model_id,
                    self.options.upstream_pause / 60, count)  # fmt: skip
        await self.alert(
            f"{name} ({job.model_id}): {count} jobs in a row failed at its provider "
            f"({error.code}: {error.message[:200]}). Withdrawn from the menus for "
            f"{self.options.upstream_pause / 60:.0f} min; users were refunded. Not our account."
        )

    async def refresh_suspensions(self, *, force: bool = False) -> None:
        """Read the fleet's withdrawn models (at most every `SUSPENSIONS_REFRESH` seconds), so
        a model withdrawn by another replica leaves this one's menus too."""
        now = self.clock()
        if not force and now < self._next_refresh:
            return
        self._next_refresh = now + SUSPENSIONS_REFRESH
        self.catalog.live.replace_suspended(await self.suspensions.suspended_models())

    async def probe(self) -> None:
        """While paused for our account, ask Runware for the account's balance: generation
        resumes only when the key is accepted and the balance is positive."""
        if await self.jobs.paused() != PROVIDER_PAUSE or self.clock() < self._next_probe:
            return
        self._next_probe = self.clock() + self.options.probe_interval
        if not await self.duties.once("runware-probe", self.options.probe_interval * 0.9):
            return  # another replica probes in this period
        try:
            balance = await self.runware.account_balance()
        except RunwareFailure as exc:
            log.info("probe: Runware still refuses (%s)", exc.error.code)
            return
        if balance <= 0:
            log.info("probe: the Runware balance is %.2f USD; generation stays paused", balance)
            return
        if await self.jobs.resume():
            log.warning("probe: Runware balance %.2f USD; generation resumed", balance)
            await self.alert(
                f"Runware answers again (balance {balance:.2f} USD): generation resumed."
            )

    async def alert(self, text: str) -> None:
        try:
            await self.messenger.alert_admins(text)
        except Exception as exc:  # noqa: BLE001 - an alert must never break the runner
            log.warning("could not alert the admins: %r", exc)

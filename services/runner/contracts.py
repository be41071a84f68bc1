"""What the runner needs from outside and how it is tuned: the `Messenger` protocol (Telegram's
side lives in telegram_side/messenger.py), what a delivery came to, and `RunnerOptions`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from services.jobs import Job
from services.runware import ErrorClass, RunwareError

PROVIDER_PAUSE = "provider"
ACCOUNT_ERRORS = (ErrorClass.AUTH, ErrorClass.OUT_OF_CREDIT)


@dataclass(frozen=True)
class Delivery:
    delivered_as: Literal["video", "link", "blocked", "unsent"]
    file_id: str | None = None


class VideoUnavailable(Exception):
    """The finished video cannot be fetched (e.g. its URL answers 404): refund the job."""


class LeaseLost(Exception):
    """Right before a send, the job's lease was found taken by another runner: this one stops
    without sending (the other sends)."""


StillMine = Callable[[], Awaitable[bool]]


async def always_mine() -> bool:
    return True


class Messenger(Protocol):
    async def show_progress(self, job: Job) -> int | None:
        """Show or update the job's status message; returns its id when a new one was sent."""

    async def deliver(self, job: Job, still_mine: StillMine = always_mine) -> Delivery:
        """Send the finished video. Raises VideoUnavailable, or anything else to retry later.
        `still_mine()` is asked right before each send, after the wait for the send budget
        (it renews the lease); False raises LeaseLost."""

    async def give_up(self, job: Job, still_mine: StillMine = always_mine) -> Delivery:
        """Every attempt at sending the video failed: send its link instead (or find the chat
        unreachable). Raises when even that cannot be sent now."""

    async def tell_failed(self, job: Job) -> None:
        """Tell the user, in plain words, that the job failed and the tokens are back."""

    async def send_extras(self, job: Job) -> None:
        """After the video: the file (original quality) and/or its link, as the user's settings
        asked when the job was made. Best effort, sent once: failures are logged, not retried."""

    async def keep_copy(self, job: Job) -> None:
        """After delivery: a local copy for later edits (VIDEO_CACHE_DIR), best effort."""

    async def send_summary(self, jobs: list[Job]) -> None:
        """Models side by side, all finished: one message listing each model's result, time
        and cost. Sent once (the caller took it once); failures are logged, not retried."""

    async def alert_admins(self, text: str) -> None: ...


@dataclass(frozen=True)
class RunnerOptions:
    tick: float = 1.0  # seconds between steps when nothing wakes the runner
    first_poll: float = 5.0  # after submitting
    poll_growth: float = 1.5
    max_poll_interval: float = 10.0
    max_job_age: float = 30 * 60.0  # then the job fails with a refund
    submit_concurrency: int = 4
    delivery_concurrency: int = 4
    lease: float = 300.0  # a crashed runner's job is taken over after this long
    submit_retry_delay: float = 10.0  # doubled per attempt
    max_submit_attempts: int = 5
    delivery_retry_delay: float = 5.0
    max_delivery_attempts: int = 8
    admin_alert_interval: float = 600.0
    probe_interval: float = 300.0
    poll_limit: int = 5000  # jobs per poll round
    poll_hold: float = 150.0  # a replica that died mid-poll: its jobs are polled again after
    result_ttl: int | None = 72 * 3600  # seconds Runware keeps the video URL (the link fallback)
    upstream_streak: int = 3  # provider failures in a row that withdraw a model for a while
    upstream_pause: float = 30 * 60.0
    # Webhook mode: Runware POSTs each result to <result_url>/<job id>/<token>; polling is then
    # the safety net for a lost callback, every `safety_poll` seconds.
    result_url: str | None = None
    safety_poll: float = 120.0


def error_text(error: RunwareError) -> str:
    """The API's own words for a refusal: message, provider's message, allowed values."""
    text = error.message
    if error.provider_message:
        text += f" ({error.provider_message})"
    if error.allowed_values is not None:
        text += f"; allowed: {error.allowed_values}"
    return text

"""The background runner (`runner.JobRunner`) that takes every job from its stored status to the
user's chat; `courier` sends the results, `health` watches our Runware account and the models'
providers, `contracts` says what the runner needs from outside (the `Messenger`)."""

from services.runner.contracts import (
    PROVIDER_PAUSE,
    Delivery,
    Messenger,
    RunnerOptions,
    VideoUnavailable,
    error_text,
)
from services.runner.runner import JobRunner

__all__ = [
    "PROVIDER_PAUSE",
    "Delivery",
    "JobRunner",
    "Messenger",
    "RunnerOptions",
    "VideoUnavailable",
    "error_text",
]

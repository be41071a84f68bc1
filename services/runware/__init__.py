"""The Runware client: image upload, async video inference, batched polling, typed errors.

Spec: shared/docs/runware-api.md. Every request is a JSON array of tasks; every answer is parsed
into items and errors keyed by taskUUID, whatever shape it came in (`answers`). Transient faults
are retried in `client` (same taskUUID, exponential backoff with jitter, bounded in attempts and
time); every other error is raised or returned at once, typed (`errors`), never as a raw dict."""

from services.runware.answers import Answer, Failed, PollResult, Processing, Succeeded
from services.runware.client import (
    RunwareClient,
    RunwareOptions,
    VideoRequest,
    image_mime,
    new_task_uuid,
)
from services.runware.errors import (
    AuthFailure,
    ContentRefused,
    ErrorClass,
    ModelRetired,
    OutOfCreditFailure,
    ProtocolFailure,
    RunwareError,
    RunwareFailure,
    TransientFailure,
    UpstreamFailure,
    ValidationFailure,
    classify,
)

__all__ = [
    "Answer",
    "AuthFailure",
    "ContentRefused",
    "ErrorClass",
    "Failed",
    "ModelRetired",
    "OutOfCreditFailure",
    "PollResult",
    "Processing",
    "ProtocolFailure",
    "RunwareClient",
    "RunwareError",
    "RunwareFailure",
    "RunwareOptions",
    "Succeeded",
    "TransientFailure",
    "UpstreamFailure",
    "ValidationFailure",
    "VideoRequest",
    "classify",
    "image_mime",
    "new_task_uuid",
]

"""A generation job as stored, its statuses and the moves between them, and a confirmed draft."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.catalog import Mode
from services.db import Row

Clock = Callable[[], float]


class Status(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    DELIVERED = "delivered"
    FAILED = "failed"


ACTIVE = (Status.QUEUED, Status.UPLOADING, Status.SUBMITTED, Status.SUCCEEDED)

TRANSITIONS: dict[Status, set[Status]] = {
    Status.QUEUED: {Status.UPLOADING, Status.SUBMITTED, Status.FAILED},
    Status.UPLOADING: {Status.SUBMITTED, Status.FAILED},
    Status.SUBMITTED: {Status.SUCCEEDED, Status.FAILED},
    Status.SUCCEEDED: {Status.DELIVERED, Status.FAILED},
    Status.DELIVERED: set(),
    Status.FAILED: set(),
}

PAUSE_FLAG = "paused"


@dataclass(frozen=True)
class Job:
    id: int
    user_id: int
    chat_id: int
    mode: Mode
    model_id: str
    params: dict[str, Any]
    prompt: str  # what was sent to Runware
    status: Status
    task_uuid: str
    image_uuid: str | None
    tokens: int
    cost_usd: float | None
    progress: int | None
    video_url: str | None
    file_id: str | None
    delivered_as: str | None
    progress_message_id: int | None
    error_class: str | None
    error_message: str | None
    notified: bool
    submit_attempts: int
    poll_count: int
    delivery_attempts: int
    created_at: float
    submitted_at: float | None
    ready_at: float | None
    finished_at: float | None
    prompt_original: str | None = None  # the user's own words, when `prompt` is a translation
    callback_token: str | None = None  # the secret part of the job's result URL (webhook mode)
    sending_at: float | None = None  # the runner committed to sending it: Runware may bill it
    group_id: int | None = None  # variants of one card: the id of the group's first job
    variant: int = 1  # its place in the group
    variants: int = 1  # the group's size
    extras: str | None = None  # sent after the video: "file", "link" or "file,link"
    extras_at: float | None = None  # when they were taken (at most once)
    last_frame: bool = False  # image-to-video with a first and a last photo
    last_image_uuid: str | None = None  # the last photo at Runware (uploaded after the first)
    seed: int | None = None  # the seed Runware reports for the video
    compare: bool = False  # one of a card's models side by side (its group: the others)
    summary_at: float | None = None  # the group's first job: when its summary was taken
    edit_kind: str | None = None  # made by an edit: "trim" or "join" (None: generated)
    edit_of: tuple[int, ...] = ()  # the videos it was made from, in order
    video_input: str | None = None  # an extension: the video extended (Runware's videoUUID)
    extends: int | None = None  # ... and the job that made it
    video_uuid: str | None = None  # Runware's id of the video made (what an extension names)

    @property
    def fixed_seed(self) -> int | None:
        """The seed the user asked for (the Advanced screen), if any."""
        value = self.params.get("seed")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def user_prompt(self) -> str:
        """What the user wrote: shown in captions and the gallery."""
        return self.prompt_original or self.prompt

    @property
    def duration(self) -> int:
        """Seconds, or 0 for a row whose parameters name none (nothing older should crash)."""
        value = self.params.get("duration")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        return int(value) if isinstance(value, str) and value.isdigit() else 0

    @property
    def length(self) -> float:
        """Seconds as a fraction (an edit's video may be 6.5 s), else as `duration`."""
        value = self.params.get("duration")
        if isinstance(value, float):
            return value
        return float(self.duration)

    @classmethod
    def from_row(cls, row: Row) -> Job:
        return cls(
            id=row["id"],
            user_id=row["user_id"],
            chat_id=row["chat_id"],
            mode=Mode(row["mode"]),
            model_id=row["model_id"],
            params=json.loads(row["params"]),
            prompt=row["prompt"],
            status=Status(row["status"]),
            task_uuid=row["task_uuid"],
            image_uuid=row["image_uuid"],
            tokens=row["tokens"],
            cost_usd=row["cost_usd"],
            progress=row["progress"],
            video_url=row["video_url"],
            file_id=row["file_id"],
            delivered_as=row["delivered_as"],
            progress_message_id=row["progress_message_id"],
            error_class=row["error_class"],
            error_message=row["error_message"],
            notified=bool(row["notified"]),
            submit_attempts=row["submit_attempts"],
            poll_count=row["poll_count"],
            delivery_attempts=row["delivery_attempts"],
            created_at=row["created_at"],
            submitted_at=row["submitted_at"],
            ready_at=row["ready_at"],
            finished_at=row["finished_at"],
            prompt_original=row["prompt_original"],
            callback_token=row["callback_token"],
            sending_at=row["sending_at"],
            group_id=row["group_id"],
            variant=row["variant"],
            variants=row["variants"],
            extras=row["extras"],
            extras_at=row["extras_at"],
            last_frame=bool(row["last_frame"]),
            last_image_uuid=row["last_image_uuid"],
            seed=row["seed"],
            compare=bool(row["compare"]),
            summary_at=row["summary_at"],
            edit_kind=row["edit_kind"],
            edit_of=tuple(json.loads(row["edit_of"])) if row["edit_of"] else (),
            video_input=row["video_input"],
            extends=row["extends"],
            video_uuid=row["video_uuid"],
        )


@dataclass(frozen=True)
class Draft:
    """What a user confirmed: validated again here, whatever the handler checked before."""

    user_id: int
    chat_id: int
    mode: Mode
    model_id: str
    params: dict[str, Any]
    prompt: str
    image: bytes | None = None
    image_uuid: str | None = None  # an image Runware already has ("again" of an image job)
    prompt_original: str | None = None  # the user's words when `prompt` is their translation
    last_image: bytes | None = None  # advanced: the last frame (image-to-video)
    last_image_uuid: str | None = None  # a last frame Runware already has ("again")
    video_input: str | None = None  # an extension: the video to extend (Runware's videoUUID)
    extends: int | None = None  # ... and the user's job that made it

    @property
    def has_last_frame(self) -> bool:
        return self.last_image is not None or self.last_image_uuid is not None

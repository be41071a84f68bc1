"""The videoInference task a valid choice becomes."""

from __future__ import annotations

from typing import Any

from services.catalog.choices import ValidParams
from services.catalog.models import OptionValue, VideoModel


def video_task(
    model: VideoModel,
    params: ValidParams,
    prompt: str,
    task_uuid: str,
    images: tuple[str, ...] = (),
    *,
    ttl: int | None = None,
    video: str | None = None,
) -> dict[str, Any]:
    """The videoInference task: every option the user saw is sent explicitly, each where the
    model takes it; the size as width/height or as resolution, as the model takes it in this
    mode; frame images as inputs.frameImages (first, then last); an extension's video as
    inputs.video."""
    task: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": task_uuid,
        "model": model.id,
        "duration": params.duration,
        "deliveryMethod": "async",
        "includeCost": True,
        "numberResults": 1,
        "outputFormat": "MP4",
    }
    if ttl is not None:
        task["ttl"] = ttl
    if prompt:
        task["positivePrompt"] = prompt
    by = model.size_by(params.mode)
    if by == "dims" and params.size is not None:
        width, _, height = params.size.partition("x")
        task["width"], task["height"] = int(width), int(height)
    elif by == "resolution" and params.resolution is not None:
        task["resolution"] = params.resolution
    if params.seed is not None:
        task["seed"] = params.seed
    if params.negative is not None:
        task["negativePrompt"] = params.negative
    if params.extend:  # the video to extend: Runware's videoUUID of one the model made
        task["inputs"] = {"video": video}
    elif images:
        frames = ("first", "last")[: len(images)]
        task["inputs"] = {
            "frameImages": [
                {"image": image, "frame": frame}
                for image, frame in zip(images, frames, strict=False)
            ]
        }
    for option in model.options_for(params.mode, params.duration, len(images)):
        if option.key in params.options:
            _put(task, option.path, params.options[option.key])
    return task


def _put(task: dict[str, Any], path: str, value: OptionValue) -> None:
    *parents, leaf = path.split(".")
    node = task
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value

"""Runware's answers parsed, whatever shape they came in: items and errors keyed by
taskUUID (`Answer`), and a polled task's state (`Processing`, `Succeeded`, `Failed`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runware.errors import ErrorClass, RunwareError, classify


@dataclass(frozen=True)
class Processing:
    task_uuid: str
    progress: int | None = None


@dataclass(frozen=True)
class Succeeded:
    task_uuid: str
    video_url: str
    video_uuid: str | None
    cost: float | None
    seed: int | None


@dataclass(frozen=True)
class Failed:
    task_uuid: str
    error: RunwareError


PollResult = Processing | Succeeded | Failed


@dataclass
class Answer:
    """One HTTP answer, normalised: result items and errors by taskUUID, plus request-wide
    errors (those that name no task)."""

    http_status: int
    attempts: int = 1  # requests sent for this answer (transient faults are retried)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, RunwareError] = field(default_factory=dict)
    general: list[RunwareError] = field(default_factory=list)
    retry_after: float | None = None  # seconds the answer asked us to wait (Retry-After)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_answer(response: httpx.Response) -> Answer:
    """Runware's answer as results and errors by taskUUID; what cannot be read is a general
    error (never an exception)."""
    status = response.status_code
    answer = Answer(status)
    body = _body(response)
    if isinstance(body, RunwareError):
        answer.general.append(body)
        return answer
    _sort(body, answer)
    if status >= 400 and not answer.errors and not answer.general:
        answer.general.append(
            RunwareError(classify(status, None), f"http{status}", f"HTTP {status}", None, status)
        )
    if status < 400 and not answer.items and not answer.errors and not answer.general:
        answer.general.append(
            RunwareError(
                ErrorClass.PROTOCOL,
                "emptyAnswer",
                f"Runware answered HTTP {status} with neither data nor errors",
                http_status=status,
            )
        )
    return answer


def _body(response: httpx.Response) -> dict[str, Any] | RunwareError:
    """The JSON object of the answer (a bare list is taken as its data), or why there is none."""
    status = response.status_code
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content type")
        return RunwareError(
            classify(status, None) if status >= 400 else ErrorClass.PROTOCOL,
            "notJson",
            f"Runware answered HTTP {status} with a body that is not JSON "
            f"({kind}, {len(response.content)} bytes)",
            http_status=status,
        )
    if isinstance(body, list):  # tolerate a bare list of results
        return {"data": body}
    if not isinstance(body, dict):
        return RunwareError(
            ErrorClass.PROTOCOL,
            "malformedAnswer",
            f"Runware answered HTTP {status} with JSON that is neither object nor list",
            http_status=status,
        )
    return body


def _sort(body: dict[str, Any], answer: Answer) -> None:
    """Results by taskUUID (items without one are not ours); errors by taskUUID or general."""
    status = answer.http_status
    for item in _as_list(body.get("data")):
        if not isinstance(item, dict) or not isinstance(item.get("taskUUID"), str):
            continue
        answer.items.setdefault(item["taskUUID"], []).append(item)
    for obj in _as_list(body.get("errors")) + _as_list(body.get("error")):
        error = RunwareError.from_object(obj, status if status >= 400 else None)
        if error.task_uuid:
            answer.errors.setdefault(error.task_uuid, error)
        else:
            answer.general.append(error)


def pushed_result(body: Any, task_uuid: str) -> PollResult | None:
    """A result Runware POSTed for `task_uuid` (its webhook), read like a getResponse answer.
    The shape is not pinned down by Runware's docs ("the complete task response"), so the known
    ones are taken: {"data": [...], "errors": [...]}, a bare list, a bare task object. Only what
    names this task counts (an error naming none is not believed); None when nothing final is
    in it, and the caller asks with a poll instead."""
    if isinstance(body, list):
        body = {"data": body}
    elif isinstance(body, dict) and "data" not in body and "errors" not in body:
        body = {"data": [body]}
    if not isinstance(body, dict):
        return None
    answer = Answer(200)
    _sort(body, answer)
    answer.general.clear()
    result = poll_result(answer, task_uuid)
    return None if isinstance(result, Processing) else result


def get_response_task(task_uuid: str) -> dict[str, Any]:
    return {"taskType": "getResponse", "taskUUID": task_uuid}


def item_error(item: dict[str, Any], task_uuid: str) -> RunwareError:
    nested = item.get("error")
    if isinstance(nested, list):
        nested = nested[0] if nested else None
    if isinstance(nested, dict):
        nested = {**nested, "taskUUID": task_uuid}
        return RunwareError.from_object(nested, None)
    return RunwareError(
        classify(None, None), "taskFailed", str(item.get("message") or "the task failed"), task_uuid
    )


def poll_result(answer: Answer, task_uuid: str) -> PollResult | None:
    error = answer.errors.get(task_uuid)
    if error is None and answer.general and not answer.items:
        error = replace_uuid(answer.general[0], task_uuid)
    if error is not None:
        return Failed(task_uuid, error)
    items = answer.items.get(task_uuid, [])
    if not items:
        return None
    # A videoURL without an error is a finished video, with or without `status` (the SDK
    # reads it so; model pages show results without one).
    done = next(
        (i for i in items if i.get("videoURL") and i.get("status") in (None, "success")), None
    )
    if done is not None:
        return Succeeded(
            task_uuid,
            video_url=str(done["videoURL"]),
            video_uuid=_str_or_none(done.get("videoUUID")),
            cost=float_or_none(done.get("cost")),
            seed=_int_or_none(done.get("seed")),
        )
    failed = next((i for i in items if i.get("status") == "error"), None)
    if failed is not None:
        return Failed(task_uuid, item_error(failed, task_uuid))
    if any(i.get("status") == "success" for i in items):
        error = RunwareError(
            ErrorClass.PROTOCOL, "noVideoURL", "success without videoURL", task_uuid
        )
        return Failed(task_uuid, error)
    progress = next((p for i in items if (p := _int_or_none(i.get("progress"))) is not None), None)
    if progress is not None:
        progress = max(0, min(100, progress))
    return Processing(task_uuid, progress)


def replace_uuid(error: RunwareError, task_uuid: str) -> RunwareError:
    return RunwareError(
        error.error_class,
        error.code,
        error.message,
        task_uuid,
        error.http_status,
        error.parameter,
        error.allowed_values,
        error.provider_message,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), 30.0))
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def float_or_none(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None

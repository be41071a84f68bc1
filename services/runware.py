"""The Runware client: image upload, async video inference, batched polling, typed errors.

Spec: shared/docs/runware-api.md. Every request is a JSON array of tasks; every answer is parsed
into items and errors keyed by taskUUID, whatever shape it came in. Transient faults are retried
here (same taskUUID, exponential backoff with jitter, bounded in attempts and time); every other
error is raised or returned at once, typed, never as a raw dict."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx

from services.catalog import ValidParams, VideoModel, video_task

log = logging.getLogger(__name__)


# --- errors ------------------------------------------------------------------------------------


class ErrorClass(StrEnum):
    UPSTREAM = "upstream"  # the model's provider is in trouble (not our account): refund
    CONTENT = "content"  # content policy: tell the user plainly, refund
    AUTH = "auth"  # our API key: alert admins, refund, pause
    OUT_OF_CREDIT = "out_of_credit"  # our Runware account: alert admins, pause, refund
    RETIRED = "retired"  # Runware does not know the model any more: withdraw it, refund
    VALIDATION = "validation"  # our bug or catalog drift: refund, log allowedValues
    TRANSIENT = "transient"  # retried; if it persists, "the service is busy"
    DUPLICATE = "duplicate"  # conflictTaskUUID: the task exists already
    PROTOCOL = "protocol"  # an answer we cannot read
    PROVIDER = "provider"  # any other refusal


_CONTENT_CODES = {
    "contentpolicyviolation",
    "providercontentpolicyviolation",
    "promptblocked",
    "imageblocked",
    "nsfwcontentdetected",
    "sensitivecontentdetected",
    "unsafecontentdetected",
    "moderationfailed",
}
_UPSTREAM_CODES = {"modelunavailable", "modeldisabled", "modelnotready"}
_RETIRED_CODES = {"invalidmodel", "unknownmodel", "modelnotfound"}
_VALIDATION_CODES = {
    "unknownparameter",
    "incompatibleparameters",
    "mismatchprovidersettingsprovider",
    "unknownprovidersettingsprovider",
    "validationfailed",
}


def classify(status: int | None, code: str | None, message: str | None = None) -> ErrorClass:
    """Map an HTTP status, a Runware error code (and message) to the classes of
    shared/docs/runware-api.md, in its order: the upstream provider's trouble first (its
    "insufficient credits" is not ours), then content, our account, a retired model,
    validation, transient faults."""
    c = (code or "").lower()
    if c == "conflicttaskuuid":
        return ErrorClass.DUPLICATE
    if c.startswith(("provider", "thirdparty")) and c not in _CONTENT_CODES:
        return ErrorClass.UPSTREAM
    if c in _UPSTREAM_CODES:
        return ErrorClass.UPSTREAM
    if c in _CONTENT_CODES:
        return ErrorClass.CONTENT
    if any(w in c for w in ("apikey", "unauthorized", "forbidden")):
        return ErrorClass.AUTH
    if any(w in c for w in ("credits", "quota", "balance", "paymentrequired")):
        return ErrorClass.OUT_OF_CREDIT
    text = (message or "").lower()
    if c in _RETIRED_CODES or ("model parameter" in text and "air identifier" in text):
        return ErrorClass.RETIRED
    if any(w in c for w in ("timeout", "ratelimit", "noavailableserver")):
        return ErrorClass.TRANSIENT
    if c.startswith(("invalid", "missing", "unsupported")) or c in _VALIDATION_CODES:
        return ErrorClass.VALIDATION
    if status in (401, 403):
        return ErrorClass.AUTH
    if status == 402:
        return ErrorClass.OUT_OF_CREDIT
    if status is not None and (status in (408, 429) or status >= 500):
        return ErrorClass.TRANSIENT
    if status is not None and 400 <= status < 500:
        return ErrorClass.VALIDATION
    return ErrorClass.PROVIDER


@dataclass(frozen=True)
class RunwareError:
    error_class: ErrorClass
    code: str
    message: str
    task_uuid: str | None = None
    http_status: int | None = None
    parameter: str | list[str] | None = None
    allowed_values: list[Any] | None = None
    provider_message: str | None = None  # `responseContent`: the upstream provider's own words

    def describe(self) -> str:
        text = f"{self.error_class.value}/{self.code}: {self.message}"
        if self.parameter:
            text += f" (parameter {self.parameter}"
            if self.allowed_values is not None:
                text += f", allowed {self.allowed_values}"
            text += ")"
        return text

    @classmethod
    def from_object(cls, obj: Any, http_status: int | None) -> RunwareError:
        if not isinstance(obj, dict):
            return cls(ErrorClass.PROTOCOL, "malformedError", f"unreadable error {obj!r:.200}")
        code = str(obj.get("code") or obj.get("errorCode") or "")
        message = str(obj.get("message") or obj.get("error") or code or "no message")
        allowed = obj.get("allowedValues")
        provider = obj.get("responseContent")
        parameter = obj.get("parameter")
        return cls(
            error_class=classify(http_status, code, message),
            code=code or (f"http{http_status}" if http_status else "unknown"),
            message=message[:500],
            task_uuid=obj.get("taskUUID") if isinstance(obj.get("taskUUID"), str) else None,
            http_status=http_status,
            parameter=parameter if isinstance(parameter, str | list) else None,
            allowed_values=allowed if isinstance(allowed, list) else None,
            provider_message=str(provider)[:500] if provider is not None else None,
        )


class RunwareFailure(Exception):
    """Raised by upload_image/submit_video (and poll for request-wide faults)."""

    error_class = ErrorClass.PROVIDER

    def __init__(self, error: RunwareError) -> None:
        super().__init__(error.describe())
        self.error = error


class AuthFailure(RunwareFailure):
    error_class = ErrorClass.AUTH


class OutOfCreditFailure(RunwareFailure):
    error_class = ErrorClass.OUT_OF_CREDIT


class ValidationFailure(RunwareFailure):
    error_class = ErrorClass.VALIDATION


class ContentRefused(RunwareFailure):
    error_class = ErrorClass.CONTENT


class UpstreamFailure(RunwareFailure):
    error_class = ErrorClass.UPSTREAM


class ModelRetired(RunwareFailure):
    error_class = ErrorClass.RETIRED


class TransientFailure(RunwareFailure):
    error_class = ErrorClass.TRANSIENT


class ProtocolFailure(RunwareFailure):
    error_class = ErrorClass.PROTOCOL


_FAILURES: dict[ErrorClass, type[RunwareFailure]] = {
    c.error_class: c
    for c in (
        AuthFailure,
        OutOfCreditFailure,
        ValidationFailure,
        ContentRefused,
        UpstreamFailure,
        ModelRetired,
        TransientFailure,
        ProtocolFailure,
    )
}


def failure(error: RunwareError) -> RunwareFailure:
    return _FAILURES.get(error.error_class, RunwareFailure)(error)


# --- poll results ------------------------------------------------------------------------------


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


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP answer, normalised: result items and errors by taskUUID, plus request-wide
    errors (those that name no task)."""

    http_status: int
    attempts: int = 1  # requests sent for this answer (transient faults are retried)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, RunwareError] = field(default_factory=dict)
    general: list[RunwareError] = field(default_factory=list)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_answer(response: httpx.Response) -> Answer:
    status = response.status_code
    answer = Answer(status)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "no content type")
        error = RunwareError(
            classify(status, None) if status >= 400 else ErrorClass.PROTOCOL,
            "notJson",
            f"Runware answered HTTP {status} with a body that is not JSON "
            f"({kind}, {len(response.content)} bytes)",
            http_status=status,
        )
        answer.general.append(error)
        return answer
    if isinstance(body, list):  # tolerate a bare list of results
        body = {"data": body}
    if not isinstance(body, dict):
        answer.general.append(
            RunwareError(
                ErrorClass.PROTOCOL,
                "malformedAnswer",
                f"Runware answered HTTP {status} with JSON that is neither object nor list",
                http_status=status,
            )
        )
        return answer
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


# --- the client --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunwareOptions:
    timeout: float = 60.0  # per request (read); connect is capped at 10 s
    max_attempts: int = 4  # per request, for transient faults
    max_retry_seconds: float = 60.0  # total time one call may spend retrying
    backoff_base: float = 1.0  # first retry after up to 1 s, then x2 (full jitter)
    backoff_cap: float = 10.0
    poll_batch_size: int = 50
    single_poll_concurrency: int = 8


@dataclass(frozen=True)
class VideoRequest:
    task_uuid: str
    model: VideoModel
    params: ValidParams
    prompt: str
    image_uuids: tuple[str, ...] = ()  # image-to-video: first (and last) frame
    ttl: int | None = None  # seconds the result URL lives


def new_task_uuid() -> str:
    return str(uuid.uuid4())


def image_mime(data: bytes) -> str | None:
    """The MIME type from the bytes themselves (the three formats Runware takes)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


Sleep = Callable[[float], Awaitable[None]]


class RunwareClient:
    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.runware.ai/v1",
        options: RunwareOptions | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.options = options or RunwareOptions()
        self._url = base_url
        self._sleep = sleep
        self._batching = True
        self._http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(self.options.timeout, connect=min(10.0, self.options.timeout)),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def close(self) -> None:
        await self._http.aclose()

    @property
    def batching(self) -> bool:
        """False once the server refused a batched poll; polls then go one task a request."""
        return self._batching

    # --- transport --------------------------------------------------------------------------

    async def _send(
        self,
        tasks: list[dict[str, Any]],
        *,
        task_errors_retry: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST the tasks, retrying transient faults of the whole request (same taskUUIDs).
        With `task_errors_retry`, a request whose every task got a transient error is retried
        too (a submit or upload); polls take such errors as the tasks' own results.

        Returns the parsed answer; raises TransientFailure when the retries run out."""
        started = time.monotonic()
        summary = ",".join(sorted({t["taskType"] for t in tasks}))
        attempt = 0
        while True:
            attempt += 1
            error: RunwareError
            retry_after: float | None = None
            try:
                response = await self._http.post(
                    self._url, json=tasks, headers={**self._headers, **(headers or {})}
                )
            except httpx.TimeoutException as exc:
                error = RunwareError(
                    ErrorClass.TRANSIENT, "timeout", f"timed out: {type(exc).__name__}"
                )
            except httpx.TransportError as exc:
                error = RunwareError(
                    ErrorClass.TRANSIENT, "network", f"network error: {type(exc).__name__}"
                )
            else:
                answer = parse_answer(response)
                answer.attempts = attempt
                if not self._wants_retry(answer, tasks, task_errors_retry):
                    return answer
                error = answer.general[0] if answer.general else next(iter(answer.errors.values()))
                retry_after = _retry_after(response)
            delay = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempt - 1))
            delay = random.uniform(0, delay) if retry_after is None else retry_after
            spent = time.monotonic() - started
            if (
                attempt >= self.options.max_attempts
                or spent + delay > self.options.max_retry_seconds
            ):
                log.warning(
                    "runware %s: giving up after %d attempts: %s",
                    summary,
                    attempt,
                    error.describe(),
                )
                raise TransientFailure(error)
            log.info("runware %s: %s; retry %d in %.1fs", summary, error.describe(), attempt, delay)
            await self._sleep(delay)

    @staticmethod
    def _wants_retry(answer: Answer, tasks: list[dict[str, Any]], task_errors: bool) -> bool:
        if any(e.error_class is ErrorClass.TRANSIENT for e in answer.general):
            return True
        if answer.general or answer.items or not task_errors:
            return False
        # Every task answered with a transient error inside the answer (e.g. HTTP 200).
        uuids = [t["taskUUID"] for t in tasks]
        return all(
            (e := answer.errors.get(u)) is not None and e.error_class is ErrorClass.TRANSIENT
            for u in uuids
        )

    # --- upload -------------------------------------------------------------------------------

    async def upload_image(self, data: bytes, task_uuid: str | None = None) -> str:
        """Upload a JPEG/PNG/WEBP image; returns its imageUUID for frame images. An upload
        answered conflictTaskUUID (a UUID Runware has seen) is sent again under a new UUID."""
        mime = image_mime(data)
        if mime is None:
            raise ValueError("upload_image takes JPEG, PNG or WEBP bytes")
        uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        task_uuid = task_uuid or new_task_uuid()
        for _attempt in range(3):
            task = {"taskType": "imageUpload", "taskUUID": task_uuid, "image": uri}
            log.info("runware imageUpload %s: %s, %d bytes", task_uuid, mime, len(data))
            try:
                item = self._single(await self._send([task]), task_uuid)
            except RunwareFailure as exc:
                if exc.error.error_class is not ErrorClass.DUPLICATE:
                    raise
                log.info("runware imageUpload %s: UUID taken; again under a new one", task_uuid)
                task_uuid = new_task_uuid()
                continue
            image_uuid = item.get("imageUUID")
            if not isinstance(image_uuid, str) or not image_uuid:
                raise ProtocolFailure(
                    RunwareError(
                        ErrorClass.PROTOCOL,
                        "noImageUUID",
                        "imageUpload answered without imageUUID",
                        task_uuid,
                    )
                )
            return image_uuid
        raise ProtocolFailure(
            RunwareError(ErrorClass.PROTOCOL, "conflictTaskUUID", "every upload UUID was taken")
        )

    # --- submit -------------------------------------------------------------------------------

    @staticmethod
    def video_task(request: VideoRequest) -> dict[str, Any]:
        """The videoInference task for a catalog model and validated parameters."""
        return video_task(
            request.model,
            request.params,
            request.prompt,
            request.task_uuid,
            request.image_uuids,
            ttl=request.ttl,
        )

    async def submit_video(self, request: VideoRequest, *, retry: bool = False) -> str:
        """Submit; returns the taskUUID. conflictTaskUUID on a retry of this submit (`retry`:
        an earlier attempt may have reached Runware, or this call resent it after a fault)
        means "already submitted": the caller goes on to poll it. On a first attempt it is a
        real conflict (a reused UUID) and is raised as a protocol failure."""
        task = self.video_task(request)
        log.info(
            "runware videoInference %s: %s, %d s, %d frame image(s)",
            request.task_uuid,
            request.model.id,
            request.params.duration,
            len(request.image_uuids),
        )
        answer = await self._send([task])
        try:
            self._single(answer, request.task_uuid)
        except RunwareFailure as exc:
            if exc.error.error_class is ErrorClass.DUPLICATE:
                if retry or answer.attempts > 1:
                    log.info("runware %s was submitted before; polling it", request.task_uuid)
                    return request.task_uuid
                raise ProtocolFailure(
                    RunwareError(
                        ErrorClass.PROTOCOL,
                        "conflictTaskUUID",
                        "a new task's UUID is already taken at Runware",
                        request.task_uuid,
                    )
                ) from None
            raise
        return request.task_uuid

    async def dry_run(self, task: dict[str, Any]) -> float | None:
        """Validate (and price) a task without running it (`X-Runware-Dry-Run: 1`). Returns
        the USD cost if the answer names one; raises the typed failure if it is refused."""
        answer = await self._send([task], headers={"X-Runware-Dry-Run": "1"})
        item = self._single(answer, task["taskUUID"])
        return _float_or_none(item.get("cost"))

    # --- our account --------------------------------------------------------------------------

    async def account_balance(self) -> float:
        """The account's balance in USD (`accountManagement` / `getDetails`); `balance` is a
        number (2025 docs) or an object with `amount` (2026 schema)."""
        task_uuid = new_task_uuid()
        task = {"taskType": "accountManagement", "taskUUID": task_uuid, "operation": "getDetails"}
        item = self._single(await self._send([task]), task_uuid)
        balance = item.get("balance")
        if isinstance(balance, dict):
            balance = balance.get("amount")
        amount = _float_or_none(balance)
        if amount is None:
            raise ProtocolFailure(
                RunwareError(
                    ErrorClass.PROTOCOL, "noBalance", "getDetails answered without a balance"
                )
            )
        return amount

    @staticmethod
    def _single(answer: Answer, task_uuid: str) -> dict[str, Any]:
        """The one result item of a one-task request, or the typed failure."""
        error = answer.errors.get(task_uuid) or (answer.general[0] if answer.general else None)
        if error is None and len(answer.errors) == 1 and not answer.items:
            error = next(iter(answer.errors.values()))  # an error echoing another/no uuid
        if error is not None:
            raise failure(error)
        items = answer.items.get(task_uuid)
        if not items:
            raise ProtocolFailure(
                RunwareError(
                    ErrorClass.PROTOCOL,
                    "noResult",
                    "the answer does not mention the task",
                    task_uuid,
                )
            )
        item = items[-1]
        if item.get("status") == "error":
            raise failure(_item_error(item, task_uuid))
        return item

    # --- polling ------------------------------------------------------------------------------

    async def poll(self, task_uuids: Iterable[str]) -> dict[str, PollResult]:
        """The state of each task, several getResponse tasks a request (batch size from the
        options). If the server refuses a batch, every later poll goes one task a request.
        Request-wide transient faults that outlast the retries raise TransientFailure."""
        uuids = list(dict.fromkeys(task_uuids))
        results: dict[str, PollResult] = {}
        size = max(1, self.options.poll_batch_size)
        for start in range(0, len(uuids), size):
            chunk = uuids[start : start + size]
            if self._batching and len(chunk) > 1:
                answer = await self._send(
                    [_get_response(u) for u in chunk], task_errors_retry=False
                )
                if self._refused_batch(answer):
                    self._batching = False
                    log.warning(
                        "runware refused a batched getResponse (%s); polling one task a request",
                        answer.general[0].describe(),
                    )
                else:
                    self._raise_general(answer)
                    for u in chunk:
                        result = _poll_result(answer, u)
                        if result is not None:
                            results[u] = result
                    chunk = [u for u in chunk if u not in results]
            results.update(await self._poll_singly(chunk))
        return results

    async def _poll_singly(self, uuids: Sequence[str]) -> dict[str, PollResult]:
        semaphore = asyncio.Semaphore(self.options.single_poll_concurrency)

        async def one(task_uuid: str) -> tuple[str, PollResult]:
            async with semaphore:
                answer = await self._send([_get_response(task_uuid)], task_errors_retry=False)
            self._raise_general(answer, task_uuid)
            result = _poll_result(answer, task_uuid)
            if result is None:
                error = RunwareError(
                    ErrorClass.PROTOCOL,
                    "noResult",
                    "getResponse did not mention the task",
                    task_uuid,
                )
                result = Failed(task_uuid, error)
            return task_uuid, result

        return dict(await asyncio.gather(*(one(u) for u in uuids)))

    @staticmethod
    def _refused_batch(answer: Answer) -> bool:
        return (
            bool(answer.general)
            and not answer.items
            and all(
                e.error_class in (ErrorClass.VALIDATION, ErrorClass.PROVIDER)
                for e in answer.general
            )
        )

    @staticmethod
    def _raise_general(answer: Answer, task_uuid: str | None = None) -> None:
        """A request-wide error (auth, credit, ...) concerns every task: raise it."""
        if answer.general and not answer.items:
            error = answer.general[0]
            if task_uuid and error.error_class in (ErrorClass.VALIDATION, ErrorClass.CONTENT):
                return  # for a one-task request it is that task's failure: _poll_result
            raise failure(error)


def _get_response(task_uuid: str) -> dict[str, Any]:
    return {"taskType": "getResponse", "taskUUID": task_uuid}


def _item_error(item: dict[str, Any], task_uuid: str) -> RunwareError:
    nested = item.get("error")
    if isinstance(nested, list):
        nested = nested[0] if nested else None
    if isinstance(nested, dict):
        nested = {**nested, "taskUUID": task_uuid}
        return RunwareError.from_object(nested, None)
    return RunwareError(
        classify(None, None), "taskFailed", str(item.get("message") or "the task failed"), task_uuid
    )


def _poll_result(answer: Answer, task_uuid: str) -> PollResult | None:
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
            cost=_float_or_none(done.get("cost")),
            seed=_int_or_none(done.get("seed")),
        )
    failed = next((i for i in items if i.get("status") == "error"), None)
    if failed is not None:
        return Failed(task_uuid, _item_error(failed, task_uuid))
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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), 30.0))
    except ValueError:
        return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _float_or_none(value: Any) -> float | None:
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

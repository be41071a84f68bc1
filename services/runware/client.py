"""`RunwareClient`: the requests the bot makes (image upload, video submit, batched polls, the
account probe, dry runs) with their retries."""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from services.catalog import ValidParams, VideoModel, video_task
from services.runware.answers import (
    Answer,
    Failed,
    PollResult,
    float_or_none,
    get_response_task,
    item_error,
    parse_answer,
    poll_result,
    retry_after_seconds,
)
from services.runware.errors import (
    ErrorClass,
    ProtocolFailure,
    RunwareError,
    RunwareFailure,
    TransientFailure,
    failure,
)

log = logging.getLogger(__name__)


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
    webhook_url: str | None = None  # where Runware POSTs the result (webhook mode)
    video_uuid: str | None = None  # an extension: the video to extend (Runware's videoUUID)


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
    def closed(self) -> bool:
        return self._http.is_closed

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
            outcome = await self._attempt(tasks, headers)
            if isinstance(outcome, Answer):
                outcome.attempts = attempt
                if not self._wants_retry(outcome, tasks, task_errors_retry):
                    return outcome
                error = (
                    outcome.general[0] if outcome.general else next(iter(outcome.errors.values()))
                )
                wait_asked = outcome.retry_after
            else:
                error, wait_asked = outcome, None
            delay = min(self.options.backoff_cap, self.options.backoff_base * 2 ** (attempt - 1))
            delay = random.uniform(0, delay) if wait_asked is None else wait_asked
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

    async def _attempt(
        self, tasks: list[dict[str, Any]], headers: dict[str, str] | None
    ) -> Answer | RunwareError:
        """One POST: Runware's answer, or the network fault that kept it from arriving."""
        try:
            response = await self._http.post(
                self._url, json=tasks, headers={**self._headers, **(headers or {})}
            )
        except httpx.TimeoutException as exc:
            return RunwareError(ErrorClass.TRANSIENT, "timeout", f"timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return RunwareError(
                ErrorClass.TRANSIENT, "network", f"network error: {type(exc).__name__}"
            )
        answer = parse_answer(response)
        answer.retry_after = retry_after_seconds(response)
        return answer

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
        task = video_task(
            request.model,
            request.params,
            request.prompt,
            request.task_uuid,
            request.image_uuids,
            ttl=request.ttl,
            video=request.video_uuid,
        )
        if request.webhook_url is not None:
            task["webhookURL"] = request.webhook_url
        return task

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
        return float_or_none(item.get("cost"))

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
        amount = float_or_none(balance)
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
            raise failure(item_error(item, task_uuid))
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
                    [get_response_task(u) for u in chunk], task_errors_retry=False
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
                        result = poll_result(answer, u)
                        if result is not None:
                            results[u] = result
                    chunk = [u for u in chunk if u not in results]
            results.update(await self._poll_singly(chunk))
        return results

    async def _poll_singly(self, uuids: Sequence[str]) -> dict[str, PollResult]:
        semaphore = asyncio.Semaphore(self.options.single_poll_concurrency)

        async def one(task_uuid: str) -> tuple[str, PollResult]:
            async with semaphore:
                answer = await self._send([get_response_task(task_uuid)], task_errors_retry=False)
            self._raise_general(answer, task_uuid)
            result = poll_result(answer, task_uuid)
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
                return  # for a one-task request it is that task's failure: poll_result
            raise failure(error)

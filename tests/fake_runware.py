"""Runware stand-ins: `FakeRunware` for respx (in-process tests) and `RunwareServer`, an HTTP
server on 127.0.0.1 for the real bot process. The server checks every task against the spec
(shared/docs/runware-api.md) independently of the bot's catalog: a wrong shape is answered the
way Runware answers it and recorded in `violations`, so a test fails on any protocol mistake."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import itertools
import json
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
from aiohttp import web

from tests.mp4 import mp4_bytes
from tests.runware_rules import UUID4, Rules

API = "https://runware.test/v1"
VIDEOS = "https://videos.runware.test"
SCHEMAS = "https://schemas.runware.test"


@dataclass
class FakeRunware:
    """respx side effect: remembers uploads and submitted tasks, answers polls from a state the
    test sets."""

    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # taskUUID -> poll answer
    submits: Counter[str] = field(default_factory=Counter)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # first body of each task
    uploads: list[dict[str, Any]] = field(default_factory=list)
    requests: list[list[dict[str, Any]]] = field(default_factory=list)
    fail_next: list[httpx.Response] = field(default_factory=list)
    submit_error: dict[str, Any] | None = None  # answer every videoInference with this error
    rules: Rules = field(default_factory=Rules)
    violations: list[str] = field(default_factory=list)
    balance: Any = 25.0  # what accountManagement/getDetails answers
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        tasks = json.loads(request.content)
        self.requests.append(tasks)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            self.violations.append("no Authorization: Bearer header")
            return httpx.Response(401, json={"errors": [{"code": "invalidApiKey"}]})
        if self.fail_next:
            return self.fail_next.pop(0)
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for task in tasks:
            kind, uuid = task["taskType"], task["taskUUID"]
            if kind == "imageUpload":
                if not str(task.get("image", "")).startswith("data:image/"):
                    self.violations.append("imageUpload without a data URI")
                    return httpx.Response(400, json={"errors": [{"code": "invalidImage"}]})
                self.uploads.append(task)
                data.append(
                    {"taskType": kind, "taskUUID": uuid, "imageUUID": f"img-{next(self._ids)}"}
                )
            elif kind == "videoInference":
                self.submits[uuid] += 1
                refusal = video_refusal(self.rules, task, None)
                if refusal is not None:
                    self.violations.append(f"{refusal['parameter']}: {refusal['message']}")
                    return httpx.Response(400, json={"errors": [{**refusal, "taskUUID": uuid}]})
                if self.submit_error:
                    errors.append({**self.submit_error, "taskUUID": uuid})
                elif self.submits[uuid] > 1:
                    errors.append(
                        {"code": "conflictTaskUUID", "message": "exists", "taskUUID": uuid}
                    )
                else:
                    self.tasks[uuid] = task
                    self.states.setdefault(uuid, {"status": "processing"})
                    data.append({"taskType": kind, "taskUUID": uuid})
            elif kind == "accountManagement":
                data.append({"taskType": kind, "taskUUID": uuid, "balance": self.balance})
            elif kind == "getResponse":
                state = self.states.get(uuid)
                if state is None:
                    errors.append(
                        {"code": "invalidTaskUUID", "message": "unknown task", "taskUUID": uuid}
                    )
                else:
                    data.append({"taskType": "videoInference", "taskUUID": uuid, **state})
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return httpx.Response(200, json=body)

    def progress(self, uuid: str, value: int) -> None:
        self.states[uuid] = {"status": "processing", "progress": value}

    def finish(self, uuid: str, cost: float = 0.4) -> str:
        url = f"{VIDEOS}/{uuid}.mp4"
        self.states[uuid] = {
            "status": "success",
            "videoUUID": f"v-{uuid}",
            "videoURL": url,
            "cost": cost,
            "seed": 7,
        }
        return url

    def fail(self, uuid: str, code: str, message: str = "refused") -> None:
        self.states[uuid] = {"status": "error", "error": {"code": code, "message": message}}

    def schema_service(self, request: httpx.Request) -> httpx.Response:
        """respx side effect for GETs under SCHEMAS: the registry and each live model's schema,
        generated from the same rules that judge the submits."""
        path = request.url.path
        if path == "/registry.json":
            return httpx.Response(200, json=self.rules.registry())
        air = path.removeprefix("/resolve/")
        if path.startswith("/resolve/") and self.rules.live(air):
            return httpx.Response(200, json={"requestSchema": self.rules.schema(air)})
        return httpx.Response(404, json={"error": "unknown model"})


def video_refusal(
    rules: Rules,
    task: dict[str, Any],
    images: dict[str, int] | None,
    videos: set[str] | None = None,
) -> dict[str, Any] | None:
    """Runware's answer to a videoInference task it refuses (its published schema, then what
    the schema cannot say: the bot's own contract and frame images that were uploaded)."""
    if not isinstance(task.get("taskUUID"), str) or not UUID4.match(task["taskUUID"]):
        return {"code": "invalidTaskUUID", "message": "taskUUID is not a UUIDv4",
                "parameter": "taskUUID"}  # fmt: skip
    refusal = rules.check_task(task)
    if refusal is not None:
        return refusal
    for key, value in (
        ("deliveryMethod", "async"),
        ("includeCost", True),
        ("outputFormat", "MP4"),
        ("numberResults", 1),
    ):
        if task.get(key) != value:
            return {"code": "invalidParameter", "message": f"the bot must send {key}={value!r}",
                    "parameter": key}  # fmt: skip
    video = (task.get("inputs") or {}).get("video")
    if videos is not None and video is not None and video not in videos:
        return {"code": "invalidVideo", "message": f"unknown video {video}",
                "parameter": "inputs.video"}  # fmt: skip
    if images is not None:
        for frame in (task.get("inputs") or {}).get("frameImages", []):
            if frame["image"] not in images:
                return {"code": "invalidFrameImage", "message": f"unknown image {frame['image']}",
                        "parameter": "inputs.frameImages"}  # fmt: skip
    return None


@dataclass
class Task:
    uuid: str
    body: dict[str, Any]
    accepted_at: float
    latency: float
    fault: dict[str, Any] | None = None  # answer polls with this error


class RunwareServer:
    """The Runware API over HTTP on 127.0.0.1, with latency, progress and fault injection."""

    def __init__(self, key: str, latency: float = 2.0, cost: float = 0.4) -> None:
        self.key = key
        self.latency = latency
        self.cost = cost
        self.url = ""
        self.tasks: dict[str, Task] = {}
        self.images: dict[str, int] = {}  # imageUUID -> bytes uploaded
        self.accepted: Counter[str] = Counter()  # generations started per taskUUID
        self.repeats: Counter[str] = Counter()  # submits answered with conflictTaskUUID
        self.violations: list[str] = []
        self.refusals: list[dict[str, Any]] = []  # every videoInference refused, as answered
        self.requests: list[list[dict[str, Any]]] = []
        self.http_faults: list[tuple[int, Any]] = []  # (status, body or "timeout"/"garbage")
        self.submit_faults: list[dict[str, Any]] = []  # errors for the next submits (in 200)
        self.poll_faults: dict[str, dict[str, Any]] = {}  # taskUUID -> error on polls
        self.next_task_fault: dict[str, Any] | None = None  # the next accepted task fails so
        self.holds: dict[str, asyncio.Event] = {}  # taskType -> gate
        self.video_status = 200
        self.video = mp4_bytes(8192)
        self.timeout_delay = 3.0
        self.rules = Rules()
        self.balance: Any = 25.0  # accountManagement/getDetails
        self.dry_runs: list[dict[str, Any]] = []
        self.dry_run_cost: float | None = 0.5
        self.schema_faults: list[tuple[int, str]] = []  # (status, body) for the next schema GETs
        self.schema_requests = 0
        self.registry_requests = 0
        # Results pushed to a task's webhookURL when it finishes (retried until 2xx, as Runware
        # does): its public https:// host -> where it really listens; what each POST got.
        self.routes: dict[str, str] = {}
        self.tls: ssl.SSLContext | None = None  # whom to trust when a route is HTTPS
        self.pushes: list[tuple[str, int]] = []  # (taskUUID, HTTP status or 0)
        self.push_shape = "data"  # "data": {"data": [item]}; "bare": the item alone
        self.lost_pushes = 0  # this many results are never pushed (the polls must find them)
        self._pushers: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("POST", "/v1", self._api)
        app.router.add_route("GET", "/videos/{name}", self._video)
        app.router.add_route("GET", "/schemas/registry.json", self._registry)
        app.router.add_route("GET", "/schemas/resolve/{air}", self._resolve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return f"{self.url}/v1"

    async def stop(self) -> None:
        for event in self.holds.values():
            event.set()
        for pusher in self._pushers:
            pusher.cancel()
        await asyncio.gather(*self._pushers, return_exceptions=True)
        if self._runner:
            await self._runner.cleanup()

    def hold(self, task_type: str) -> asyncio.Event:
        event = asyncio.Event()
        self.holds[task_type] = event
        return event

    def submitted(self, task_type: str = "videoInference") -> int:
        return sum(1 for r in self.requests for t in r if t.get("taskType") == task_type)

    # --- the API ------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return web.json_response(
                {"errors": [{"code": "invalidApiKey", "message": "Invalid API key"}]}, status=401
            )
        try:
            tasks = await request.json()
        except ValueError:
            self.violations.append("request body is not JSON")
            return web.json_response({"errors": [{"code": "invalidJson"}]}, status=400)
        if not isinstance(tasks, list):
            self.violations.append("request body is not an array of tasks")
            return web.json_response({"errors": [{"code": "invalidPayload"}]}, status=400)
        self.requests.append(tasks)
        if self.http_faults:
            status, body = self.http_faults.pop(0)
            if body == "timeout":
                await asyncio.sleep(self.timeout_delay)
                return web.json_response({"data": []})
            if body == "garbage":
                return web.Response(
                    status=status, text="{not json", content_type="application/json"
                )
            return web.json_response(body, status=status)
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for task in tasks:
            kind = task.get("taskType") if isinstance(task, dict) else None
            uuid = task.get("taskUUID") if isinstance(task, dict) else None
            if not isinstance(uuid, str) or not UUID4.match(uuid):
                self._violation(errors, uuid, "taskUUID", f"{kind}: taskUUID is not a UUIDv4")
                continue
            gate = self.holds.get(str(kind))
            if kind == "videoInference" and request.headers.get("X-Runware-Dry-Run") == "1":
                self._dry_run(task, data, errors)
                continue
            if kind == "videoInference":
                self._submit(task, data, errors)  # accepted on receipt, like the real API
            if gate is not None and not gate.is_set():
                await gate.wait()
                if request.transport is None or request.transport.is_closing():
                    return web.Response(status=499)  # the client is gone
            if kind == "imageUpload":
                self._upload(task, data, errors)
            elif kind == "getResponse":
                self._poll(uuid, data, errors)
            elif kind == "accountManagement":
                if task.get("operation") != "getDetails":
                    self._violation(errors, uuid, "operation", "accountManagement: getDetails")
                else:
                    data.append({"taskType": kind, "taskUUID": uuid, "balance": self.balance})
            elif kind != "videoInference":
                self._violation(errors, uuid, "taskType", f"unknown taskType {kind!r}")
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        status = (
            400
            if errors and not data and all(e["code"].startswith("invalid") for e in errors)
            else 200
        )
        if any(e.get("code") == "invalidModel" for e in errors) and not data:
            status = 400
        return web.json_response(body, status=status)

    def _violation(
        self,
        errors: list[dict[str, Any]],
        uuid: Any,
        parameter: str,
        message: str,
        allowed: list[Any] | None = None,
    ) -> None:
        self.violations.append(message)
        error: dict[str, Any] = {
            "code": "invalidParameter",
            "message": message,
            "parameter": parameter,
            "taskUUID": uuid,
        }
        if allowed is not None:
            error["allowedValues"] = allowed
        errors.append(error)

    def _upload(self, task: dict[str, Any], data: list[Any], errors: list[Any]) -> None:
        uuid = task["taskUUID"]
        image = task.get("image")
        if set(task) != {"taskType", "taskUUID", "image"} or not isinstance(image, str):
            self._violation(errors, uuid, "image", "imageUpload takes taskType, taskUUID, image")
            return
        match = re.match(r"^data:image/(jpeg|png|webp);base64,(.+)$", image)
        if match is None:
            self._violation(errors, uuid, "image", "image is not a JPEG/PNG/WEBP data URI")
            return
        raw = base64.b64decode(match[2])
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as picture:
            if max(picture.size) > 2048 or min(picture.size) < 300:
                self._violation(errors, uuid, "image", f"image size {picture.size} out of range")
                return
            if picture.format.lower() != match[1]:
                self._violation(errors, uuid, "image", "the MIME type does not match the bytes")
                return
        image_uuid = f"img-{next(self._ids):04d}"
        self.images[image_uuid] = len(raw)
        data.append(
            {
                "taskType": "imageUpload",
                "taskUUID": uuid,
                "imageUUID": image_uuid,
                "imageURL": f"{self.url}/images/{image_uuid}.jpg",
            }
        )

    def _submit(self, task: dict[str, Any], data: list[Any], errors: list[Any]) -> None:
        uuid = task["taskUUID"]
        if uuid in self.tasks:
            self.repeats[uuid] += 1
            errors.append(
                {
                    "code": "conflictTaskUUID",
                    "message": "A task with this taskUUID already exists",
                    "taskUUID": uuid,
                    "taskType": "videoInference",
                }
            )
            return
        made = {f"v-{done}" for done in self.tasks}  # videoUUIDs of videos made here
        refusal = video_refusal(self.rules, task, self.images, made)
        if refusal is not None:
            if refusal["code"] != "invalidModel":
                self.violations.append(f"{refusal['parameter']}: {refusal['message']}")
            self.refusals.append(refusal)
            errors.append({**refusal, "taskUUID": uuid, "taskType": "videoInference"})
            return
        if self.submit_faults:
            errors.append(
                {**self.submit_faults.pop(0), "taskUUID": uuid, "taskType": "videoInference"}
            )
            return
        self.accepted[uuid] += 1
        self.tasks[uuid] = Task(uuid, task, time.monotonic(), self.latency, self.next_task_fault)
        self.next_task_fault = None
        data.append({"taskType": "videoInference", "taskUUID": uuid})
        if "webhookURL" in task:
            if not str(task["webhookURL"]).startswith("https://"):
                self.violations.append(f"webhookURL is not https: {task['webhookURL']}")
            elif self.lost_pushes > 0:
                self.lost_pushes -= 1
            else:
                pusher = asyncio.create_task(self._push(uuid, str(task["webhookURL"])))
                self._pushers.add(pusher)
                pusher.add_done_callback(self._pushers.discard)

    def _dry_run(self, task: dict[str, Any], data: list[Any], errors: list[Any]) -> None:
        self.dry_runs.append(task)
        refusal = video_refusal(self.rules, task, None)
        if refusal is not None:
            errors.append({**refusal, "taskUUID": task["taskUUID"], "taskType": "videoInference"})
            return
        item: dict[str, Any] = {"taskType": "videoInference", "taskUUID": task["taskUUID"]}
        if self.dry_run_cost is not None:
            item["cost"] = self.dry_run_cost
        data.append(item)

    # --- the schema service -------------------------------------------------------------------

    @property
    def schemas_url(self) -> str:
        return f"{self.url}/schemas"

    def _schema_fault(self) -> web.Response | None:
        self.schema_requests += 1
        if not self.schema_faults:
            return None
        status, body = self.schema_faults.pop(0)
        return web.Response(status=status, text=body, content_type="application/json")

    async def _registry(self, request: web.Request) -> web.Response:
        self.registry_requests += 1
        gate = self.holds.get("registry")
        if gate is not None:
            await gate.wait()  # a slow schema service
        fault = self._schema_fault()
        return fault or web.json_response(self.rules.registry())

    async def _resolve(self, request: web.Request) -> web.Response:
        fault = self._schema_fault()
        if fault is not None:
            return fault
        air = request.match_info["air"]
        if not self.rules.live(air):
            return web.json_response({"error": "unknown model"}, status=404)
        return web.json_response(
            {
                "requestSchema": self.rules.schema(air),
                "responseSchema": {"type": "object"},
                "documentation": f"https://runware.test/docs/{air}",
            }
        )

    def _poll(self, uuid: str, data: list[Any], errors: list[Any]) -> None:
        task = self.tasks.get(uuid)
        if task is None:
            errors.append({"code": "taskNotFound", "message": "no such task", "taskUUID": uuid})
            return
        fault = self.poll_faults.get(uuid) or task.fault
        if fault is not None:
            if fault.get("in") == "data":
                data.append(
                    {
                        "taskType": "videoInference",
                        "taskUUID": uuid,
                        "status": "error",
                        "error": {k: v for k, v in fault.items() if k != "in"},
                    }
                )
            else:
                errors.append({**fault, "taskUUID": uuid, "taskType": "getResponse"})
            return
        elapsed = time.monotonic() - task.accepted_at
        if elapsed < task.latency:
            data.append(
                {
                    "taskType": "videoInference",
                    "taskUUID": uuid,
                    "status": "processing",
                    "progress": int(100 * elapsed / task.latency),
                }
            )
            return
        data.append(
            {
                "taskType": "videoInference",
                "taskUUID": uuid,
                "status": "success",
                "videoUUID": f"v-{uuid}",
                "videoURL": f"{self.url}/videos/{uuid}.mp4",
                "cost": self.cost,
                # The seed used: the one asked for, else one Runware picked.
                "seed": task.body.get("seed", 42),
            }
        )

    async def _push(self, uuid: str, url: str) -> None:
        """When the task is done, POST its result to the webhookURL (again until 2xx)."""
        task = self.tasks[uuid]
        await asyncio.sleep(max(0.0, task.accepted_at + task.latency - time.monotonic()))
        data: list[Any] = []
        errors: list[Any] = []
        self._poll(uuid, data, errors)
        body: Any = {"errors": errors} if errors else {"data": data}
        if self.push_shape == "bare" and data:
            body = data[0]
        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        if base not in self.routes:
            self.violations.append(f"a webhookURL on {base}, which no test route serves")
            return
        target = self.routes[base] + parts.path + (f"?{parts.query}" if parts.query else "")
        async with aiohttp.ClientSession() as http:
            for attempt in range(10):
                status = 0
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.post(
                        target, json=body, timeout=aiohttp.ClientTimeout(10), ssl=self.tls or True
                    ) as answer:
                        status = answer.status
                self.pushes.append((uuid, status))
                if 200 <= status < 300 or status == 404:
                    return
                await asyncio.sleep(0.2 * 2**attempt)

    async def _video(self, request: web.Request) -> web.Response:
        if self.video_status != 200:
            return web.Response(status=self.video_status, text="Not Found")
        return web.Response(body=self.video, content_type="video/mp4")

    def ready_at(self, uuid: str) -> float:
        task = self.tasks[uuid]
        return task.accepted_at + task.latency

"""Runware stand-ins: `FakeRunware` for respx (in-process tests) and `RunwareServer`, an HTTP
server on 127.0.0.1 for the real bot process. The server checks every task against the spec
(shared/docs/runware-api.md) independently of the bot's catalog: a wrong shape is answered the
way Runware answers it and recorded in `violations`, so a test fails on any protocol mistake."""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from tests.mp4 import mp4_bytes

API = "https://runware.test/v1"
VIDEOS = "https://videos.runware.test"
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


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
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        tasks = json.loads(request.content)
        self.requests.append(tasks)
        assert request.headers["authorization"].startswith("Bearer ")
        if self.fail_next:
            return self.fail_next.pop(0)
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for task in tasks:
            kind, uuid = task["taskType"], task["taskUUID"]
            if kind == "imageUpload":
                assert task["image"].startswith("data:image/")
                self.uploads.append(task)
                data.append(
                    {"taskType": kind, "taskUUID": uuid, "imageUUID": f"img-{next(self._ids)}"}
                )
            elif kind == "videoInference":
                self.submits[uuid] += 1
                assert task["deliveryMethod"] == "async"
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


# --- the spec's model table, for the HTTP server --------------------------------------------------

VEO3_SIZES = {(1280, 720), (720, 1280), (1920, 1080), (1080, 1920)}
VIDU_SIZES = {
    (1920, 1080),
    (1080, 1080),
    (1080, 1920),
    (1280, 720),
    (720, 720),
    (720, 1280),
    (640, 360),
    (360, 360),
    (360, 640),
}
VIDU_720P = {(1280, 720), (720, 720), (720, 1280)}
VIDU_SETTINGS = {
    "movementAmplitude": {"auto", "small", "medium", "large"},
    "bgm": bool,
    "style": {"general", "anime"},
}
SPEC: dict[str, dict[str, Any]] = {
    "google:3@0": {
        "durations": {4, 6, 8},
        "sizes": VEO3_SIZES,
        "frames": 1,
        "t2v": True,
        "provider": {"google": {"generateAudio": bool}},
    },
    "google:3@1": {
        "durations": {4, 6, 8},
        "sizes": VEO3_SIZES,
        "frames": 1,
        "t2v": True,
        "provider": {"google": {"generateAudio": bool}},
    },
    "google:2@0": {
        "durations": {5, 6, 7, 8},
        "sizes": {(1280, 720), (720, 1280)},
        "frames": 2,
        "t2v": True,
        "provider": {"google": {"enhancePrompt": bool}},
    },
    "vidu:1@1": {
        "durations": {5},
        "sizes": {(1920, 1080), (1080, 1080), (1080, 1920)},
        "frames": 2,
        "t2v": True,
        "provider": {"vidu": VIDU_SETTINGS},
        "no_settings_with_frames": True,
    },
    "vidu:1@5": {
        "durations": {4, 8},
        "sizes": VIDU_SIZES,
        "frames": 1,
        "t2v": True,
        "provider": {"vidu": VIDU_SETTINGS},
        "eight_720p": True,
    },
    "vidu:2@0": {
        "durations": {4, 8},
        "sizes": VIDU_SIZES,
        "frames": 1,
        "t2v": False,
        "provider": {"vidu": {k: v for k, v in VIDU_SETTINGS.items() if k != "style"}},
        "eight_720p": True,
    },
}
VIDEO_FIELDS = {
    "taskType",
    "taskUUID",
    "model",
    "positivePrompt",
    "negativePrompt",
    "duration",
    "width",
    "height",
    "deliveryMethod",
    "includeCost",
    "numberResults",
    "outputFormat",
    "outputQuality",
    "seed",
    "fps",
    "inputs",
    "frameImages",
    "providerSettings",
    "webhookURL",
    "ttl",
}


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
        self.requests: list[list[dict[str, Any]]] = []
        self.http_faults: list[tuple[int, Any]] = []  # (status, body or "timeout"/"garbage")
        self.submit_faults: list[dict[str, Any]] = []  # errors for the next submits (in 200)
        self.poll_faults: dict[str, dict[str, Any]] = {}  # taskUUID -> error on polls
        self.next_task_fault: dict[str, Any] | None = None  # the next accepted task fails so
        self.holds: dict[str, asyncio.Event] = {}  # taskType -> gate
        self.video_status = 200
        self.video = mp4_bytes(8192)
        self.timeout_delay = 3.0
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("POST", "/v1", self._api)
        app.router.add_route("GET", "/videos/{name}", self._video)
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
        problem = self._check_video(task)
        if problem is not None:
            self._violation(errors, uuid, problem[0], problem[1], problem[2])
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

    def _check_video(self, t: dict[str, Any]) -> tuple[str, str, list[Any] | None] | None:
        unknown = set(t) - VIDEO_FIELDS
        if unknown:
            return sorted(unknown)[0], f"unknownParameter {sorted(unknown)}", None
        spec = SPEC.get(t.get("model", ""))
        if spec is None:
            return "model", f"unknown model {t.get('model')!r}", None
        for key, value in (
            ("deliveryMethod", "async"),
            ("includeCost", True),
            ("outputFormat", "MP4"),
            ("numberResults", 1),
        ):
            if t.get(key) != value:
                return key, f"{key} must be {value!r} for video", None
        if t.get("duration") not in spec["durations"]:
            return "duration", "invalid duration", sorted(spec["durations"])
        frames = None
        if "frameImages" in t:
            return "frameImages", "unsupportedParameter: use inputs.frameImages", None
        if "inputs" in t:
            frames = (t["inputs"] or {}).get("frameImages")
            if not isinstance(frames, list) or not 1 <= len(frames) <= spec["frames"]:
                return "inputs.frameImages", "invalid frameImages", None
            for frame in frames:
                if set(frame) != {"image", "frame"} or frame["frame"] not in ("first", "last"):
                    return "inputs.frameImages", f"invalid frame {frame}", None
                if frame["image"] not in self.images:
                    return "inputs.frameImages", f"unknown image {frame['image']}", None
            if "width" in t or "height" in t:
                return "width", "send frame images or width/height, not both", None
        else:
            if not spec["t2v"]:
                return "inputs.frameImages", "this model needs a frame image", None
            size = (t.get("width"), t.get("height"))
            if size not in spec["sizes"]:
                return "width", f"invalid size {size}", None
            if spec.get("eight_720p") and t["duration"] == 8 and size not in VIDU_720P:
                return "duration", "8 s is only available at 720p", None
        prompt = t.get("positivePrompt")
        if prompt is None and frames is None:
            return "positivePrompt", "missing positivePrompt", None
        if prompt is not None and not (isinstance(prompt, str) and 2 <= len(prompt) <= 3000):
            return "positivePrompt", "positivePrompt must be 2-3000 characters", None
        settings = t.get("providerSettings")
        if settings is not None:
            if frames is not None and spec.get("no_settings_with_frames"):
                return "providerSettings", "providerSettings not with frame images", None
            for provider, values in settings.items():
                allowed = spec["provider"].get(provider)
                if allowed is None or not values:
                    return "providerSettings", f"invalid provider {provider!r}", None
                for key, value in values.items():
                    rule = allowed.get(key)
                    ok = (
                        isinstance(value, bool)
                        if rule is bool
                        else rule is not None and value in rule
                    )
                    if not ok:
                        return f"providerSettings.{provider}.{key}", f"invalid {key}", None
                if values.get("bgm") and t["duration"] != 4:
                    return (
                        "providerSettings.vidu.bgm",
                        "Background music can only be used with videos of exactly 4 seconds",
                        None,
                    )
        return None

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
                "seed": 42,
            }
        )

    async def _video(self, request: web.Request) -> web.Response:
        if self.video_status != 200:
            return web.Response(status=self.video_status, text="Not Found")
        return web.Response(body=self.video, content_type="video/mp4")

    def ready_at(self, uuid: str) -> float:
        task = self.tasks[uuid]
        return task.accepted_at + task.latency

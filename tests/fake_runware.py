"""A stateful Runware stand-in for respx: remembers uploads and submitted tasks, answers polls
from a state the test sets, and checks each task's shape like the real API would."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "https://runware.test/v1"
VIDEOS = "https://videos.runware.test"


@dataclass
class FakeRunware:
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # taskUUID -> poll answer
    submits: Counter[str] = field(default_factory=Counter)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)  # first body of each task
    uploads: list[dict[str, Any]] = field(default_factory=list)
    requests: list[list[dict[str, Any]]] = field(default_factory=list)
    fail_next: list[httpx.Response] = field(default_factory=list)
    submit_error: dict[str, Any] | None = None  # answer every videoInference with this error
    upload_error: dict[str, Any] | None = None
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
                if self.upload_error:
                    errors.append({**self.upload_error, "taskUUID": uuid})
                    continue
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
                elif "errors" in state:
                    errors.append({**state["errors"], "taskUUID": uuid})
                else:
                    data.append({"taskType": "videoInference", "taskUUID": uuid, **state})
            else:
                errors.append({"code": "unsupportedTaskType", "message": kind})
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

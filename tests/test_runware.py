"""The Runware client at the HTTP boundary (respx)."""

import base64
import json
import logging

import httpx
import pytest
import respx

from services.catalog import load_catalog, validate_params
from services.runware import (
    AuthFailure,
    ContentRefused,
    ErrorClass,
    Failed,
    OutOfCreditFailure,
    Processing,
    ProtocolFailure,
    RunwareClient,
    RunwareOptions,
    Succeeded,
    TransientFailure,
    ValidationFailure,
    VideoRequest,
    classify,
)
from tests.runware_rules import Rules

URL = "https://runware.test/v1"
KEY = "rw-test-key-0123456789abcdef"
CATALOG = load_catalog()
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64


class Sleeps(list):
    async def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
async def client(sleeps):
    c = RunwareClient(KEY, URL, RunwareOptions(poll_batch_size=50), sleep=sleeps)
    yield c
    await c.close()


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router.post(URL)


def bodies(route):
    return [json.loads(call.request.content) for call in route.calls]


def ok(*items):
    return httpx.Response(200, json={"data": list(items)})


def request_for(model_id, mode, chosen=None, prompt="a red fox in snow", images=()):
    model = CATALOG.get(model_id)
    params = validate_params(model, mode, chosen or {}, CATALOG.pricing)
    return VideoRequest("11111111-1111-4111-8111-111111111111", model, params, prompt, images)


# --- upload -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "mime"), [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")]
)
async def test_upload_sends_a_data_uri_of_the_right_type(client, api, data, mime):
    api.mock(
        side_effect=lambda request: ok(
            {
                "taskType": "imageUpload",
                "taskUUID": json.loads(request.content)[0]["taskUUID"],
                "imageUUID": "img-1",
                "imageURL": "https://im.runware.ai/img-1.jpg",
            }
        )
    )
    assert await client.upload_image(data) == "img-1"
    [request] = api.calls
    assert request.request.headers["authorization"] == f"Bearer {KEY}"
    [task] = json.loads(request.request.content)
    assert task["taskType"] == "imageUpload"
    assert set(task) == {"taskType", "taskUUID", "image"}
    assert task["image"] == f"data:{mime};base64,{base64.b64encode(data).decode()}"


async def test_upload_refuses_other_formats_without_a_request(client, api):
    with pytest.raises(ValueError, match="JPEG, PNG or WEBP"):
        await client.upload_image(b"GIF89a" + b"\x00" * 10)
    assert not api.calls


async def test_upload_refusal_is_typed(client, api):
    api.mock(
        return_value=httpx.Response(
            400,
            json={
                "errors": [
                    {
                        "code": "invalidImage",
                        "message": "Invalid image",
                        "parameter": "image",
                        "taskType": "imageUpload",
                    }
                ]
            },
        )
    )
    with pytest.raises(ValidationFailure) as info:
        await client.upload_image(JPEG)
    assert info.value.error.parameter == "image"
    assert len(api.calls) == 1


async def test_upload_without_image_uuid_is_a_protocol_error(client, api):
    api.mock(
        side_effect=lambda r: ok(
            {"taskType": "imageUpload", "taskUUID": json.loads(r.content)[0]["taskUUID"]}
        )
    )
    with pytest.raises(ProtocolFailure, match="imageUUID"):
        await client.upload_image(JPEG)


async def test_logs_hold_neither_key_nor_image(client, api, caplog):
    caplog.set_level(logging.DEBUG)
    api.mock(
        side_effect=lambda r: ok(
            {
                "taskType": "imageUpload",
                "imageUUID": "img",
                "taskUUID": json.loads(r.content)[0]["taskUUID"],
            }
        )
    )
    await client.upload_image(JPEG)
    text = caplog.text
    assert KEY not in text
    assert base64.b64encode(JPEG).decode()[:20] not in text
    assert "68 bytes" in text


# --- the videoInference task ---------------------------------------------------------------------

BASE = {
    "taskType": "videoInference",
    "taskUUID": "11111111-1111-4111-8111-111111111111",
    "deliveryMethod": "async",
    "includeCost": True,
    "numberResults": 1,
    "outputFormat": "MP4",
    "positivePrompt": "a red fox in snow",
}
NESTED = {"inputs": {"frameImages": [{"image": "img-9", "frame": "first"}]}}

FRAME = "22222222-2222-4222-8222-222222222222"
LAST = "33333333-3333-4333-8333-333333333333"
FIRST = {"inputs": {"frameImages": [{"image": FRAME, "frame": "first"}]}}
BOTH = {
    "inputs": {
        "frameImages": [{"image": FRAME, "frame": "first"}, {"image": LAST, "frame": "last"}]
    }
}


def audio(provider, on):
    return {
        "providerSettings": {provider: {"generateAudio" if provider == "google" else "audio": on}}
    }


# The exact request of every model's default choice, each mode: what the catalog promises the
# user is what leaves, every option explicit (no API default is relied on).
GOLDEN = [
    ("google:3@3", "t2v", {}, {"duration": 8, "width": 1280, "height": 720, **audio("google", True)}),
    ("google:3@3", "i2v", {}, {"duration": 8, "resolution": "720p", **FIRST, **audio("google", True)}),
    ("google:3@2", "t2v", {}, {"duration": 8, "width": 1280, "height": 720, **audio("google", True)}),
    ("google:3@2", "i2v", {}, {"duration": 8, "resolution": "720p", **FIRST, **audio("google", True)}),
    ("google:veo@3.1-lite", "t2v", {}, {"duration": 8, "resolution": "720p", **audio("google", True)}),
    ("google:veo@3.1-lite", "i2v", {}, {"duration": 8, "resolution": "720p", **FIRST, **audio("google", True)}),
    ("vidu:4@1", "t2v", {}, {"duration": 5, "width": 1280, "height": 720, **audio("vidu", False)}),
    ("vidu:4@1", "i2v", {}, {"duration": 5, "resolution": "720p", **FIRST, **audio("vidu", False)}),
    ("vidu:1@1", "t2v", {}, {"duration": 5, "width": 1920, "height": 1080}),
    ("vidu:1@1", "i2v", {}, {"duration": 5, "width": 1920, "height": 1080, **FIRST}),
    ("vidu:2@0", "i2v", {}, {"duration": 4, "width": 1280, "height": 720, **FIRST,
                             "providerSettings": {"vidu": {"movementAmplitude": "auto", "bgm": False}}}),
    ("klingai:6@1", "t2v", {}, {"duration": 5, "width": 1280, "height": 720}),
    ("klingai:6@1", "i2v", {}, {"duration": 5, **FIRST}),
    ("minimax:4@1", "t2v", {}, {"duration": 6, "width": 1366, "height": 768,
                                "providerSettings": {"minimax": {"promptOptimizer": False}}}),
    ("minimax:4@1", "i2v", {}, {"duration": 6, **FIRST,
                                "providerSettings": {"minimax": {"promptOptimizer": False}}}),
    ("bytedance:2@2", "t2v", {}, {"duration": 5, "width": 1920, "height": 1088,
                                  "providerSettings": {"bytedance": {"cameraFixed": False}}}),
    ("bytedance:2@2", "i2v", {}, {"duration": 5, "resolution": "1080p", **FIRST,
                                  "providerSettings": {"bytedance": {"cameraFixed": False}}}),
    ("alibaba:wan@2.6", "t2v", {}, {"duration": 5, "width": 1280, "height": 720,
                                    "providerSettings": {"alibaba": {"audio": True, "promptExtend": True}}}),
    ("alibaba:wan@2.6", "i2v", {}, {"duration": 5, "resolution": "720p", **FIRST,
                                    "providerSettings": {"alibaba": {"audio": True, "promptExtend": True}}}),
    ("pixverse:1@8", "t2v", {}, {"duration": 5, "resolution": "720p", "settings": {"audio": False}}),
    ("pixverse:1@8", "i2v", {}, {"duration": 5, "resolution": "720p", **FIRST, "settings": {"audio": False}}),
    ("runway:1@2", "t2v", {}, {"duration": 5, "width": 1280, "height": 720}),
    ("runway:1@2", "i2v", {}, {"duration": 5, "width": 1280, "height": 720, **FIRST}),
    # Each option, on and off, and the size choices.
    ("google:3@3", "t2v", {"options": {"audio": False}, "resolution": "1080p", "aspect": "9:16"},
     {"duration": 8, "width": 1080, "height": 1920, **audio("google", False)}),
    ("google:3@2", "t2v", {"options": {"audio": False}, "duration": 4},
     {"duration": 4, "width": 1280, "height": 720, **audio("google", False)}),
    ("google:veo@3.1-lite", "t2v", {"options": {"audio": False}, "resolution": "1080p"},
     {"duration": 8, "resolution": "1080p", **audio("google", False)}),
    ("vidu:4@1", "t2v", {"options": {"audio": True}, "aspect": "1:1", "resolution": "1080p"},
     {"duration": 5, "width": 1440, "height": 1440, **audio("vidu", True)}),
    ("vidu:2@0", "i2v", {"options": {"music": True, "motion": "large"}, "aspect": "9:16"},
     {"duration": 4, "width": 720, "height": 1280, **FIRST,
      "providerSettings": {"vidu": {"movementAmplitude": "large", "bgm": True}}}),
    ("vidu:2@0", "i2v", {"duration": 8},  # music exists at 4 s only: not sent at 8 s
     {"duration": 8, "width": 1280, "height": 720, **FIRST,
      "providerSettings": {"vidu": {"movementAmplitude": "auto"}}}),
    ("minimax:4@1", "t2v", {"options": {"optimize": True}, "resolution": "1080p"},
     {"duration": 6, "width": 1920, "height": 1080,
      "providerSettings": {"minimax": {"promptOptimizer": True}}}),
    ("bytedance:2@2", "t2v", {"options": {"fixedCam": True}, "resolution": "480p", "duration": 12},
     {"duration": 12, "width": 864, "height": 480,
      "providerSettings": {"bytedance": {"cameraFixed": True}}}),
    ("alibaba:wan@2.6", "t2v", {"options": {"audio": False, "extend": False}, "duration": 15},
     {"duration": 15, "width": 1280, "height": 720,
      "providerSettings": {"alibaba": {"audio": False, "promptExtend": False}}}),
    ("pixverse:1@8", "t2v", {"options": {"audio": True}, "resolution": "1080p", "duration": 8},
     {"duration": 8, "resolution": "1080p", "settings": {"audio": True}}),
    ("runway:1@2", "t2v", {"aspect": "1:1", "duration": 10},
     {"duration": 10, "width": 960, "height": 960}),
]  # fmt: skip


def test_every_model_and_mode_has_a_golden_request():
    covered = {(m, mode) for m, mode, chosen, _ in GOLDEN if not chosen}
    assert covered == {(m.id, mode.value) for m in CATALOG.models for mode in m.modes}


@pytest.mark.parametrize(("model_id", "mode", "chosen", "expected"), GOLDEN)
async def test_golden_requests(client, api, model_id, mode, chosen, expected):
    """The exact JSON, and the fake Runware (its published schemas) accepts it."""
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    images = (FRAME,) if mode == "i2v" else ()
    await client.submit_video(request_for(model_id, mode, chosen, images=images))
    [task] = bodies(api)[0]
    assert task == {**BASE, "model": model_id, **expected}
    assert Rules().check_task(task) is None


async def test_a_last_frame_goes_second(client, api):
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    await client.submit_video(request_for("google:3@3", "i2v", images=(FRAME, LAST)))
    [task] = bodies(api)[0]
    assert task["inputs"] == BOTH["inputs"] and "width" not in task
    assert Rules().check_task(task) is None


def test_retired_ids_are_refused_as_runware_refuses_them():
    task = {**BASE, "model": "google:3@0", "duration": 8, "width": 1280, "height": 720}
    refusal = Rules().check_task(task)
    assert refusal["code"] == "invalidModel" and refusal["parameter"] == "model"


async def test_a_finished_item_without_status_is_a_finished_video(client, api):
    uuid = "44444444-4444-4444-8444-444444444444"
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": uuid,
                              "videoURL": "https://v/x.mp4", "cost": 0.3}))  # fmt: skip
    result = (await client.poll([uuid]))[uuid]
    assert isinstance(result, Succeeded) and result.cost == 0.3


async def test_conflict_on_a_first_submit_is_a_real_conflict(client, api):
    api.mock(
        return_value=httpx.Response(
            400, json={"errors": [{"code": "conflictTaskUUID", "taskUUID": BASE["taskUUID"]}]}
        )
    )
    with pytest.raises(ProtocolFailure):
        await client.submit_video(request_for("google:3@3", "t2v"))


async def test_an_upload_uuid_conflict_uploads_again_under_a_new_uuid(client, api):
    answers = iter(
        [
            httpx.Response(400, json={"errors": [{"code": "conflictTaskUUID"}]}),
            None,
        ]
    )

    def answer(request):
        reply = next(answers)
        if reply is not None:
            return reply
        [task] = json.loads(request.content)
        return ok({"taskType": "imageUpload", "taskUUID": task["taskUUID"], "imageUUID": "i-1"})

    api.mock(side_effect=answer)
    assert await client.upload_image(JPEG) == "i-1"
    first, second = (b[0]["taskUUID"] for b in bodies(api))
    assert first != second


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("providerInsufficientCredits", 200, "upstream"),
        ("thirdPartyInsufficientCredits", 402, "upstream"),
        ("providerRateLimitExceeded", 429, "upstream"),
        ("modelUnavailable", 200, "upstream"),
        ("unsafeContentDetected", 200, "content"),
        ("invalidModel", 400, "retired"),
        ("modelNotFound", 400, "retired"),
        ("insufficientCredits", 402, "out_of_credit"),
        ("invalidDuration", 400, "validation"),
    ],
)
def test_error_classes_in_the_documented_order(code, status, expected):
    assert classify(status, code).value == expected


async def test_account_balance_reads_a_number_or_an_object(client, api):
    def answer(request):
        [task] = json.loads(request.content)
        assert task["operation"] == "getDetails"
        return ok({"taskType": "accountManagement", "taskUUID": task["taskUUID"],
                   "balance": {"amount": 3.25, "currency": "USD"}})  # fmt: skip

    api.mock(side_effect=answer)
    assert await client.account_balance() == 3.25


async def test_conflict_task_uuid_means_already_submitted(client, api):
    api.mock(
        return_value=httpx.Response(
            400,
            json={
                "errors": [
                    {
                        "code": "conflictTaskUUID",
                        "message": "Task exists",
                        "taskUUID": BASE["taskUUID"],
                    }
                ]
            },
        )
    )
    request = request_for("google:3@3", "t2v")
    assert await client.submit_video(request, retry=True) == BASE["taskUUID"]
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    ("status", "error", "raised", "error_class"),
    [
        (401, {"code": "invalidApiKey", "message": "Invalid API key"}, AuthFailure, "auth"),
        (403, {"code": "forbidden", "message": "no"}, AuthFailure, "auth"),
        (
            402,
            {"code": "insufficientCredits", "message": "Top up"},
            OutOfCreditFailure,
            "out_of_credit",
        ),
        (200, {"code": "quotaExceeded", "message": "q"}, OutOfCreditFailure, "out_of_credit"),
        (
            400,
            {
                "code": "invalidDuration",
                "message": "Invalid duration",
                "parameter": "duration",
                "allowedValues": [6],
            },
            ValidationFailure,
            "validation",
        ),
        (
            400,
            {
                "code": "unsupportedParameter",
                "message": "frameImages",
                "parameter": ["frameImages"],
            },
            ValidationFailure,
            "validation",
        ),
        (200, {"code": "contentPolicyViolation", "message": "Refused"}, ContentRefused, "content"),
        (
            400,
            {
                "code": "providerContentPolicyViolation",
                "message": "Refused",
                "responseContent": "The prompt was flagged",
            },
            ContentRefused,
            "content",
        ),
        (200, {"code": "promptBlocked", "message": "Blocked"}, ContentRefused, "content"),
    ],
)
async def test_error_classes_are_typed_and_not_retried(
    client, api, sleeps, status, error, raised, error_class
):
    api.mock(
        return_value=httpx.Response(
            status,
            json={
                "errors": [{**error, "taskType": "videoInference", "taskUUID": BASE["taskUUID"]}]
            },
        )
    )
    with pytest.raises(raised) as info:
        await client.submit_video(request_for("google:3@3", "t2v"))
    assert info.value.error.error_class == ErrorClass(error_class)
    assert len(api.calls) == 1 and sleeps == []
    if "allowedValues" in error:
        assert info.value.error.allowed_values == [6]
        assert info.value.error.parameter == "duration"
    if "responseContent" in error:
        assert info.value.error.provider_message == "The prompt was flagged"


@pytest.mark.parametrize(
    "body",
    [
        {"error": {"code": "invalidApiKey", "message": "bad key"}},  # singular object
        {"error": [{"code": "invalidApiKey", "message": "bad key"}]},  # singular list
        {"errors": [{"code": "invalidApiKey", "message": "bad key"}]},  # no taskUUID
    ],
)
async def test_error_shapes(client, api, body):
    api.mock(return_value=httpx.Response(401, json=body))
    with pytest.raises(AuthFailure, match="bad key"):
        await client.submit_video(request_for("google:3@3", "t2v"))


async def test_data_as_an_object_is_read(client, api):
    api.mock(
        return_value=httpx.Response(
            200, json={"data": {"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}}
        )
    )
    assert await client.submit_video(request_for("google:3@3", "t2v")) == BASE["taskUUID"]


@pytest.mark.parametrize(
    "fault",
    [
        httpx.Response(429, json={"errors": [{"code": "rateLimitExceeded", "message": "slow"}]}),
        httpx.Response(500, text="Internal Server Error"),
        httpx.Response(503, json={"errors": [{"code": "queueFull", "message": "busy"}]}),
        httpx.Response(
            504, text="<html>Gateway Timeout</html>", headers={"content-type": "text/html"}
        ),
        httpx.Response(
            200,
            json={
                "errors": [
                    {"code": "noAvailableServer", "message": "x", "taskUUID": BASE["taskUUID"]}
                ]
            },
        ),
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectError("connection refused"),
    ],
)
async def test_transient_faults_are_retried_with_the_same_task_uuid(client, api, sleeps, fault):
    ack = ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]})
    api.mock(side_effect=[fault, fault, ack])
    assert await client.submit_video(request_for("google:3@3", "t2v")) == BASE["taskUUID"]
    sent = bodies(api)
    assert len(sent) == 3
    assert {task[0]["taskUUID"] for task in sent} == {BASE["taskUUID"]}
    assert len(sleeps) == 2 and sleeps[0] <= 1.0 and sleeps[1] <= 2.0


async def test_retries_are_bounded(api, sleeps):
    client = RunwareClient(KEY, URL, RunwareOptions(max_attempts=3), sleep=sleeps)
    api.mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(TransientFailure):
        await client.submit_video(request_for("google:3@3", "t2v"))
    assert len(api.calls) == 3 and len(sleeps) == 2
    await client.close()


async def test_retry_after_is_honoured(client, api, sleeps):
    api.mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "7"}, json={"errors": []}),
            ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}),
        ]
    )
    await client.submit_video(request_for("google:3@3", "t2v"))
    assert sleeps == [7.0]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="{not json", headers={"content-type": "application/json"}),
        httpx.Response(200, text="<html>hello</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json="just a string"),
        httpx.Response(200, json={}),
    ],
)
async def test_malformed_answers_are_clear_errors(client, api, sleeps, response):
    api.mock(return_value=response)
    with pytest.raises(ProtocolFailure) as info:
        await client.submit_video(request_for("google:3@3", "t2v"))
    assert "HTTP 200" in str(info.value)
    assert len(api.calls) == 1


# --- polling -----------------------------------------------------------------------------------

T = [f"task-{i}" for i in range(5)]


async def test_batched_poll_with_mixed_results(client, api):
    api.mock(
        return_value=httpx.Response(
            200,
            json={
                "data": [
                    {
                        "taskType": "videoInference",
                        "taskUUID": T[0],
                        "status": "processing",
                        "progress": 40,
                    },
                    {
                        "taskType": "videoInference",
                        "taskUUID": T[1],
                        "status": "success",
                        "videoUUID": "v1",
                        "videoURL": "https://vid.runware.ai/v1.mp4",
                        "cost": 0.18,
                        "seed": 123,
                    },
                    {
                        "taskType": "videoInference",
                        "taskUUID": T[2],
                        "status": "error",
                        "error": {"code": "providerContentPolicyViolation", "message": "flagged"},
                    },
                    {"taskType": "videoInference", "taskUUID": T[4], "status": "queued"},
                ],
                "errors": [
                    {
                        "code": "timeoutProvider",
                        "message": "took too long",
                        "taskUUID": T[3],
                        "taskType": "getResponse",
                    }
                ],
            },
        )
    )
    results = await client.poll(T)
    assert bodies(api) == [[{"taskType": "getResponse", "taskUUID": t} for t in T]]
    assert results[T[0]] == Processing(T[0], 40)
    assert results[T[1]] == Succeeded(T[1], "https://vid.runware.ai/v1.mp4", "v1", 0.18, 123)
    assert isinstance(results[T[2]], Failed)
    assert results[T[2]].error.error_class is ErrorClass.CONTENT
    assert isinstance(results[T[3]], Failed)
    assert results[T[3]].error.error_class is ErrorClass.TRANSIENT
    assert results[T[4]] == Processing(T[4], None)


async def test_poll_batch_size(api, sleeps):
    client = RunwareClient(KEY, URL, RunwareOptions(poll_batch_size=2), sleep=sleeps)
    api.mock(
        side_effect=lambda r: ok(
            *[{"taskUUID": t["taskUUID"], "status": "processing"} for t in json.loads(r.content)]
        )
    )
    results = await client.poll(T)
    assert [len(b) for b in bodies(api)] == [2, 2, 1]
    assert set(results) == set(T)
    await client.close()


async def test_refused_batch_falls_back_to_single_polls_and_stays_there(client, api):
    def answer(request):
        tasks = json.loads(request.content)
        if len(tasks) > 1:
            return httpx.Response(
                400,
                json={
                    "errors": [
                        {"code": "invalidTaskCount", "message": "one getResponse per request"}
                    ]
                },
            )
        return ok({"taskUUID": tasks[0]["taskUUID"], "status": "processing", "progress": 5})

    api.mock(side_effect=answer)
    results = await client.poll(T[:3])
    assert results == {t: Processing(t, 5) for t in T[:3]}
    assert [len(b) for b in bodies(api)] == [3, 1, 1, 1]
    assert client.batching is False
    await client.poll(T[:2])
    assert [len(b) for b in bodies(api)][4:] == [1, 1]


async def test_tasks_missing_from_a_batch_are_asked_alone(client, api):
    def answer(request):
        tasks = json.loads(request.content)
        return ok({"taskUUID": tasks[0]["taskUUID"], "status": "processing"})

    api.mock(side_effect=answer)
    results = await client.poll(T[:2])
    assert set(results) == set(T[:2])
    assert [len(b) for b in bodies(api)] == [2, 1]
    assert client.batching is True


async def test_poll_auth_failure_is_raised_for_everyone(client, api):
    api.mock(
        return_value=httpx.Response(
            401, json={"error": {"code": "invalidApiKey", "message": "bad"}}
        )
    )
    with pytest.raises(AuthFailure):
        await client.poll(T[:3])
    assert client.batching is True


async def test_poll_error_inside_200_for_a_single_task(client, api):
    api.mock(
        return_value=httpx.Response(
            200,
            json={
                "errors": [{"code": "invalidTaskUUID", "message": "unknown task", "taskUUID": T[0]}]
            },
        )
    )
    result = (await client.poll([T[0]]))[T[0]]
    assert isinstance(result, Failed) and result.error.error_class is ErrorClass.VALIDATION


async def test_poll_request_fault_retried_then_raised(api, sleeps):
    client = RunwareClient(KEY, URL, RunwareOptions(max_attempts=2), sleep=sleeps)
    api.mock(return_value=httpx.Response(502, text="bad gateway"))
    with pytest.raises(TransientFailure):
        await client.poll(T[:2])
    assert len(api.calls) == 2
    await client.close()


async def test_a_transient_error_naming_a_task_on_poll_is_that_tasks_failure(client, api, sleeps):
    api.mock(
        return_value=httpx.Response(
            200,
            json={
                "errors": [
                    {
                        "code": "timeoutProvider",
                        "message": "the provider timed out",
                        "taskUUID": T[0],
                    },
                    {
                        "code": "timeoutProvider",
                        "message": "the provider timed out",
                        "taskUUID": T[1],
                    },
                ]
            },
        )
    )
    results = await client.poll(T[:2])
    assert len(api.calls) == 1 and sleeps == []  # not retried as a request fault
    assert all(
        isinstance(r, Failed) and r.error.error_class is ErrorClass.TRANSIENT
        for r in results.values()
    )

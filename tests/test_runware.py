"""The Runware client at the HTTP boundary (respx)."""

import base64
import json
import logging

import httpx
import pytest
import respx

from services.catalog import Mode, load_catalog, validate_params
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
)

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
    params = validate_params(model, mode, chosen or {})
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

EXPECTED_T2V = {
    "google:3@0": {"model": "google:3@0", "duration": 8, "width": 1280, "height": 720},
    "google:3@1": {"model": "google:3@1", "duration": 8, "width": 1280, "height": 720},
    "google:2@0": {"model": "google:2@0", "duration": 8, "width": 1280, "height": 720},
    "vidu:1@1": {"model": "vidu:1@1", "duration": 5, "width": 1920, "height": 1080},
    "vidu:1@5": {"model": "vidu:1@5", "duration": 4, "width": 1280, "height": 720},
}
EXPECTED_I2V = {
    "google:3@0": {"model": "google:3@0", "duration": 8, **NESTED},
    "google:3@1": {"model": "google:3@1", "duration": 8, **NESTED},
    "google:2@0": {"model": "google:2@0", "duration": 8, **NESTED},
    "vidu:1@1": {"model": "vidu:1@1", "duration": 5, **NESTED},
    "vidu:1@5": {"model": "vidu:1@5", "duration": 4, **NESTED},
    "vidu:2@0": {"model": "vidu:2@0", "duration": 4, **NESTED},
}


def test_every_model_is_covered():
    assert set(EXPECTED_T2V) == {m.id for m in CATALOG.for_mode(Mode.T2V)}
    assert set(EXPECTED_I2V) == {m.id for m in CATALOG.for_mode(Mode.I2V)}


@pytest.mark.parametrize("model_id", sorted(EXPECTED_T2V))
async def test_t2v_task_bodies(client, api, model_id):
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    assert await client.submit_video(request_for(model_id, "t2v")) == BASE["taskUUID"]
    assert bodies(api) == [[{**BASE, **EXPECTED_T2V[model_id]}]]


@pytest.mark.parametrize("model_id", sorted(EXPECTED_I2V))
async def test_i2v_task_bodies(client, api, model_id):
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    await client.submit_video(request_for(model_id, "i2v", images=("img-9",)))
    assert bodies(api) == [[{**BASE, **EXPECTED_I2V[model_id]}]]


@pytest.mark.parametrize(
    ("model_id", "mode", "chosen", "extra"),
    [
        (
            "google:3@0",
            "t2v",
            {"settings": {"generateAudio": False}},
            {"providerSettings": {"google": {"generateAudio": False}}},
        ),
        ("google:3@0", "t2v", {"settings": {"generateAudio": True}}, {}),
        (
            "google:2@0",
            "t2v",
            {"duration": 5, "settings": {"enhancePrompt": False}},
            {"duration": 5, "providerSettings": {"google": {"enhancePrompt": False}}},
        ),
        (
            "vidu:1@5",
            "t2v",
            {"settings": {"bgm": True, "movementAmplitude": "large", "style": "general"}},
            {"providerSettings": {"vidu": {"bgm": True, "movementAmplitude": "large"}}},
        ),
        (
            "vidu:1@5",
            "t2v",
            {"duration": 8, "size": "720x1280"},
            {"duration": 8, "width": 720, "height": 1280},
        ),
        (
            "vidu:1@1",
            "t2v",
            {"settings": {"style": "anime"}},
            {"providerSettings": {"vidu": {"style": "anime"}}},
        ),
        (
            "vidu:2@0",
            "i2v",
            {"settings": {"movementAmplitude": "small"}},
            {"providerSettings": {"vidu": {"movementAmplitude": "small"}}},
        ),
    ],
)
async def test_only_changed_provider_settings_are_sent(client, api, model_id, mode, chosen, extra):
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    images = ("img-9",) if mode == "i2v" else ()
    await client.submit_video(request_for(model_id, mode, chosen, images=images))
    expected = {**BASE, **(EXPECTED_T2V if mode == "t2v" else EXPECTED_I2V)[model_id], **extra}
    assert bodies(api) == [[expected]]


async def test_flat_frame_images_where_the_catalog_says_so(client, api):
    api.mock(return_value=ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}))
    veo2 = CATALOG.get("google:2@0").model_copy(update={"frame_images": "flat"})
    params = validate_params(veo2, "i2v", {})
    await client.submit_video(VideoRequest(BASE["taskUUID"], veo2, params, "", ("a", "b")))
    [[task]] = bodies(api)
    assert task["frameImages"] == [
        {"inputImage": "a", "frame": "first"},
        {"inputImage": "b", "frame": "last"},
    ]
    assert "inputs" not in task and "positivePrompt" not in task and "width" not in task


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
    assert await client.submit_video(request_for("google:3@0", "t2v")) == BASE["taskUUID"]
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
        await client.submit_video(request_for("google:3@0", "t2v"))
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
        await client.submit_video(request_for("google:3@0", "t2v"))


async def test_data_as_an_object_is_read(client, api):
    api.mock(
        return_value=httpx.Response(
            200, json={"data": {"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}}
        )
    )
    assert await client.submit_video(request_for("google:3@0", "t2v")) == BASE["taskUUID"]


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
    assert await client.submit_video(request_for("google:3@0", "t2v")) == BASE["taskUUID"]
    sent = bodies(api)
    assert len(sent) == 3
    assert {task[0]["taskUUID"] for task in sent} == {BASE["taskUUID"]}
    assert len(sleeps) == 2 and sleeps[0] <= 1.0 and sleeps[1] <= 2.0


async def test_retries_are_bounded(api, sleeps):
    client = RunwareClient(KEY, URL, RunwareOptions(max_attempts=3), sleep=sleeps)
    api.mock(return_value=httpx.Response(503, text="busy"))
    with pytest.raises(TransientFailure):
        await client.submit_video(request_for("google:3@0", "t2v"))
    assert len(api.calls) == 3 and len(sleeps) == 2
    await client.close()


async def test_retry_after_is_honoured(client, api, sleeps):
    api.mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "7"}, json={"errors": []}),
            ok({"taskType": "videoInference", "taskUUID": BASE["taskUUID"]}),
        ]
    )
    await client.submit_video(request_for("google:3@0", "t2v"))
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
        await client.submit_video(request_for("google:3@0", "t2v"))
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

"""What the fake Runware serves: the December 2026 video lineup with the rules of
shared/docs/runware-models-2026.json, written from that file (not from the bot's catalog), and
the JSON Schemas generated from these rules. Both fakes (respx `FakeRunware` and the HTTP
`RunwareServer`) validate every task with `check_task`, and the HTTP fake serves the same
schemas at /registry.json and /resolve/<AIR>: a request the fake accepts is one its published
schema accepts, and the other way round."""

from __future__ import annotations

import copy
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
RETIRED = ("google:3@0", "google:3@1", "google:2@0", "vidu:1@5", "openai:3@1", "openai:3@2")

Size = tuple[int, int]
VEO_SIZES: list[Size] = [(1280, 720), (720, 1280), (1920, 1080), (1080, 1920)]
VIDU_2_SIZES: list[Size] = [
    (1920, 1080), (1080, 1080), (1080, 1920), (1280, 720), (720, 720), (720, 1280),
    (640, 360), (360, 360), (360, 640),
]  # fmt: skip
VIDU_Q3_SIZES: list[Size] = [
    (640, 352), (544, 400), (480, 480), (400, 544), (352, 640), (960, 528), (816, 608),
    (720, 720), (608, 816), (528, 960), (1280, 720), (1104, 816), (960, 960), (816, 1104),
    (720, 1280), (1920, 1080), (1674, 1238), (1440, 1440), (1238, 1674), (1080, 1920),
]  # fmt: skip
SEEDANCE_SIZES: list[Size] = [
    (864, 480), (736, 544), (640, 640), (544, 736), (480, 864), (416, 960), (960, 416),
    (1920, 1088), (1664, 1248), (1440, 1440), (1248, 1664), (1088, 1920), (928, 2176),
    (2176, 928),
]  # fmt: skip
WAN_SIZES: list[Size] = [
    (1280, 720), (720, 1280), (960, 960), (1088, 832), (832, 1088), (1920, 1080),
    (1080, 1920), (1440, 1440), (1632, 1248), (1248, 1632),
]  # fmt: skip
BOOL = {"type": "boolean"}

# Per model: durations (enum, or "int"/"number" with bounds), sizes (width/height pairs, or
# None), resolutions, frames (0: no image-to-video; 1: first; 2: first and last), t2v,
# frames_exclude_dims (width/height refused with frame images), dims_required, provider
# settings, top-level settings, top-level extras, prompt limits, extra rules (JSON Schema).
SPEC: dict[str, dict[str, Any]] = {
    "google:3@2": {
        "durations": [4, 6, 7, 8],
        "sizes": VEO_SIZES,
        "resolutions": ["720p", "1080p", "4K"],
        "frames": 2,
        "video_input": True,  # inputs.video: an extension, 7 s
        "frames_exclude_dims": True,
        "exactly_frames_or_dims": True,
        "provider": {"google": {"generateAudio": BOOL, "enhancePrompt": BOOL}},
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "google:3@3": {
        "durations": [4, 6, 7, 8],
        "sizes": [*VEO_SIZES, (3840, 2160), (2160, 3840)],
        "resolutions": ["720p", "1080p", "4K"],
        "frames": 2,
        "video_input": True,  # inputs.video: an extension, 7 s
        "frames_exclude_dims": True,
        "exactly_frames_or_dims": True,
        "provider": {"google": {"generateAudio": BOOL, "enhancePrompt": BOOL}},
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "google:veo@3.1-lite": {
        "durations": [4, 6, 8],
        "sizes": VEO_SIZES,
        "resolutions": ["720p", "1080p"],
        "frames": 1,
        "provider": {"google": {"generateAudio": BOOL, "enhancePrompt": BOOL}},
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "vidu:1@1": {
        "durations": [5],
        "sizes": [(1920, 1080), (1080, 1080), (1080, 1920)],
        "frames": 2,
        "provider": {},  # options need 4 s, the schema allows 5 s only: none usable
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "vidu:2@0": {
        "durations": [4, 8],
        "sizes": VIDU_2_SIZES,
        "frames": 2,
        "t2v": False,
        "provider": {
            "vidu": {
                "movementAmplitude": {"enum": ["auto", "small", "medium", "large"]},
                "bgm": BOOL,
            }
        },
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
        "prompt_required": False,
        "rules": [
            {  # 8 s at 720p only
                "if": {"properties": {"duration": {"const": 8}}, "required": ["duration"]},
                "then": {
                    "anyOf": [
                        {"properties": {"width": {"const": w}, "height": {"const": h}}}
                        for w, h in [(1280, 720), (720, 720), (720, 1280)]
                    ]
                },
            },
            {  # background music at 4 s only
                "if": {
                    "required": ["providerSettings"],
                    "properties": {
                        "providerSettings": {
                            "required": ["vidu"],
                            "properties": {
                                "vidu": {
                                    "required": ["bgm"],
                                    "properties": {"bgm": {"const": True}},
                                }
                            },
                        }
                    },
                },
                "then": {"properties": {"duration": {"const": 4}}},
            },
        ],
    },
    "vidu:4@1": {
        "durations": "int",
        "sizes": VIDU_Q3_SIZES,
        "resolutions": ["360p", "540p", "720p", "1080p"],
        "frames": 1,
        "provider": {"vidu": {"audio": BOOL, "movementAmplitude": {"type": "string"}}},
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "klingai:6@1": {
        "durations": [5, 10],
        "sizes": [(1280, 720), (720, 720), (720, 1280)],
        "frames": 1,
        "top": {
            "negativePrompt": {"type": "string", "maxLength": 2500},
            "CFGScale": {"type": "number", "minimum": 0, "maximum": 1},
        },
        "prompt": (2, 2500),
    },
    "minimax:4@1": {
        "durations": [6, 10],
        "sizes": [(1366, 768), (1920, 1080)],
        "frames": 1,
        "provider": {"minimax": {"promptOptimizer": BOOL}},
        "top": {"fps": {"const": 25}},
        "prompt": (2, 2000),
        "prompt_required": False,
        "rules": [
            {
                "if": {"properties": {"width": {"const": 1920}}, "required": ["width"]},
                "then": {"properties": {"duration": {"const": 6}}},
            }
        ],
    },
    "bytedance:2@2": {
        "durations": "number",
        "duration_range": (1.2, 12),
        "sizes": SEEDANCE_SIZES,
        "resolutions": ["480p", "720p", "1080p"],
        "frames": 1,
        "provider": {"bytedance": {"cameraFixed": BOOL}},
        "top": {"seed": {"type": "integer"}},
        "prompt": (2, 3000),
    },
    "alibaba:wan@2.6": {
        "durations": [5, 10, 15],
        "sizes": WAN_SIZES,
        "resolutions": ["720p", "1080p"],
        "frames": 1,
        "provider": {
            "alibaba": {
                "audio": BOOL,
                "promptExtend": BOOL,
                "shotType": {"enum": ["single", "multi"]},
            }
        },
        "top": {"seed": {"type": "integer"}, "negativePrompt": {"type": "string"}},
        "prompt": (2, 3000),
    },
    "pixverse:1@8": {
        "durations": "int",
        "duration_range": (1, 15),
        "sizes": None,
        "resolutions": ["360p", "540p", "720p", "1080p"],
        "frames": 2,
        "settings": {
            "audio": BOOL,
            "style": {"enum": ["anime", "3d_animation", "clay", "comic", "cyberpunk"]},
            "multiClip": BOOL,
        },
        "top": {"seed": {"type": "integer"}, "negativePrompt": {"type": "string"}},
        "prompt": (2, 2048),
    },
    "runway:1@2": {
        "durations": [5, 8, 10],
        "sizes": [(1280, 720), (720, 1280), (1104, 832), (832, 1104), (960, 960)],
        "frames": 1,
        "dims_required": True,
        "top": {"seed": {"type": "integer"}},
        "prompt": (1, 1000),
        "prompt_required": False,
        "rules": [{"anyOf": [{"required": ["positivePrompt"]}, {"required": ["inputs"]}]}],
    },
}


def request_schema(model_id: str, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of a videoInference task for one model, from its rules."""
    spec = spec if spec is not None else SPEC[model_id]
    props: dict[str, Any] = {
        "taskType": {"const": "videoInference"},
        "taskUUID": {"type": "string", "pattern": UUID4.pattern},
        "model": {"const": model_id},
        "positivePrompt": {
            "type": "string",
            "minLength": spec["prompt"][0],
            "maxLength": spec["prompt"][1],
        },
        "deliveryMethod": {"enum": ["async"]},
        "includeCost": {"type": "boolean"},
        "numberResults": {"type": "integer", "minimum": 1, "maximum": 4},
        "outputFormat": {"enum": ["MP4", "WEBM", "MOV"]},
        "outputType": {"enum": ["URL"]},
        "outputQuality": {"type": "integer", "minimum": 20, "maximum": 99},
        "ttl": {"type": "integer", "minimum": 60},
        "webhookURL": {"type": "string"},
    }
    durations = spec["durations"]
    if isinstance(durations, list):
        props["duration"] = {"enum": durations}
    else:
        low, high = spec.get("duration_range", (1, 16))
        props["duration"] = {
            "type": "integer" if durations == "int" else "number",
            "minimum": low,
            "maximum": high,
        }
    rules: list[dict[str, Any]] = list(copy.deepcopy(spec.get("rules", [])))
    sizes = spec.get("sizes")
    if sizes:
        props["width"] = {"type": "integer", "enum": sorted({w for w, _ in sizes})}
        props["height"] = {"type": "integer", "enum": sorted({h for _, h in sizes})}
        rules.append(
            {
                "if": {"required": ["width"]},
                "then": {
                    "anyOf": [
                        {"properties": {"width": {"const": w}, "height": {"const": h}}}
                        for w, h in sizes
                    ]
                },
            }
        )
    if spec.get("resolutions"):
        props["resolution"] = {"enum": spec["resolutions"]}
        rules.append({"not": {"anyOf": [
            {"required": ["resolution", "width"]}, {"required": ["resolution", "height"]}
        ]}})  # fmt: skip
    frames = spec.get("frames", 0)
    if frames:
        props["inputs"] = {
            "type": "object",
            "additionalProperties": False,
            "required": ["frameImages"],
            "properties": {
                "frameImages": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": frames,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["image", "frame"],
                        "properties": {
                            "image": {"type": "string", "minLength": 1},
                            "frame": {"enum": ["first", "last"] if frames > 1 else ["first"]},
                        },
                    },
                }
            },
        }
    if spec.get("video_input") and "inputs" in props:
        # An extension: inputs.video (a video the model made) instead of frame images; then
        # duration 7 and no width/height, seed or resolution (the Veo 3.1 Fast page).
        inputs = props["inputs"]
        del inputs["required"]
        inputs["properties"]["video"] = {"type": "string", "minLength": 1}
        inputs["oneOf"] = [{"required": ["frameImages"]}, {"required": ["video"]}]
        rules.append({
            "if": {"required": ["inputs"], "properties": {"inputs": {"required": ["video"]}}},
            "then": {
                "properties": {"duration": {"const": 7}},
                "not": {"anyOf": [{"required": [k]} for k in
                                  ("width", "height", "seed", "resolution")]},
            },
        })  # fmt: skip
    if spec.get("provider"):
        props["providerSettings"] = {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                provider: {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": keys,
                    "minProperties": 1,
                }
                for provider, keys in spec["provider"].items()
            },
        }
    if spec.get("settings"):
        props["settings"] = {
            "type": "object",
            "additionalProperties": False,
            "properties": spec["settings"],
        }
    props.update(spec.get("top", {}))
    required = ["taskType", "taskUUID", "model", "duration"]
    if spec.get("prompt_required", True):
        required.append("positivePrompt")
    if spec.get("t2v", True) is False:
        required.append("inputs")
    if spec.get("dims_required"):
        required += ["width", "height"]
    if spec.get("frames_exclude_dims"):
        rules.append({
            "if": {"required": ["inputs"]},
            "then": {"not": {"anyOf": [{"required": ["width"]}, {"required": ["height"]}]}},
        })  # fmt: skip
    if spec.get("exactly_frames_or_dims"):
        rules.append({"anyOf": [{"required": ["inputs"]}, {"required": ["width"]}]})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
        "dependentRequired": {"width": ["height"], "height": ["width"]},
        "allOf": rules,
    }


class Rules:
    """The fake's live lineup: tests retire models and tighten schemas between checks."""

    def __init__(self) -> None:
        self.specs: dict[str, dict[str, Any]] = copy.deepcopy(SPEC)
        self.retired: set[str] = set(RETIRED)
        self._schemas: dict[str, dict[str, Any]] = {}
        self._validators: dict[str, Draft202012Validator] = {}

    def retire(self, model_id: str) -> None:
        self.retired.add(model_id)

    def change(self, model_id: str, **spec: Any) -> None:
        """Change a model's rules (e.g. durations=[5, 10]); its schema follows."""
        self.specs[model_id].update(spec)
        self._schemas.pop(model_id, None)
        self._validators.pop(model_id, None)

    def live(self, model_id: str) -> bool:
        return model_id in self.specs and model_id not in self.retired

    def schema(self, model_id: str) -> dict[str, Any]:
        if model_id not in self._schemas:
            self._schemas[model_id] = request_schema(model_id, self.specs[model_id])
        return self._schemas[model_id]

    def registry(self) -> dict[str, Any]:
        return {
            "version": "2026-12-01",
            "models": {
                m: {"taskType": "videoInference", "id": m.replace(":", "-").replace("@", "-")}
                for m in self.specs
                if self.live(m)
            },
            "modalityTaskTypes": {"video": "videoInference"},
        }

    def check_task(self, task: dict[str, Any]) -> dict[str, Any] | None:
        """None if Runware would accept the videoInference task, else its error object."""
        model = task.get("model")
        if not isinstance(model, str) or not self.live(model):
            return {
                "code": "invalidModel",
                "message": f"Invalid value for model parameter: {model!r} is not a valid AIR "
                "identifier of an available model",
                "parameter": "model",
            }
        if model not in self._validators:
            self._validators[model] = Draft202012Validator(self.schema(model))
        error = best_match(self._validators[model].iter_errors(task))
        if error is None:
            return None
        path = ".".join(str(p) for p in error.absolute_path) or "(request)"
        return {"code": "invalidParameter", "message": error.message[:300], "parameter": path}

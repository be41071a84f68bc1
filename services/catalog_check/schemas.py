"""The requests the catalog can make for a model, checked against its schema (jsonschema), what
the refused ones withdraw, and how a model's state changed between checks."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from jsonschema import exceptions as schema_errors
from jsonschema import validators
from jsonschema.protocols import Validator

from services.catalog import (
    SEED_MAX,
    Catalog,
    Mode,
    ValidParams,
    VideoModel,
    Withdrawal,
    enumerate_choices,
    validate_params,
    video_task,
)

SAMPLE_PROMPT = "A red fox runs through fresh snow at sunrise, cinematic"
SAMPLE_VIDEO = "00000000-0000-4000-8000-000000000000"
FACT_ORDER = ("duration", "resolution", "aspect", "frames", "mode")


class SchemaServiceError(Exception):
    """The schema service is unreachable or answered something we cannot use."""


@dataclass(frozen=True)
class ModelState:
    model_id: str
    status: str  # live | retired | unusable
    reason: str | None
    withdrawn: tuple[Withdrawal, ...]
    usd_cost: float | None
    checked_at: float


def compile_schema(schema: dict[str, Any]) -> Validator:
    try:
        cls = validators.validator_for(schema)
        cls.check_schema(schema)
    except schema_errors.SchemaError as exc:
        raise SchemaServiceError(f"the requestSchema is not a JSON Schema: {exc.message}") from None
    return cls(schema)


def first_error(validator: Validator, task: dict[str, Any]) -> str | None:
    error = schema_errors.best_match(validator.iter_errors(task))
    if error is None:
        return None
    path = ".".join(str(p) for p in error.absolute_path) or "(request)"
    return f"{path}: {error.message[:300]}"


def requests_of(model: VideoModel, catalog: Catalog) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every request the catalog can produce for the model: (task, facts)."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for mode in model.modes:
        frame_counts = (0,) if mode is Mode.T2V else ((1, 2) if model.last_frame else (1,))
        for choice in enumerate_choices(model, mode):
            params = validate_params(model, mode, choice, catalog.pricing)
            if not isinstance(params, ValidParams):
                continue
            for frames in frame_counts:
                images = tuple(str(uuid.uuid4()) for _ in range(frames))
                prompt = "" if mode is Mode.I2V and not model.prompt_required_i2v else SAMPLE_PROMPT
                task = video_task(model, params, prompt, str(uuid.uuid4()), images)
                out.append((task, params.facts(frames)))
        out += _advanced_requests(model, mode, catalog, frame_counts[-1])
    if model.extend:  # the native extension of a video the model made
        params = validate_params(model, Mode.T2V, {"extend": True}, catalog.pricing)
        if isinstance(params, ValidParams):
            task = video_task(model, params, SAMPLE_PROMPT, str(uuid.uuid4()), video=SAMPLE_VIDEO)
            out.append((task, params.facts(0)))
    return out


def _advanced_requests(
    model: VideoModel, mode: Mode, catalog: Catalog, frames: int
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The default choice with the largest seed and with the longest negative prompt the
    catalog lets a user type: the Advanced screen offers them only while the schema takes them
    (Runware documents neither a seed range nor most negative prompt lengths)."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    base = catalog.default_choice(model, mode)
    if base is None:
        return out
    extras: list[dict[str, Any]] = []
    if model.seed:
        extras.append({"seed": SEED_MAX})
    if model.negative_prompt:
        extras.append({"negative": "b" * model.negative_prompt})
    for extra in extras:
        params = validate_params(model, mode, {**base.to_json(), **extra}, catalog.pricing)
        if not isinstance(params, ValidParams):
            continue
        images = tuple(str(uuid.uuid4()) for _ in range(frames))
        prompt = "" if mode is Mode.I2V and not model.prompt_required_i2v else SAMPLE_PROMPT
        task = video_task(model, params, prompt, str(uuid.uuid4()), images)
        out.append((task, params.facts(frames)))
    return out


def withdrawals(
    requests: list[tuple[dict[str, Any], dict[str, Any]]], validator: Validator
) -> list[Withdrawal]:
    """The combinations the schema refuses, each stated as briefly as is true: a single fact
    (duration=15) when every request with it is refused, else the whole combination."""
    checked = [(facts, first_error(validator, task)) for task, facts in requests]
    failing = [(facts, error) for facts, error in checked if error is not None]
    found: list[Withdrawal] = []
    for facts, error in failing:
        if matches(found, facts):
            continue
        path, _, message = error.partition(": ")
        item = Withdrawal(dict(facts), path, message)
        extra = sorted(k for k in facts if k.startswith(("opt.", "adv.")))
        first = ("extend",) if "extend" in facts else ()  # an extension: said as one
        for key in (*first, *FACT_ORDER, *extra):
            with_it = [e for f, e in checked if f.get(key) == facts[key]]
            if with_it and all(e is not None for e in with_it):
                item = Withdrawal({key: facts[key]}, path, message)
                break
        found.append(item)
    return found


def matches(withdrawn: list[Withdrawal], facts: dict[str, Any]) -> bool:
    return any(w.matches(facts) for w in withdrawn)


def unique(items: list[Withdrawal]) -> list[Withdrawal]:
    seen: set[str] = set()
    out: list[Withdrawal] = []
    for item in items:
        key = json.dumps(item.facts, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def state_changes(model: VideoModel, old: ModelState | None, new: ModelState) -> list[str]:
    name = f"{model.name} ({model.id})"
    changes: list[str] = []
    if old is not None and old.status == "retired":
        changes.append(f"{name}: back in Runware's registry")
    if new.status == "unusable" and (old is None or old.status != "unusable"):
        changes.append(f"{name}: hidden, {new.reason}")
    before = {json.dumps(w.facts, sort_keys=True) for w in (old.withdrawn if old else ())}
    after = {json.dumps(w.facts, sort_keys=True) for w in new.withdrawn}
    for item in new.withdrawn:
        if json.dumps(item.facts, sort_keys=True) not in before:
            changes.append(f"{name}: withdrawn {item.describe()}")
    for item in old.withdrawn if old else ():
        if json.dumps(item.facts, sort_keys=True) not in after:
            facts = ", ".join(f"{k}={v}" for k, v in sorted(item.facts.items()))
            changes.append(f"{name}: offered again {facts}")
    return changes

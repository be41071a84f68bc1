"""The model catalog (services/models.toml) and the one function that validates a user's choice."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOG_PATH = Path(__file__).resolve().parent / "models.toml"

SettingValue = bool | str


class Mode(StrEnum):
    T2V = "t2v"
    I2V = "i2v"


class CatalogError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingSpec(_Strict):
    key: str = Field(min_length=1)
    type: Literal["bool", "choice"]
    default: SettingValue
    choices: tuple[str, ...] = ()
    modes: tuple[Mode, ...] = (Mode.T2V, Mode.I2V)
    durations: tuple[int, ...] = ()  # empty: every duration of the model

    @model_validator(mode="after")
    def _consistent(self) -> SettingSpec:
        if self.type == "bool":
            if not isinstance(self.default, bool) or self.choices:
                raise ValueError(f"setting {self.key}: a bool has a true/false default, no choices")
        else:
            if len(self.choices) < 2 or self.default not in self.choices:
                raise ValueError(f"setting {self.key}: needs 2+ choices including the default")
        return self

    def available(self, mode: Mode, duration: int) -> bool:
        return mode in self.modes and (not self.durations or duration in self.durations)


class Price(_Strict):
    base: int = Field(default=0, ge=0)
    per_second: int = Field(default=0, ge=0)
    size_extra: dict[str, int] = {}
    setting_extra: dict[str, int] = {}


class VideoModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9-]+:\d+@\d+$")
    name: str = Field(min_length=1, max_length=40)
    provider: str = Field(pattern=r"^[a-z0-9]+$")
    modes: tuple[Mode, ...] = Field(min_length=1)
    durations: tuple[int, ...] = Field(min_length=1)
    default_duration: int
    duration_sizes: dict[int, tuple[str, ...]] = {}
    sizes: tuple[str, ...] = Field(min_length=1)
    default_size: str
    i2v_sends_size: bool = False
    frame_images: Literal["nested", "flat"] = "nested"
    max_frame_images: int = Field(default=1, ge=1, le=2)
    prompt_min: int = Field(default=2, ge=0)
    prompt_max: int = Field(default=3000, ge=1)
    prompt_required_i2v: bool = True
    settings_in_i2v: bool = True
    settings_durations: tuple[int, ...] = ()
    price: Price
    settings: tuple[SettingSpec, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> VideoModel:
        problems: list[str] = []
        if any(d <= 0 or d > 60 for d in self.durations):
            problems.append("durations must be 1-60 s")
        if self.default_duration not in self.durations:
            problems.append(f"default_duration {self.default_duration} is not in durations")
        for size in self.sizes:
            if parse_size(size) is None:
                problems.append(f"size {size!r} is not WIDTHxHEIGHT")
        if self.default_size not in self.sizes:
            problems.append(f"default_size {self.default_size} is not in sizes")
        for duration, sizes in self.duration_sizes.items():
            if duration not in self.durations:
                problems.append(f"duration_sizes names duration {duration} the model lacks")
            if not set(sizes) <= set(self.sizes):
                problems.append(f"duration_sizes[{duration}] names sizes the model lacks")
        if self.default_size not in self.duration_sizes.get(self.default_duration, self.sizes):
            problems.append("the default size is not allowed at the default duration")
        keys = [s.key for s in self.settings]
        if len(keys) != len(set(keys)):
            problems.append("a setting key is listed twice")
        for key in self.price.setting_extra:
            spec = next((s for s in self.settings if s.key == key), None)
            if spec is None or spec.type != "bool":
                problems.append(f"price.setting_extra names {key!r}, not a bool setting")
        if not set(self.price.size_extra) <= set(self.sizes):
            problems.append("price.size_extra names sizes the model lacks")
        if self.prompt_min > self.prompt_max:
            problems.append("prompt_min is above prompt_max")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def supports(self, mode: Mode) -> bool:
        return mode in self.modes

    def sends_size(self, mode: Mode) -> bool:
        return mode is Mode.T2V or self.i2v_sends_size

    def settings_for(self, mode: Mode, duration: int) -> list[SettingSpec]:
        """The provider settings a user may set for this mode and duration."""
        if mode is Mode.I2V and not self.settings_in_i2v:
            return []
        if self.settings_durations and duration not in self.settings_durations:
            return []
        return [s for s in self.settings if s.available(mode, duration)]

    def sizes_for(self, duration: int) -> tuple[str, ...]:
        return self.duration_sizes.get(duration, self.sizes)

    def min_price(self, mode: Mode) -> int:
        """The cheapest valid combination: what a model button shows as "from N"."""
        return self._min_prices[mode]

    @cached_property
    def _min_prices(self) -> dict[Mode, int]:  # the model list shows them on every visit
        return {
            mode: min(
                self.price_of(duration, size, {})
                for duration in self.durations
                for size in (self.sizes_for(duration) if self.sends_size(mode) else (None,))
            )
            for mode in Mode
        }

    def price_of(self, duration: int, size: str | None, settings: dict[str, SettingValue]) -> int:
        price = self.price.base + self.price.per_second * duration
        if size is not None:
            price += self.price.size_extra.get(size, 0)
        for key, extra in self.price.setting_extra.items():
            if settings.get(key) is True:
                price += extra
        return price


class Catalog(_Strict):
    models: tuple[VideoModel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalog:
        ids = [m.id for m in self.models]
        if len(ids) != len(set(ids)):
            raise ValueError("a model id is listed twice")
        return self

    def get(self, model_id: str) -> VideoModel | None:
        return next((m for m in self.models if m.id == model_id), None)

    def for_mode(self, mode: Mode) -> list[VideoModel]:
        return [m for m in self.models if m.supports(mode)]


def parse_size(size: str) -> tuple[int, int] | None:
    width, sep, height = size.partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        return None
    return int(width), int(height)


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog; CatalogError names the offending entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"model catalog {path}: {exc}") from None
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = list(error["loc"])
        where = "catalog"
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            models = raw.get("models") or []
            entry = models[loc[1]] if loc[1] < len(models) else {}
            name = entry.get("id", f"#{loc[1] + 1}") if isinstance(entry, dict) else loc[1]
            where = f"model {name}"
            loc = loc[2:]
        field_path = ".".join(str(p) for p in loc)
        message = str(error["msg"]).removeprefix("Value error, ")
        raise CatalogError(
            f"model catalog {path.name}: {where}"
            + (f", {field_path}" if field_path else "")
            + f": {message}"
        ) from None


# --- validating a user's choice ----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One readable reason a choice is refused; `code` and `args` let handlers translate it."""

    code: str
    message: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ValidParams:
    """A choice that the model accepts, with every default filled in, and its price in tokens."""

    model_id: str
    mode: Mode
    duration: int
    size: str | None  # None: not sent (image-to-video takes the image's shape)
    settings: dict[str, SettingValue]
    price: int

    def changed_settings(self, model: VideoModel) -> dict[str, SettingValue]:
        """Only what differs from the model's defaults: what goes to Runware."""
        defaults = {s.key: s.default for s in model.settings}
        return {k: v for k, v in self.settings.items() if defaults.get(k) != v}

    def to_json(self) -> dict[str, Any]:
        return {"duration": self.duration, "size": self.size, "settings": dict(self.settings)}


def validate_params(
    model: VideoModel, mode: Mode | str, chosen: dict[str, Any] | None = None
) -> ValidParams | list[Problem]:
    """Check `chosen` ({"duration", "size", "settings": {...}}, all optional) against `model`.

    Returns the normalised parameters with the price, or every problem found."""
    chosen = dict(chosen or {})
    problems: list[Problem] = []
    try:
        mode = Mode(mode)
    except ValueError:
        return [Problem("mode", f"unknown mode {mode!r}", {"mode": mode})]
    if not model.supports(mode):
        return [Problem("mode", f"{model.name} does not do {mode.value}", {"mode": mode.value})]

    unknown = set(chosen) - {"duration", "size", "settings"}
    for key in sorted(unknown):
        problems.append(Problem("unknown", f"unknown parameter {key!r}", {"key": key}))

    duration = chosen.get("duration", model.default_duration)
    if isinstance(duration, str) and duration.isdigit():
        duration = int(duration)
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or duration not in model.durations
    ):
        allowed = ", ".join(str(d) for d in model.durations)
        problems.append(
            Problem("duration", f"duration must be one of {allowed} s", {"allowed": allowed})
        )
        duration = model.default_duration

    size: str | None = None
    if model.sends_size(mode):
        size = chosen.get("size") or model.default_size
        if size not in model.sizes:
            allowed = ", ".join(model.sizes)
            problems.append(Problem("size", f"size must be one of {allowed}", {"allowed": allowed}))
            size = model.default_size
        elif size not in model.sizes_for(duration):
            allowed = ", ".join(model.sizes_for(duration))
            problems.append(
                Problem(
                    "size_for_duration",
                    f"{duration} s is only available at {allowed}",
                    {"duration": duration, "allowed": allowed},
                )
            )
    elif chosen.get("size") is not None:
        problems.append(Problem("size_i2v", "image-to-video takes its size from the image", {}))

    available = {s.key: s for s in model.settings_for(mode, duration)}
    known = {s.key: s for s in model.settings}
    settings: dict[str, SettingValue] = {key: spec.default for key, spec in available.items()}
    raw_settings = chosen.get("settings") or {}
    if not isinstance(raw_settings, dict):
        problems.append(Problem("settings", "settings must be a mapping", {}))
        raw_settings = {}
    for key, value in raw_settings.items():
        spec = available.get(key)
        if spec is None:
            if key in known:
                if value == known[key].default:
                    continue  # the default of a setting that does not apply: nothing to send
                problems.append(_unavailable(model, known[key], mode, duration))
            else:
                problems.append(Problem("unknown", f"unknown setting {key!r}", {"key": key}))
            continue
        if spec.type == "bool" and not isinstance(value, bool):
            problems.append(Problem("bool", f"{key} must be on or off", {"key": key}))
        elif spec.type == "choice" and value not in spec.choices:
            allowed = ", ".join(spec.choices)
            problems.append(
                Problem(
                    "choice", f"{key} must be one of {allowed}", {"key": key, "allowed": allowed}
                )
            )
        else:
            settings[key] = value

    if problems:
        return problems
    return ValidParams(
        model_id=model.id,
        mode=mode,
        duration=duration,
        size=size,
        settings=settings,
        price=model.price_of(duration, size, settings),
    )


def check_prompt(model: VideoModel, mode: Mode | str, text: str | None) -> str | Problem:
    """The prompt trimmed, or why it cannot be used (empty, too short, too long)."""
    prompt = (text or "").strip()
    optional = Mode(mode) is Mode.I2V and not model.prompt_required_i2v
    if not prompt:
        if optional:
            return ""
        return Problem("prompt_empty", "the prompt is empty", {"min": model.prompt_min})
    if len(prompt) < model.prompt_min:
        return Problem(
            "prompt_short",
            f"{len(prompt)} characters, at least {model.prompt_min}",
            {"length": len(prompt), "min": model.prompt_min},
        )
    if len(prompt) > model.prompt_max:
        return Problem(
            "prompt_long",
            f"{len(prompt)} characters, at most {model.prompt_max}",
            {"length": len(prompt), "max": model.prompt_max},
        )
    return prompt


def _unavailable(model: VideoModel, spec: SettingSpec, mode: Mode, duration: int) -> Problem:
    args: dict[str, Any] = {"key": spec.key, "duration": duration}
    if mode is Mode.I2V and not model.settings_in_i2v:
        return Problem("setting_i2v", f"{model.name} takes no {spec.key} with an image", args)
    if mode not in spec.modes:
        return Problem("setting_mode", f"{spec.key} is not available for {mode.value}", args)
    durations = spec.durations or model.settings_durations
    allowed = ", ".join(str(d) for d in durations)
    args["allowed"] = allowed
    return Problem(
        "setting_duration", f"{spec.key} is only available at {allowed} s, not {duration} s", args
    )

"""The model catalog (services/models.toml), the one check of a user's choice, and the
videoInference task a choice becomes.

The file says what each model takes according to Runware's documentation; the live check
(services/catalog_check.py) says what Runware serves today: models it retired and combinations its
published request schema refuses. `Catalog` joins both: menus, cards and jobs only ever see what
is both described here and accepted there."""

from __future__ import annotations

import math
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CATALOG_PATH = Path(__file__).resolve().parent / "models.toml"

OptionValue = bool | str
T = TypeVar("T")
AIR_PATTERN = r"^[A-Za-z0-9._-]+:[A-Za-z0-9._-]+@[A-Za-z0-9._-]+$"
TOP_LEVEL_OPTIONS = ("negativePrompt", "seed", "CFGScale", "fps")


class Mode(StrEnum):
    T2V = "t2v"
    I2V = "i2v"


class CatalogError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Format(_Strict):
    """An aspect ratio at a resolution; `size` is its width x height where the model takes
    pixel sizes (a format without one can only be asked for as `resolution`)."""

    aspect: str = Field(pattern=r"^\d+:\d+$")
    resolution: str = Field(pattern=r"^\d+p$|^4K$")
    size: str | None = Field(default=None, pattern=r"^\d+x\d+$")


class OptionSpec(_Strict):
    """A setting the user may change, and where Runware takes it."""

    key: str = Field(pattern=r"^[a-zA-Z][a-zA-Z0-9]{0,15}$")  # short: it rides in buttons
    path: str
    type: Literal["bool", "choice"]
    default: OptionValue
    choices: tuple[str, ...] = ()
    modes: tuple[Mode, ...] = (Mode.T2V, Mode.I2V)
    durations: tuple[int, ...] = ()  # empty: every duration of the model
    with_frames: bool = True  # False: the model refuses it together with frame images
    usd_per_second: float = Field(default=0.0, ge=0)  # added when a bool option is on

    @model_validator(mode="after")
    def _consistent(self) -> OptionSpec:
        if self.type == "bool":
            if not isinstance(self.default, bool) or self.choices:
                raise ValueError(f"option {self.key}: a bool has a true/false default, no choices")
        elif len(self.choices) < 2 or self.default not in self.choices:
            raise ValueError(f"option {self.key}: needs 2+ choices including the default")
        head, _, rest = self.path.partition(".")
        if head == "providerSettings":
            if rest.count(".") < 1:
                raise ValueError(f"option {self.key}: providerSettings.<provider>.<key>")
        elif head == "settings":
            if not rest:
                raise ValueError(f"option {self.key}: settings.<key>")
        elif self.path not in TOP_LEVEL_OPTIONS:
            raise ValueError(
                f"option {self.key}: path must be providerSettings.<provider>.<key>, "
                f"settings.<key> or one of {', '.join(TOP_LEVEL_OPTIONS)}"
            )
        return self

    def applies(self, mode: Mode, duration: int, frames: int) -> bool:
        return (
            mode in self.modes
            and (not self.durations or duration in self.durations)
            and (frames == 0 or self.with_frames)
        )

    @property
    def values(self) -> tuple[OptionValue, ...]:
        return (True, False) if self.type == "bool" else self.choices


class Price(_Strict):
    """Runware's price in USD: per second by resolution ("*" for any), or per whole video
    ("768p@6" = 0.28) where Runware prices that way; `documented` False marks a conservative
    estimate made while Runware's own price was not known."""

    per_second: dict[str, float] = {}
    per_video: dict[str, float] = {}
    documented: bool = True


class Pricing(_Strict):
    usd_per_token: float = Field(gt=0)
    margin: float = Field(ge=1)

    def tokens(self, usd: float) -> int:
        return max(1, math.ceil(round(usd * self.margin / self.usd_per_token, 6)))


SizeBy = Literal["dims", "resolution", "none"]


class VideoModel(_Strict):
    id: str = Field(pattern=AIR_PATTERN)
    name: str = Field(min_length=1, max_length=40)
    replaces: tuple[str, ...] = ()
    recommended: bool = False
    modes: tuple[Mode, ...] = Field(min_length=1)
    durations: tuple[int, ...] = Field(min_length=1)
    i2v_durations: tuple[int, ...] = ()  # empty: as `durations`
    default_duration: int
    duration_resolutions: dict[int, tuple[str, ...]] = {}  # a duration only at these
    formats: tuple[Format, ...] = Field(min_length=1)
    default_aspect: str = "16:9"
    default_resolution: str
    t2v_size: Literal["dims", "resolution"] = "dims"
    i2v_size: SizeBy = "none"
    last_frame: bool = False
    prompt_min: int = Field(default=2, ge=0)
    prompt_max: int = Field(default=3000, ge=1)
    prompt_required_i2v: bool = True
    options: tuple[OptionSpec, ...] = ()
    price: Price

    @model_validator(mode="after")
    def _consistent(self) -> VideoModel:
        problems: list[str] = []
        if any(d <= 0 or d > 60 for d in self.durations):
            problems.append("durations must be 1-60 s")
        if not set(self.i2v_durations) <= set(self.durations):
            problems.append("i2v_durations must be among durations")
        if self.default_duration not in self.durations:
            problems.append(f"default_duration {self.default_duration} is not in durations")
        for mode in self.modes:
            if self.default_duration_for(mode) not in self.durations_for(mode):
                problems.append(f"no default duration for {mode.value}")
        for duration, resolutions in self.duration_resolutions.items():
            if duration not in self.durations:
                problems.append(f"duration_resolutions names duration {duration} the model lacks")
            if not set(resolutions) <= {f.resolution for f in self.formats}:
                problems.append(f"duration_resolutions[{duration}] names unknown resolutions")
        if self.default_resolution not in {f.resolution for f in self.formats}:
            problems.append(f"default_resolution {self.default_resolution} is not in formats")
        sized = any(f.size for f in self.formats)
        if Mode.T2V in self.modes and self.t2v_size == "dims" and not sized:
            problems.append("t2v_size = dims needs formats with a size")
        if self.i2v_size == "dims" and not any(f.size for f in self.formats):
            problems.append("i2v_size = dims needs formats with a size")
        keys = [o.key for o in self.options]
        if len(keys) != len(set(keys)):
            problems.append("an option key is listed twice")
        paths = [o.path for o in self.options]
        if len(paths) != len(set(paths)):
            problems.append("an option path is listed twice")
        for option in self.options:
            head, _, rest = option.path.partition(".")
            if head == "providerSettings" and rest.split(".")[0] != self.provider:
                problems.append(f"option {option.key}: providerSettings.{self.provider}.<key>")
        all_resolutions = {f.resolution for f in self.formats}
        if not self.price.per_video and not (
            "*" in self.price.per_second or all_resolutions <= set(self.price.per_second)
        ):
            problems.append("price.per_second needs every resolution (or '*')")
        if self.prompt_min > self.prompt_max:
            problems.append("prompt_min is above prompt_max")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def provider(self) -> str:
        """The key of its providerSettings block: the AIR id's prefix."""
        return self.id.split(":", 1)[0]

    @property
    def has_audio(self) -> bool:
        return any(o.key == "audio" for o in self.options)

    def supports(self, mode: Mode) -> bool:
        return mode in self.modes

    def size_by(self, mode: Mode) -> SizeBy:
        return self.t2v_size if mode is Mode.T2V else self.i2v_size

    def durations_for(self, mode: Mode) -> tuple[int, ...]:
        if mode is Mode.I2V and self.i2v_durations:
            return self.i2v_durations
        return self.durations

    def default_duration_for(self, mode: Mode) -> int:
        durations = self.durations_for(mode)
        return self.default_duration if self.default_duration in durations else durations[0]

    def resolutions_for(self, mode: Mode, duration: int) -> tuple[str, ...]:
        """Resolutions the user may pick (empty: none is sent, the image decides)."""
        by = self.size_by(mode)
        if by == "none":
            return ()
        formats = [f for f in self.formats if by == "resolution" or f.size]
        allowed = self.duration_resolutions.get(duration)
        return tuple(
            dict.fromkeys(
                f.resolution for f in formats if allowed is None or f.resolution in allowed
            )
        )

    def aspects_for(self, mode: Mode, resolution: str | None) -> tuple[str, ...]:
        """Aspect ratios the user may pick (only where width/height are sent)."""
        if self.size_by(mode) != "dims":
            return ()
        return tuple(f.aspect for f in self.formats if f.size and f.resolution == resolution)

    def format(self, aspect: str | None, resolution: str | None) -> Format | None:
        return next(
            (f for f in self.formats if f.aspect == aspect and f.resolution == resolution), None
        )

    def options_for(self, mode: Mode, duration: int, frames: int) -> list[OptionSpec]:
        return [o for o in self.options if o.applies(mode, duration, frames)]

    def option(self, key: str) -> OptionSpec | None:
        return next((o for o in self.options if o.key == key), None)

    def usd(self, duration: int, resolution: str | None, options: dict[str, OptionValue]) -> float:
        """Runware's price for one video, in USD (documented, or the conservative estimate)."""
        resolution = resolution or self.default_resolution
        fixed = self.price.per_video.get(f"{resolution}@{duration}")
        if fixed is not None:
            usd = fixed
        else:
            rate = self.price.per_second.get(resolution, self.price.per_second.get("*", 0.0))
            usd = rate * duration
        for option in self.options:
            if option.usd_per_second and options.get(option.key) is True:
                usd += option.usd_per_second * duration
        return usd


class CatalogFile(_Strict):
    """services/models.toml as written."""

    pricing: Pricing
    # Names of models no longer listed (old jobs, cards and the gallery still show them).
    retired_names: dict[str, str] = {}
    models: tuple[VideoModel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CatalogFile:
        ids = [m.id for m in self.models]
        if len(ids) != len(set(ids)):
            raise ValueError("a model id is listed twice")
        replaced = [r for m in self.models for r in m.replaces]
        if len(replaced) != len(set(replaced)):
            raise ValueError("a retired id is replaced by two models")
        if any(m.id in m.replaces for m in self.models):
            raise ValueError("a model replaces itself")
        # A listed model may be named too (the operator keeps a model Runware retired, for the
        # names of old jobs, and says which model takes over): its successor is used only while
        # the live check finds it retired.
        return self


class Catalog:
    """The catalog file joined with what the live check found (`live`)."""

    def __init__(self, data: CatalogFile) -> None:
        self.pricing = data.pricing
        self.models = data.models
        self.retired_names = dict(data.retired_names)
        self.live = LiveState()
        self._by_id = {m.id: m for m in data.models}
        self._memo: dict[tuple[Any, ...], Any] = {}
        self._memo_key: tuple[Any, ...] | None = None

    def _kept(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """`compute()` kept until the live state changes. Why: a model's default and its price
        "from" are found by validating every combination it offers; with twelve models the
        model list took 4.8 ms of the event loop per tap (0.13 ms kept, bench/catalog.py), and
        the parameter screen asks which values are accepted on every change."""
        live_key = self.live.key()
        if live_key != self._memo_key:
            self._memo.clear()
            self._memo_key = live_key
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    # --- what exists ------------------------------------------------------------------------

    def get(self, model_id: str) -> VideoModel | None:
        """The catalog's entry, live or not (names of old jobs, gallery lines)."""
        return self._by_id.get(model_id)

    def is_live(self, model_id: str) -> bool:
        return self.get(model_id) is not None and self.live.usable(model_id)

    def is_retired(self, model_id: str) -> bool:
        """Gone for good: not in the catalog (a 2025 id) or retired by Runware. A model that is
        only withdrawn for now (hidden, suspended) is not retired: it has no successor."""
        return self.get(model_id) is None or model_id in self.live.retired

    def available(self, model_id: str) -> VideoModel | None:
        """The model if a user may make a video with it today."""
        model = self.get(model_id)
        return model if model is not None and self.live.usable(model_id) else None

    def for_mode(self, mode: Mode) -> list[VideoModel]:
        return list(self._kept(("for_mode", mode), lambda: tuple(self._for_mode(mode))))

    def _for_mode(self, mode: Mode) -> Iterator[VideoModel]:
        for m in self.models:
            if m.supports(mode) and self.live.usable(m.id) and self.default_choice(m, mode):
                yield m

    def successor(self, model_id: str) -> VideoModel | None:
        """The live model that takes over from a retired (or unknown) id, if any."""
        seen: set[str] = set()
        current = model_id
        while current not in seen:
            seen.add(current)
            heir = next((m for m in self.models if current in m.replaces), None)
            if heir is None:
                return None
            if self.live.usable(heir.id):
                return heir
            current = heir.id
        return None

    def carry_over(
        self, model_id: str, mode: Mode, params: dict[str, Any]
    ) -> tuple[ValidParams | None, bool]:
        """Stored parameters (a card, a past job, a remembered setting) as a choice today:
        (the choice, whether it moved to a successor because the model was retired). The
        choice is None when neither the model nor a successor can make it."""
        model = self.available(model_id)
        moved = model is None
        if model is None:
            if not self.is_retired(model_id):
                return None, False  # unavailable for now: no successor takes over
            model = self.successor(model_id)
        if model is None or not model.supports(mode):
            return None, moved
        valid = self.validate(model, mode, params)
        if isinstance(valid, ValidParams):
            return valid, moved
        return self.closest(model, mode, params), moved

    def name_of(self, model_id: str) -> str:
        model = self.get(model_id)
        return model.name if model else self.retired_names.get(model_id, model_id)

    # --- choices ----------------------------------------------------------------------------

    def validate(
        self, model: VideoModel, mode: Mode | str, chosen: dict[str, Any] | None, frames: int = 1
    ) -> ValidParams | list[Problem]:
        """validate_params, and refused where the live check withdrew the combination."""
        result = validate_params(model, mode, chosen, self.pricing)
        if isinstance(result, list):
            return result
        withdrawn = self.live.refusal(model.id, result.facts(frames if mode == Mode.I2V else 0))
        if withdrawn is not None:
            return [Problem("withdrawn", f"not accepted by Runware today: {withdrawn}", {})]
        return result

    def default_choice(self, model: VideoModel, mode: Mode) -> ValidParams | None:
        """The model's defaults, or the closest combination the live check left."""
        return self._kept(("default", model.id, mode), lambda: self.closest(model, mode, {}))

    def closest(self, model: VideoModel, mode: Mode, wanted: dict[str, Any]) -> ValidParams | None:
        """The accepted choice nearest to `wanted` (any stored parameters, old or new format):
        duration, resolution, aspect and options are kept where the model still takes them."""
        best: tuple[tuple[float, ...], ValidParams] | None = None
        target = _wanted(model, mode, wanted)
        for choice in enumerate_choices(model, mode):
            valid = self.validate(model, mode, choice)
            if not isinstance(valid, ValidParams):
                continue
            score = _distance(valid, target)
            if best is None or score < best[0]:
                best = (score, valid)
        return best[1] if best else None

    def offered(self, model: VideoModel, mode: Mode, base: ValidParams, name: str) -> list[Any]:
        """The values of one parameter that the user may switch to from `base`: each one is
        accepted (after the parameters that depend on it are adjusted, as apply_choice does)."""
        key = (
            "offered",
            model.id,
            mode,
            base.duration,
            base.resolution,
            base.aspect,
            tuple(sorted(base.options.items())),
            name,
        )
        return list(self._kept(key, lambda: tuple(self._offered(model, mode, base, name))))

    def _offered(self, model: VideoModel, mode: Mode, base: ValidParams, name: str) -> list[Any]:
        values: list[Any] = []
        for value in candidate_values(model, mode, base, name):
            changed = apply_choice(self, model, mode, base, name, value)
            if changed is not None:
                values.append(value)
        return values

    def min_price(self, model: VideoModel, mode: Mode) -> int | None:
        return self._kept(("min_price", model.id, mode), lambda: self._min_price(model, mode))

    def _min_price(self, model: VideoModel, mode: Mode) -> int | None:
        prices = [
            v.price
            for choice in enumerate_choices(model, mode)
            if isinstance(v := self.validate(model, mode, choice), ValidParams)
        ]
        return min(prices) if prices else None


class LiveState:
    """What the live check found (models Runware no longer serves, combinations its schema
    refuses) and models the runner withdrew for a while. Changed only through its methods, each
    of which moves `version` on, so what is computed from it can be kept until it changes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._retired: dict[str, str] = {}  # model id -> why
        self._unusable: dict[str, str] = {}  # model id -> why (every combination withdrawn)
        self._withdrawn: dict[str, tuple[Withdrawal, ...]] = {}
        # model id -> (until, why): its provider failed several jobs in a row
        self._suspended: dict[str, tuple[float, str]] = {}
        self.clock = clock
        self.version = 0

    @property
    def retired(self) -> Mapping[str, str]:
        return MappingProxyType(self._retired)

    @property
    def unusable(self) -> Mapping[str, str]:
        return MappingProxyType(self._unusable)

    @property
    def withdrawn(self) -> Mapping[str, tuple[Withdrawal, ...]]:
        return MappingProxyType(self._withdrawn)

    @property
    def suspended(self) -> Mapping[str, tuple[float, str]]:
        return MappingProxyType(self._suspended)

    def replace(
        self,
        retired: dict[str, str],
        unusable: dict[str, str],
        withdrawn: dict[str, tuple[Withdrawal, ...]],
    ) -> None:
        """The live check's findings, all at once."""
        self._retired, self._unusable = dict(retired), dict(unusable)
        self._withdrawn = {m: tuple(w) for m, w in withdrawn.items() if w}
        self.version += 1

    def retire(self, model_id: str, why: str) -> None:
        self._retired[model_id] = why
        self.version += 1

    def withdraw(self, model_id: str, *items: Withdrawal) -> None:
        self._withdrawn[model_id] = (*self._withdrawn.get(model_id, ()), *items)
        self.version += 1

    def suspend(self, model_id: str, until: float, why: str) -> None:
        self._suspended[model_id] = (until, why)
        self.version += 1

    def usable(self, model_id: str) -> bool:
        return (
            model_id not in self._retired
            and model_id not in self._unusable
            and not self.is_suspended(model_id)
        )

    def is_suspended(self, model_id: str) -> bool:
        entry = self._suspended.get(model_id)
        return entry is not None and entry[0] > self.clock()

    def key(self) -> tuple[int, tuple[str, ...]]:
        """Changes whenever what is usable may have changed (a suspension also ends by time)."""
        now = self.clock()
        return self.version, tuple(m for m, (until, _) in self._suspended.items() if until > now)

    def refusal(self, model_id: str, facts: dict[str, Any]) -> str | None:
        for item in self._withdrawn.get(model_id, ()):
            if item.matches(facts):
                return item.describe()
        return None


@dataclass(frozen=True)
class Withdrawal:
    """A set of facts (mode, duration, resolution, aspect, frames, opt.<key>) the schema
    refuses together, with the schema's path and message."""

    facts: dict[str, Any]
    path: str
    message: str

    def matches(self, facts: dict[str, Any]) -> bool:
        return all(facts.get(k, _MISSING) == v for k, v in self.facts.items())

    def describe(self) -> str:
        what = ", ".join(f"{k}={v}" for k, v in sorted(self.facts.items()))
        return f"{what}: {self.path}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"facts": self.facts, "path": self.path, "message": self.message}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Withdrawal:
        return cls(dict(raw["facts"]), str(raw["path"]), str(raw["message"]))


_MISSING = object()


def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Read and validate the catalog; CatalogError names the offending entry."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"model catalog {path}: {exc}") from None
    try:
        return Catalog(CatalogFile.model_validate(raw))
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
    """A choice that the model accepts, with every option explicit, and its price."""

    model_id: str
    mode: Mode
    duration: int
    resolution: str | None  # None: not sent (the image decides)
    aspect: str | None  # only where width/height are sent
    options: dict[str, OptionValue]
    price: int  # tokens
    usd: float  # Runware's price (documented or estimated)
    size: str | None = None  # width x height, where sent

    def to_json(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect": self.aspect,
            "options": dict(self.options),
        }

    def facts(self, frames: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "mode": self.mode.value,
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect": self.aspect,
            "frames": frames,
        }
        facts.update({f"opt.{k}": v for k, v in self.options.items()})
        return facts


def validate_params(
    model: VideoModel,
    mode: Mode | str,
    chosen: dict[str, Any] | None,
    pricing: Pricing,
) -> ValidParams | list[Problem]:
    """Check `chosen` ({"duration", "resolution", "aspect", "options": {...}}, all optional)
    against what the catalog says of `model`. Returns the parameters with every default filled
    in and the price, or every problem found."""
    chosen = dict(chosen or {})
    problems: list[Problem] = []
    try:
        mode = Mode(mode)
    except ValueError:
        return [Problem("mode", f"unknown mode {mode!r}", {"mode": mode})]
    if not model.supports(mode):
        return [Problem("mode", f"{model.name} does not do {mode.value}", {"mode": mode.value})]
    for key in sorted(set(chosen) - {"duration", "resolution", "aspect", "options"}):
        problems.append(Problem("unknown", f"unknown parameter {key!r}", {"key": key}))

    durations = model.durations_for(mode)
    duration = chosen.get("duration")
    if duration is None:
        duration = model.default_duration_for(mode)
    if isinstance(duration, str) and duration.isdigit():
        duration = int(duration)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration not in durations:
        allowed = ", ".join(str(d) for d in durations)
        problems.append(
            Problem("duration", f"duration must be one of {allowed} s", {"allowed": allowed})
        )
        duration = model.default_duration_for(mode)

    resolutions = model.resolutions_for(mode, duration)
    resolution = chosen.get("resolution")
    aspect = chosen.get("aspect")
    size: str | None = None
    if not resolutions:
        if resolution is not None or aspect is not None:
            problems.append(Problem("size_i2v", "this model takes the size from the image", {}))
        resolution = aspect = None
    else:
        if resolution is None:
            resolution = (
                model.default_resolution
                if model.default_resolution in resolutions
                else resolutions[0]
            )
        if resolution not in resolutions:
            allowed = ", ".join(resolutions)
            exists = resolution in {f.resolution for f in model.formats}
            code = "resolution_for_duration" if exists else "resolution"
            problems.append(
                Problem(
                    code,
                    f"{duration} s is available at {allowed}",
                    {"duration": duration, "allowed": allowed},
                )
            )
        aspects = model.aspects_for(mode, resolution)
        if not aspects:
            if aspect is not None:
                problems.append(Problem("aspect", "the aspect ratio is not chosen here", {}))
            aspect = None
        else:
            if aspect is None:
                aspect = model.default_aspect if model.default_aspect in aspects else aspects[0]
            if aspect not in aspects:
                allowed = ", ".join(aspects)
                problems.append(
                    Problem("aspect", f"aspect must be one of {allowed}", {"allowed": allowed})
                )
            else:
                fmt = model.format(aspect, resolution)
                size = fmt.size if fmt else None

    frames = 1 if mode is Mode.I2V else 0
    available = {o.key: o for o in model.options_for(mode, duration, frames)}
    options: dict[str, OptionValue] = {key: spec.default for key, spec in available.items()}
    raw = chosen.get("options") or {}
    if not isinstance(raw, dict):
        problems.append(Problem("options", "options must be a mapping", {}))
        raw = {}
    for key, value in raw.items():
        spec = available.get(key)
        if spec is None:
            known = model.option(key)
            if known is None:
                problems.append(Problem("unknown", f"unknown option {key!r}", {"key": key}))
            elif value != known.default:
                problems.append(_unavailable(model, known, mode, duration))
            continue  # the default of an option that does not apply here: nothing to send
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
            options[key] = value

    if problems:
        return problems
    usd = model.usd(duration, resolution, options)
    tokens = pricing.tokens(usd)
    return ValidParams(
        model_id=model.id,
        mode=mode,
        duration=duration,
        resolution=resolution,
        aspect=aspect,
        options=options,
        price=tokens,
        usd=usd,
        size=size,
    )


def _unavailable(model: VideoModel, spec: OptionSpec, mode: Mode, duration: int) -> Problem:
    args: dict[str, Any] = {"key": spec.key, "duration": duration}
    if mode is Mode.I2V and not spec.with_frames:
        return Problem("option_i2v", f"{model.name} takes no {spec.key} with an image", args)
    if mode not in spec.modes:
        return Problem("option_mode", f"{spec.key} is not available for {mode.value}", args)
    allowed = ", ".join(str(d) for d in spec.durations)
    args["allowed"] = allowed
    return Problem(
        "option_duration", f"{spec.key} is only available at {allowed} s, not {duration} s", args
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


# --- changing one parameter ----------------------------------------------------------------------


def candidate_values(model: VideoModel, mode: Mode, base: ValidParams, name: str) -> list[Any]:
    if name == "duration":
        return list(model.durations_for(mode))
    if name == "resolution":
        return list(
            dict.fromkeys(
                r for d in model.durations_for(mode) for r in model.resolutions_for(mode, d)
            )
        )
    if name == "aspect":
        return list(dict.fromkeys(f.aspect for f in model.formats if f.size))
    spec = model.option(name)
    return list(spec.values) if spec else []


def apply_choice(
    catalog: Catalog, model: VideoModel, mode: Mode, base: ValidParams, name: str, value: Any
) -> ValidParams | None:
    """`base` with one parameter changed, or None if the model does not take that value.

    Changing the duration keeps the resolution and aspect where the new duration allows them
    (else the nearest that it does) and drops options that exist only at some durations (Vidu's
    music is 4 s only: it starts over off)."""
    chosen = base.to_json()
    if name == "duration":
        if not isinstance(value, int) or value not in model.durations_for(mode):
            return None
        chosen["duration"] = value
        chosen["options"] = {
            k: v
            for k, v in base.options.items()
            if (spec := model.option(k)) is not None and not spec.durations
        }
        resolutions = model.resolutions_for(mode, value)
        if chosen["resolution"] is not None and chosen["resolution"] not in resolutions:
            return _settle(catalog, model, mode, chosen, keep={"duration": value})
    elif name == "resolution":
        if value not in model.resolutions_for(mode, base.duration):
            return None
        chosen["resolution"] = value
        if chosen["aspect"] is not None and chosen["aspect"] not in model.aspects_for(mode, value):
            chosen["aspect"] = None
    elif name == "aspect":
        if value not in model.aspects_for(mode, base.resolution):
            return None
        chosen["aspect"] = value
    else:
        spec = next(
            (
                o
                for o in model.options_for(mode, base.duration, 1 if mode is Mode.I2V else 0)
                if o.key == name
            ),
            None,
        )
        if spec is None or value not in spec.values:
            return None
        chosen["options"] = {**base.options, name: value}
    valid = catalog.validate(model, mode, chosen)
    if isinstance(valid, ValidParams):
        return valid
    return _settle(catalog, model, mode, chosen, keep={name: value}) if name == "duration" else None


def _settle(
    catalog: Catalog, model: VideoModel, mode: Mode, chosen: dict[str, Any], keep: dict[str, Any]
) -> ValidParams | None:
    """The closest accepted choice that keeps the parameter just set."""
    best = catalog.closest(model, mode, chosen)
    if best is None:
        return None
    for key, value in keep.items():
        if getattr(best, key, best.options.get(key)) != value:
            return None
    return best


# --- every choice a model offers -----------------------------------------------------------------


def enumerate_choices(model: VideoModel, mode: Mode) -> Iterator[dict[str, Any]]:
    """Each duration x resolution x aspect with default options, then each single option value
    changed from the default: what the live check validates and what the menus may offer."""
    if not model.supports(mode):
        return
    frames = 1 if mode is Mode.I2V else 0
    for duration in model.durations_for(mode):
        resolutions: tuple[str | None, ...] = model.resolutions_for(mode, duration) or (None,)
        for resolution in resolutions:
            aspects: tuple[str | None, ...] = model.aspects_for(mode, resolution) or (None,)
            for aspect in aspects:
                base = {"duration": duration, "resolution": resolution, "aspect": aspect}
                yield {**base, "options": {}}
                for spec in model.options_for(mode, duration, frames):
                    for value in spec.values:
                        if value != spec.default:
                            yield {**base, "options": {spec.key: value}}


def _wanted(model: VideoModel, mode: Mode, wanted: dict[str, Any]) -> dict[str, Any]:
    """Stored parameters in either format (2025: size + settings; now: resolution, aspect,
    options) as targets for closest()."""
    defaults = {o.key: o.default for o in model.options}
    target: dict[str, Any] = {
        "duration": wanted.get("duration") or model.default_duration_for(mode),
        "resolution": wanted.get("resolution"),
        "aspect": wanted.get("aspect"),
        "options": {**defaults, **dict(wanted.get("options") or {})},
    }
    size = wanted.get("size")
    if isinstance(size, str) and "x" in size:
        w, _, h = size.partition("x")
        if w.isdigit() and h.isdigit() and int(w) and int(h):
            width, height = int(w), int(h)
            g = math.gcd(width, height)
            target["aspect"] = target["aspect"] or f"{width // g}:{height // g}"
            target["resolution"] = target["resolution"] or f"{min(width, height)}p"
    for key, value in (wanted.get("settings") or {}).items():  # 2025 provider settings
        spec = next((o for o in model.options if o.path.rsplit(".", 1)[-1] == key), None)
        if spec is not None:
            target["options"][spec.key] = value
    if model.size_by(mode) != "none":
        target["resolution"] = target["resolution"] or model.default_resolution
    if model.size_by(mode) == "dims":
        target["aspect"] = target["aspect"] or model.default_aspect
    return target


def _res_number(resolution: str | None) -> int:
    if resolution is None:
        return 0
    return 2160 if resolution == "4K" else int(resolution.rstrip("p") or 0)


def _distance(valid: ValidParams, target: dict[str, Any]) -> tuple[float, ...]:
    duration = target.get("duration")
    options = target.get("options") or {}
    return (
        abs(valid.duration - duration) if isinstance(duration, int | float) else 0,
        0 if target.get("aspect") in (None, valid.aspect) else 1,
        abs(_res_number(valid.resolution) - _res_number(target.get("resolution")))
        if target.get("resolution")
        else 0,
        sum(1 for k, v in options.items() if valid.options.get(k, v) != v),
        valid.price,
    )


# --- the task a choice becomes -------------------------------------------------------------------


def video_task(
    model: VideoModel,
    params: ValidParams,
    prompt: str,
    task_uuid: str,
    images: tuple[str, ...] = (),
    *,
    ttl: int | None = None,
) -> dict[str, Any]:
    """The videoInference task: every option the user saw is sent explicitly, each where the
    model takes it; the size as width/height or as resolution, as the model takes it in this
    mode; frame images as inputs.frameImages (first, then last)."""
    task: dict[str, Any] = {
        "taskType": "videoInference",
        "taskUUID": task_uuid,
        "model": model.id,
        "duration": params.duration,
        "deliveryMethod": "async",
        "includeCost": True,
        "numberResults": 1,
        "outputFormat": "MP4",
    }
    if ttl is not None:
        task["ttl"] = ttl
    if prompt:
        task["positivePrompt"] = prompt
    by = model.size_by(params.mode)
    if by == "dims" and params.size is not None:
        width, _, height = params.size.partition("x")
        task["width"], task["height"] = int(width), int(height)
    elif by == "resolution" and params.resolution is not None:
        task["resolution"] = params.resolution
    if images:
        frames = ("first", "last")[: len(images)]
        task["inputs"] = {
            "frameImages": [
                {"image": image, "frame": frame}
                for image, frame in zip(images, frames, strict=False)
            ]
        }
    for option in model.options_for(params.mode, params.duration, len(images)):
        if option.key in params.options:
            _put(task, option.path, params.options[option.key])
    return task


def _put(task: dict[str, Any], path: str, value: OptionValue) -> None:
    *parents, leaf = path.split(".")
    node = task
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value

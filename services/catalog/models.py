"""What each model takes according to Runware's documentation: services/models.toml read into
`VideoModel`s (formats, options, durations, prices), checked when it is loaded."""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

CATALOG_PATH = Path(__file__).resolve().parent.parent / "models.toml"

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
    advanced: bool = False  # on the Advanced screen (prompt enhancement), not the parameters

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
    seed: bool = False  # takes a top-level seed
    negative_prompt: int = Field(default=0, ge=0)  # longest negativePrompt taken (0: none)
    extend: int = Field(default=0, ge=0, le=60)  # extends a video it made by this many s (0: no)
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
        if {"seed", "negativePrompt"} & set(paths):
            problems.append("seed and negativePrompt are `seed` and `negative_prompt`, not options")
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

    @property
    def has_advanced(self) -> bool:
        """Anything for the Advanced screen (the last frame is counted by the caller: it is
        image-to-video only)."""
        return self.seed or self.negative_prompt > 0 or any(o.advanced for o in self.options)

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

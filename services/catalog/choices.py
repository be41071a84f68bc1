"""The one check of a user's choice (`validate_params`, `check_prompt`), what changing one
parameter does to the others (`apply_choice`), and every choice a model offers."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.catalog.models import Mode, OptionSpec, OptionValue, Pricing, VideoModel

if TYPE_CHECKING:
    from services.catalog.live import Catalog


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
    seed: int | None = None  # advanced: a fixed seed (None: Runware picks one)
    negative: str | None = None  # advanced: what the video should avoid (negativePrompt)
    extend: bool = False  # a native extension of a video (inputs.video): no size is sent

    def to_json(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect": self.aspect,
            "options": dict(self.options),
        }
        if self.seed is not None:
            chosen["seed"] = self.seed
        if self.negative is not None:
            chosen["negative"] = self.negative
        if self.extend:
            chosen["extend"] = True
        return chosen

    def facts(self, frames: int) -> dict[str, Any]:
        facts: dict[str, Any] = {
            "mode": self.mode.value,
            "duration": self.duration,
            "resolution": self.resolution,
            "aspect": self.aspect,
            "frames": frames,
        }
        facts.update({f"opt.{k}": v for k, v in self.options.items()})
        if self.seed is not None:
            facts["adv.seed"] = True
        if self.negative is not None:
            facts["adv.negative"] = True
        if self.extend:
            facts["extend"] = True
        return facts


SEED_MIN, SEED_MAX = 1, 2_147_483_647  # Runware documents no range: a positive 32-bit integer
NEGATIVE_MIN = 2  # characters, as the shortest prompt


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
    if chosen.get("extend") not in (None, False):
        return _extension(model, mode, chosen, pricing)
    chosen.pop("extend", None)
    for key in sorted(set(chosen) - {"duration", "resolution", "aspect", "options", *ADVANCED}):
        problems.append(Problem("unknown", f"unknown parameter {key!r}", {"key": key}))
    duration = _duration(model, mode, chosen.get("duration"), problems)
    resolution, aspect, size = _size(model, mode, duration, chosen, problems)
    options = _options(model, mode, duration, chosen.get("options") or {}, problems)
    seed = _seed(model, chosen.get("seed"), problems)
    negative = _negative(model, chosen.get("negative"), problems)
    if problems:
        return problems
    usd = model.usd(duration, resolution, options)
    return ValidParams(
        model_id=model.id,
        mode=mode,
        duration=duration,
        resolution=resolution,
        aspect=aspect,
        options=options,
        price=pricing.tokens(usd),
        usd=usd,
        size=size,
        seed=seed,
        negative=negative,
    )


ADVANCED = ("seed", "negative")


def _extension(
    model: VideoModel, mode: Mode, chosen: dict[str, Any], pricing: Pricing
) -> ValidParams | list[Problem]:
    """A native extension of a video the model made: its extension length, no size (the video
    decides), the model's options; no seed (Runware takes none with inputs.video)."""
    problems: list[Problem] = []
    if chosen.get("extend") is not True or mode is not Mode.T2V or not model.extend:
        return [Problem("extend", f"{model.name} does not extend videos", {})]
    for key in sorted(set(chosen) - {"duration", "resolution", "aspect", "options", "extend"}):
        problems.append(Problem("unknown", f"{key} is not taken with an extension", {"key": key}))
    duration = chosen.get("duration")
    if duration is not None and duration != model.extend:
        problems.append(
            Problem("duration", f"an extension is {model.extend} s", {"allowed": model.extend})
        )
    if chosen.get("resolution") is not None or chosen.get("aspect") is not None:
        problems.append(Problem("size_i2v", "an extension takes the size of the video", {}))
    options = _options(model, mode, model.extend, chosen.get("options") or {}, problems)
    if problems:
        return problems
    usd = model.usd(model.extend, None, options)
    return ValidParams(
        model_id=model.id,
        mode=mode,
        duration=model.extend,
        resolution=None,
        aspect=None,
        options=options,
        price=pricing.tokens(usd),
        usd=usd,
        extend=True,
    )


def _seed(model: VideoModel, seed: Any, problems: list[Problem]) -> int | None:
    if seed is None:
        return None
    if not model.seed:
        problems.append(Problem("seed_model", f"{model.name} takes no seed", {}))
        return None
    if isinstance(seed, str) and seed.strip().isdigit():
        seed = int(seed)
    if not isinstance(seed, int) or isinstance(seed, bool) or not SEED_MIN <= seed <= SEED_MAX:
        problems.append(
            Problem(
                "seed",
                f"the seed is a whole number from {SEED_MIN} to {SEED_MAX}",
                {"min": SEED_MIN, "max": SEED_MAX},
            )
        )
        return None
    return seed


def _negative(model: VideoModel, text: Any, problems: list[Problem]) -> str | None:
    if text is None:
        return None
    if not model.negative_prompt:
        problems.append(Problem("negative_model", f"{model.name} takes no negative prompt", {}))
        return None
    if not isinstance(text, str):
        problems.append(Problem("negative_type", "the negative prompt is text", {}))
        return None
    cleaned = text.strip()
    if not NEGATIVE_MIN <= len(cleaned) <= model.negative_prompt:
        problems.append(
            Problem(
                "negative_length",
                f"{len(cleaned)} characters, {NEGATIVE_MIN}-{model.negative_prompt} taken",
                {"length": len(cleaned), "min": NEGATIVE_MIN, "max": model.negative_prompt},
            )
        )
        return None
    return cleaned


def _duration(model: VideoModel, mode: Mode, duration: Any, problems: list[Problem]) -> int:
    durations = model.durations_for(mode)
    if duration is None:
        return model.default_duration_for(mode)
    if isinstance(duration, str) and duration.isdigit():
        duration = int(duration)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration not in durations:
        allowed = ", ".join(str(d) for d in durations)
        problems.append(
            Problem("duration", f"duration must be one of {allowed} s", {"allowed": allowed})
        )
        return model.default_duration_for(mode)
    return duration


def _size(
    model: VideoModel, mode: Mode, duration: int, chosen: dict[str, Any], problems: list[Problem]
) -> tuple[str | None, str | None, str | None]:
    """(resolution, aspect, the width x height sent for them) chosen or defaulted."""
    resolutions = model.resolutions_for(mode, duration)
    resolution = chosen.get("resolution")
    aspect = chosen.get("aspect")
    if not resolutions:
        if resolution is not None or aspect is not None:
            problems.append(Problem("size_i2v", "this model takes the size from the image", {}))
        return None, None, None
    if resolution is None:
        default = model.default_resolution
        resolution = default if default in resolutions else resolutions[0]
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
        return resolution, None, None
    if aspect is None:
        aspect = model.default_aspect if model.default_aspect in aspects else aspects[0]
    if aspect not in aspects:
        allowed = ", ".join(aspects)
        problems.append(Problem("aspect", f"aspect must be one of {allowed}", {"allowed": allowed}))
        return resolution, aspect, None
    fmt = model.format(aspect, resolution)
    return resolution, aspect, fmt.size if fmt else None


def _options(
    model: VideoModel, mode: Mode, duration: int, raw: Any, problems: list[Problem]
) -> dict[str, OptionValue]:
    """Every option that applies here, with its default unless chosen."""
    frames = 1 if mode is Mode.I2V else 0
    available = {o.key: o for o in model.options_for(mode, duration, frames)}
    options: dict[str, OptionValue] = {key: spec.default for key, spec in available.items()}
    if not isinstance(raw, dict):
        problems.append(Problem("options", "options must be a mapping", {}))
        return options
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
    return options


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


def wanted_params(model: VideoModel, mode: Mode, wanted: dict[str, Any]) -> dict[str, Any]:
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


def distance_to(valid: ValidParams, target: dict[str, Any]) -> tuple[float, ...]:
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

"""The `Catalog` menus, cards and jobs use: the file joined with what the live check
(services/catalog_check.py) found Runware serving today (`LiveState`: models it retired and
combinations its published request schema refuses), so nothing offered is refused there."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from pydantic import ValidationError

from services.catalog.choices import (
    SEED_MAX,
    Problem,
    ValidParams,
    apply_choice,
    candidate_values,
    distance_to,
    enumerate_choices,
    validate_params,
    wanted_params,
)
from services.catalog.models import CATALOG_PATH, CatalogError, CatalogFile, Mode, T, VideoModel


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
        target = wanted_params(model, mode, wanted)
        for choice in enumerate_choices(model, mode):
            valid = self.validate(model, mode, choice)
            if not isinstance(valid, ValidParams):
                continue
            score = distance_to(valid, target)
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

    def advanced(self, model: VideoModel, base: ValidParams) -> AdvancedOffer:
        """What the Advanced screen offers for `base`: each only where the catalog says the
        model takes it and the live check has not withdrawn it."""
        mode = base.mode

        def takes(extra: dict[str, Any]) -> bool:
            return isinstance(self.validate(model, mode, {**base.to_json(), **extra}), ValidParams)

        frames = 1 if mode is Mode.I2V else 0
        switches = tuple(
            o.key
            for o in model.options_for(mode, base.duration, frames)
            if o.advanced and o.type == "bool"
        )
        return AdvancedOffer(
            seed=model.seed and takes({"seed": SEED_MAX}),
            negative=model.negative_prompt if takes({"negative": "ok"}) else 0,
            last_frame=mode is Mode.I2V
            and model.last_frame
            and isinstance(self.validate(model, mode, base.to_json(), frames=2), ValidParams),
            switches=switches,
        )

    def extension(self, model: VideoModel) -> ValidParams | None:
        """The model's native extension of a video it made, where it has one and the live
        check has not withdrawn it."""
        if not model.extend:
            return None
        valid = self.validate(model, Mode.T2V, {"extend": True})
        return valid if isinstance(valid, ValidParams) else None

    def min_price(self, model: VideoModel, mode: Mode) -> int | None:
        return self._kept(("min_price", model.id, mode), lambda: self._min_price(model, mode))

    def _min_price(self, model: VideoModel, mode: Mode) -> int | None:
        prices = [
            v.price
            for choice in enumerate_choices(model, mode)
            if isinstance(v := self.validate(model, mode, choice), ValidParams)
        ]
        return min(prices) if prices else None


@dataclass(frozen=True)
class AdvancedOffer:
    """The advanced options a model takes in a mode: a seed, a negative prompt (its longest
    length; 0: none), a last frame, and the prompt-enhancement switches (option keys)."""

    seed: bool
    negative: int
    last_frame: bool
    switches: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.seed or self.negative > 0 or self.last_frame or bool(self.switches)


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

    def replace_suspended(self, suspended: Mapping[str, tuple[float, str]]) -> None:
        """The fleet's suspensions, as stored (a replica's own ones are among them)."""
        if dict(suspended) != self._suspended:
            self._suspended = dict(suspended)
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
